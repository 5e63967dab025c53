"""The process-wide detection engine: built from ``settings.FAKEME_DETECTOR`` once, then shared.

Web workers build it on first use (or in gunicorn's ``post_worker_init``); Celery workers at
process start (``moderation.tasks``). The classifier weights are cached by the engine itself,
so detectors that differ only in a limit (a platform's max video length) share one model.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings

from detection.engine import Detector

_LOCK = threading.Lock()
_DETECTORS: dict[tuple[Any, ...], Detector] = {}


def _key(overrides: dict[str, Any]) -> tuple[Any, ...]:
    config = settings.FAKEME_DETECTOR
    return (
        tuple(str(p) for p in config["WEIGHTS"]),
        tuple(sorted((k, str(v)) for k, v in config.items() if k != "WEIGHTS")),
        tuple(sorted(overrides.items())),
    )


def get_detector(*, max_video_seconds: float | None = None) -> Detector:
    """The shared detector (raises ``detection.errors.ModelUnavailable`` if the weights cannot load)."""
    overrides = {"max_video_seconds": max_video_seconds} if max_video_seconds else {}
    key = _key(overrides)
    detector = _DETECTORS.get(key)
    if detector is not None:
        return detector
    with _LOCK:
        detector = _DETECTORS.get(key)
        if detector is None:
            detector = Detector.from_settings(settings.FAKEME_DETECTOR, **overrides)
            _DETECTORS[key] = detector
        return detector


def detector_loaded() -> bool:
    return bool(_DETECTORS)


def warm_up() -> Detector:
    detector = get_detector()
    detector.warmup()
    return detector


def reset_detectors() -> None:
    """Forget built detectors (tests that change the weights setting)."""
    with _LOCK:
        _DETECTORS.clear()
