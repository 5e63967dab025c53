"""Key handling: sub-key derivation, a keyed random stream and the payload tag.

Everything keyed is derived from the secret with HMAC-SHA-256 and domain-separated labels,
so the embedding pattern and the tag are independent pseudo-random functions of the key.
The random stream is our own SHA-256 counter construction rather than numpy's generators:
a watermark embedded today must be readable after any library upgrade, and numpy does not
promise that ``Generator`` methods keep their output across versions.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

import numpy as np

from watermark.errors import InvalidKey

# Bump when the pattern layout changes: old marks then stop matching instead of misreading.
SCHEME = b"fakeme-watermark-v1"


def check_key(key: object) -> bytes:
    if isinstance(key, bytearray | memoryview):
        key = bytes(key)
    if not isinstance(key, bytes) or not key:
        raise InvalidKey(f"A watermark key must be non-empty bytes, got {type(key).__name__}.")
    return key


def check_keys(keys: bytes | Sequence[bytes]) -> list[bytes]:
    """One key or several (current first, then previous ones for rotation)."""
    if isinstance(keys, bytes | bytearray | memoryview):
        return [check_key(keys)]
    if isinstance(keys, str) or not isinstance(keys, Iterable):
        raise InvalidKey(f"Expected a key (bytes) or a sequence of keys, got {type(keys).__name__}.")
    out = [check_key(k) for k in keys]
    if not out:
        raise InvalidKey("At least one watermark key is needed.")
    return out


def subkey(key: bytes, label: str) -> bytes:
    return hmac.new(key, SCHEME + b"/" + label.encode(), hashlib.sha256).digest()


def random_words(key: bytes, label: str, count: int) -> np.ndarray:
    """``count`` pseudo-random uint32 words: HMAC-SHA-256 in counter mode under a sub-key."""
    seed = subkey(key, label)
    blocks = -(-count // 8)  # 8 words per 32-byte digest
    stream = b"".join(hmac.new(seed, i.to_bytes(8, "big"), hashlib.sha256).digest() for i in range(blocks))
    return np.frombuffer(stream, dtype=">u4")[:count].astype(np.uint32)


def random_unit(key: bytes, label: str, count: int) -> np.ndarray:
    """Uniform floats in [0, 1) from the keyed stream."""
    return random_words(key, label, count).astype(np.float64) / 2.0**32


def permutation(key: bytes, label: str, n: int) -> np.ndarray:
    """A keyed permutation of ``range(n)`` (sort by 64-bit keyed values; ties are impossible in practice)."""
    words = random_words(key, label, 2 * n).astype(np.uint64)
    order_keys = (words[0::2] << np.uint64(32)) | words[1::2]
    return np.argsort(order_keys, kind="stable")


def tag(key: bytes, data: bytes, nbytes: int) -> bytes:
    """The payload's check value: a truncated HMAC-SHA-256 of the data bytes."""
    return hmac.new(subkey(key, "tag"), data, hashlib.sha256).digest()[:nbytes]
