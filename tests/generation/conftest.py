"""Fixtures for the generation API and console tests (the Django layer around the engines).

None is autouse: the engine-only tests in this folder do not touch Django. The API tests ask for
``gen_env`` (through ``pytestmark``), which points media at a temporary folder, uses the bundled
detector for scans, leaves SimSwap unconfigured and lifts the rate limits (one test sets them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The API client of a platform, as the scan tests use it.
from tests.support.scan_fixtures import client_for  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_WEIGHTS = REPO_ROOT / "detection" / "weights" / "fakeme-effnetv2s.safetensors"


@pytest.fixture
def gen_env(settings: Any, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from moderation.core.shared_detector import reset_detectors

    if BUNDLED_WEIGHTS.is_file() and BUNDLED_WEIGHTS.with_suffix(".json").is_file():
        weights = BUNDLED_WEIGHTS
    else:  # the scans' stand-in: same architecture, random weights
        from tests.detection.fakeme_media import make_random_weights

        weights = make_random_weights(tmp_path_factory.mktemp("weights") / "random.safetensors")
    settings.FAKEME_DETECTOR = {**settings.FAKEME_DETECTOR, "WEIGHTS": [weights], "THREADS": 1}
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FAKEME_GENERATION = {
        **settings.FAKEME_GENERATION,
        "SIMSWAP": {"GENERATOR": None, "ARCFACE": None, "SIZE": 224},
        "DEFAULT_ENGINE": "auto",
        "PLATFORM_RATE_LIMIT": "1000/hour",
        "USER_RATE_LIMIT": "1000/hour",
    }
    locmem = "django.core.cache.backends.locmem.LocMemCache"
    settings.CACHES = {"default": {"BACKEND": locmem, "LOCATION": "generation-tests"}}
    yield tmp_path / "media"
    reset_detectors()


@pytest.fixture
def make_platform(db: None) -> Callable[..., Any]:
    from tests.support.factories import PlatformFactory

    return PlatformFactory


@pytest.fixture
def ffhq_bytes(shared_data: Path) -> Callable[[int], bytes]:
    """The JPEG file of FFHQ photo ``n`` (512 px, one face), as a platform would upload it."""

    def read(number: int) -> bytes:
        return (shared_data / "faces-real" / "ffhq-512" / f"{number}.jpg").read_bytes()

    return read
