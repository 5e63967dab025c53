"""Framing, the convolutional code, the keyed stream and the false-positive bound."""

from __future__ import annotations

import numpy as np
import pytest

from watermark import codec, keys, recovery
from watermark.layout import BITS_PER_RAW, TEMPLATE_LINES
from watermark.pattern import ROLE_SYNC, ROLE_TEMPLATE, pattern_for


def test_frame_sizes() -> None:
    assert codec.PAYLOAD_BITS >= 40
    assert codec.MESSAGE_BITS == codec.PAYLOAD_BITS + codec.TAG_BITS
    assert codec.RAW_BITS == 172 >= 64


def test_encode_decode_clean() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        message = rng.integers(0, 2, codec.MESSAGE_BITS).astype(np.uint8)
        word = codec.encode(message)
        assert word.shape == (codec.RAW_BITS,)
        assert np.array_equal(codec.viterbi(2.0 * word - 1.0), message)


def test_corrects_any_four_hard_errors() -> None:
    """Free distance 10: maximum-likelihood decoding corrects every pattern of 4 errors."""
    rng = np.random.default_rng(1)
    for _ in range(200):
        message = rng.integers(0, 2, codec.MESSAGE_BITS).astype(np.uint8)
        soft = 2.0 * codec.encode(message) - 1.0
        soft[rng.choice(codec.RAW_BITS, 4, replace=False)] *= -1
        assert np.array_equal(codec.viterbi(soft), message)


def test_soft_decoding_at_ten_percent_raw_errors() -> None:
    """Gaussian noise flipping ~10 % of the raw bits: nearly every frame still decodes."""
    rng = np.random.default_rng(2)
    messages = rng.integers(0, 2, (100, codec.MESSAGE_BITS)).astype(np.uint8)
    clean = 2.0 * np.stack([codec.encode(m) for m in messages]) - 1.0
    noisy = clean + rng.normal(0.0, 0.78, clean.shape)
    raw_errors = np.mean((noisy > 0) != (clean > 0))
    assert 0.08 < raw_errors < 0.12
    decoded = codec.viterbi(noisy)
    assert np.mean(np.all(decoded == messages, axis=1)) >= 0.9


def test_payload_forms() -> None:
    assert codec.payload_to_bytes(1) == b"\x00\x00\x00\x00\x01"
    assert codec.payload_to_bytes(b"abcde") == b"abcde"
    assert codec.payload_to_bytes(np.int64(2**40 - 1)) == b"\xff" * 5


def test_message_carries_the_keyed_tag() -> None:
    bits = codec.message_bits(b"hello", b"k1")
    data, check = codec.split_message(bits)
    assert data == b"hello"
    assert check == keys.tag(b"k1", b"hello", codec.TAG_BYTES)
    assert check != keys.tag(b"k2", b"hello", codec.TAG_BYTES)


def test_keyed_stream_is_pinned() -> None:
    """HMAC-SHA-256 counter mode, independent of numpy's generators: marks stay readable
    across library upgrades. Changing these values breaks every mark already embedded."""
    assert keys.random_words(b"k", "phase", 4).tolist() == [545964584, 4251791041, 2680141819, 2088369075]
    assert keys.tag(b"k", b"\x00" * 5, 5).hex() == "2d770b3fcb"
    assert keys.permutation(b"k", "bins", 8).tolist() == [5, 7, 2, 6, 4, 0, 1, 3]


def test_pattern_is_pinned() -> None:
    """The frequency layout and roles for a fixed key. A change here means marks embedded before
    it are no longer found: only on purpose, with ``keys.SCHEME`` bumped."""
    import hashlib

    pattern = pattern_for(b"k")
    raw = pattern.bins.astype("<i4").tobytes() + pattern.role.astype("<i4").tobytes()
    assert hashlib.sha256(raw).hexdigest()[:16] == "3fb370d997d4b6e6"


def test_pattern_layout() -> None:
    pattern = pattern_for(b"layout-key")
    roles = pattern.role
    assert np.count_nonzero(roles == ROLE_TEMPLATE) == TEMPLATE_LINES
    counts = np.bincount(roles[roles >= 0], minlength=codec.RAW_BITS)
    assert np.all(counts == BITS_PER_RAW)
    assert np.count_nonzero(roles == ROLE_SYNC) > 100
    other = pattern_for(b"other-key")
    assert not np.array_equal(pattern.phase, other.phase)
    assert not np.array_equal(pattern.role, other.role)


def test_false_positive_bound_below_1e9() -> None:
    """Each decoded candidate matches the 40-bit keyed tag with probability 2^-40; at most
    CANDIDATES per key and MAX_KEYS keys are decoded per image."""
    bound = recovery.MAX_KEYS * recovery.CANDIDATES * 2.0**-codec.TAG_BITS
    assert bound < 1e-9
    assert bound == pytest.approx(5.82e-11, rel=1e-2)
