"""The dlib models the engine runs, loaded once per process from installed packages.

Nothing is downloaded: dlib's HOG face detector is built into dlib (``dlib-bin``, Boost
licence), and the model files ship in the ``face-recognition-models`` wheel (MIT packaging):

- ``shape_predictor_68_face_landmarks.dat`` — the landmarks of the swap. Trained on iBUG
  300-W, whose terms exclude commercial use (see docs/generation.md).
- ``dlib_face_recognition_resnet_model_v1.dat`` — the 128-d identity descriptor used to
  measure swaps (CC0), with ``shape_predictor_5_face_landmarks.dat`` (CC0) for its alignment.

The package's own ``__init__`` imports ``pkg_resources`` (setuptools), so the files are
located through the import system without executing it.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from pathlib import Path
from typing import Any

from generation.landmark.errors import ModelsMissing

LANDMARKS_68 = "shape_predictor_68_face_landmarks.dat"
LANDMARKS_5 = "shape_predictor_5_face_landmarks.dat"
RECOGNITION = "dlib_face_recognition_resnet_model_v1.dat"

_LOCK = threading.Lock()


def dlib_module() -> Any:
    try:
        import dlib
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelsMissing(f"dlib is not importable ({exc}); install dlib-bin.") from exc
    return dlib


@functools.cache
def models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelsMissing("The face-recognition-models package is not installed.")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    if not folder.is_dir():
        raise ModelsMissing(f"face-recognition-models has no models folder at {folder}.")
    return folder


def model_path(name: str) -> Path:
    path = models_dir() / name
    if not path.is_file():
        raise ModelsMissing(f"Model file {name} is missing from {path.parent}.")
    return path


# dlib objects are immutable after loading and safe to share between threads for reading;
# the lock only keeps two threads from loading the same 100 MB file twice.
@functools.cache
def _cached(kind: str) -> Any:
    dlib = dlib_module()
    if kind == "detector":
        return dlib.get_frontal_face_detector()
    if kind == "landmarks68":
        return dlib.shape_predictor(str(model_path(LANDMARKS_68)))
    if kind == "landmarks5":
        return dlib.shape_predictor(str(model_path(LANDMARKS_5)))
    if kind == "recognition":
        return dlib.face_recognition_model_v1(str(model_path(RECOGNITION)))
    raise ValueError(kind)


def load(kind: str) -> Any:
    """``detector``, ``landmarks68``, ``landmarks5`` or ``recognition`` (loaded on first use)."""
    with _LOCK:
        return _cached(kind)
