"""Loading the official SimSwap checkpoints without trusting them.

* Generators (``latest_net_G.pth``, ``550000_net_G.pth``) are plain state dicts: read with
  ``torch.load(weights_only=True)``, which builds tensors and containers only.
* ArcFace (``arcface_checkpoint.tar``) is a whole pickled ``models.arcface_models.ResNet`` module,
  which torch's weights-only reader refuses outright (old-format whole-module pickles also carry
  the modules' source). It goes through ``torch.load`` with our own restricted unpickler, whose
  ``find_class`` reaches only an allowlist: the classes that network is made of, each bound to an
  inert stand-in that just receives the pickled attributes (no constructor, no ``__setstate__``,
  no torch module code runs), plus the containers and tensor-rebuild functions of ``torch.save``.
  Anything else a pickle asks for (``os.system``, ``builtins.eval``, another class) is refused
  with :class:`CheckpointRejected`. The tensors are then collected from the stand-ins'
  ``_parameters`` / ``_buffers`` / ``_modules`` and loaded into our :class:`ArcFace`.

Both loaders insist that every key and shape matches (``official_keys_*.txt``, ``arcface_keys.txt``);
only BatchNorm ``num_batches_tracked`` counters (unused at inference) may be absent.
"""

from __future__ import annotations

import _compat_pickle
import os
import pickle
import re
import tarfile
import warnings
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch
from torch import nn

from generation.simswap.arcface import ArcFace
from generation.simswap.errors import CheckpointMissing, CheckpointRejected
from generation.simswap.generator import SIZES, SimSwapGenerator

ModelT = TypeVar("ModelT", bound=nn.Module)

KEY_LISTS = {
    224: Path(__file__).with_name("official_keys_224.txt"),
    512: Path(__file__).with_name("official_keys_512.txt"),
    "arcface": Path(__file__).with_name("arcface_keys.txt"),
}

ARCFACE_CLASS = "models.arcface_models.ResNet"
# Every class the official ArcFace pickle may name: SimSwap's three and the torch layers they use.
_ARCFACE_CLASS_NAMES = (
    ARCFACE_CLASS,
    "models.arcface_models.IRBlock",
    "models.arcface_models.SEBlock",
    "torch.nn.modules.conv.Conv2d",
    "torch.nn.modules.batchnorm.BatchNorm1d",
    "torch.nn.modules.batchnorm.BatchNorm2d",
    "torch.nn.modules.activation.PReLU",
    "torch.nn.modules.activation.Sigmoid",
    "torch.nn.modules.pooling.MaxPool2d",
    "torch.nn.modules.pooling.AdaptiveAvgPool2d",
    "torch.nn.modules.linear.Linear",
    "torch.nn.modules.dropout.Dropout",
    "torch.nn.modules.container.Sequential",
    # A module saved while wrapped for multi-GPU training; its network is ``_modules["module"]``.
    "torch.nn.parallel.data_parallel.DataParallel",
)
# Modules pickled by PyTorch < 1.5 carry a ``_backend`` attribute rebuilt by calling this.
_LEGACY_BACKEND = "torch.nn.backends.thnn._get_thnn_function_backend"


class PickledModule:
    """Inert stand-in for a module class named in a pickle: its instance dict is the pickled state."""

    pickled_name: ClassVar[str] = ""
    dump_patches: ClassVar[bool] = False  # torch.load's source-diff feature must never write files


_STAND_INS: dict[str, type[PickledModule]] = {
    name: type(name.rsplit(".", 1)[1], (PickledModule,), {"pickled_name": name})
    for name in _ARCFACE_CLASS_NAMES
}


def _no_backend() -> None:
    return None


def _allowed_globals() -> dict[str, Any]:
    allowed: dict[str, Any] = dict(_STAND_INS)
    allowed[_LEGACY_BACKEND] = _no_backend
    # Containers and the functions torch.save uses to rebuild tensors and parameters.
    allowed["collections.OrderedDict"] = OrderedDict
    allowed["builtins.set"] = set
    allowed["torch.Size"] = torch.Size
    allowed["torch.device"] = torch.device
    for name in ("_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_parameter"):
        allowed[f"torch._utils.{name}"] = getattr(torch._utils, name)
    for name in dir(torch):
        if isinstance(getattr(torch, name, None), torch.dtype):
            allowed[f"torch.{name}"] = getattr(torch, name)
    return allowed


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can only reach the globals listed in ``_allowed_globals``."""

    allowed: ClassVar[dict[str, Any]] = {}

    def find_class(self, module: str, name: str) -> Any:
        # Protocol-2 pickles spell Python 3 names the Python 2 way (``__builtin__.set``).
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        found = self.allowed.get(f"{module}.{name}")
        if found is None:
            raise pickle.UnpicklingError(f"GLOBAL {module}.{name} is not allowed")
        return found


_RestrictedUnpickler.allowed = _allowed_globals()


class _RestrictedPickleModule:
    """What ``torch.load(pickle_module=...)`` needs: its tensor plumbing, our unpickler."""

    __name__ = "fakeme_restricted_pickle"
    Unpickler = _RestrictedUnpickler

    @staticmethod
    def load(file: Any, **kwargs: Any) -> Any:
        return _RestrictedUnpickler(file, **kwargs).load()


def official_layout(which: int | str) -> list[tuple[str, tuple[int, ...]]]:
    """The documented key/shape list for ``224``, ``512`` or ``"arcface"`` (comment lines skipped)."""
    rows = []
    for line in KEY_LISTS[which].read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        key, shape = line.split("\t")
        rows.append((key, tuple(int(d) for d in shape.split(",")) if shape else ()))
    return rows


def load_generator(path: str | os.PathLike[str], size: int = 224) -> SimSwapGenerator:
    """The official 224 or 512 SimSwap generator from its ``*_net_G.pth`` state dict, in eval mode."""
    path, state, hint = _generator_state(path, size, mmap=False)
    return _build(lambda: SimSwapGenerator(size), state, path, f"SimSwap {size} generator", hint)


def load_arcface(path: str | os.PathLike[str]) -> ArcFace:
    """SimSwap's ArcFace from ``arcface_checkpoint.tar`` (a pickled ``models.arcface_models.ResNet``).

    Also accepts a plain state dict of the same network (e.g. one re-saved by an operator).
    """
    path, state = _arcface_state(path, mmap=False)
    return _build(ArcFace, state, path, "SimSwap ArcFace")


def verify_generator(path: str | os.PathLike[str], size: int = 224) -> None:
    """Raise unless ``path`` would load as the ``size`` generator (reads tensors lazily when it can)."""
    path, state, hint = _generator_state(path, size, mmap=True)
    _check_layout(_meta(lambda: SimSwapGenerator(size)), state, path, f"SimSwap {size} generator", hint)


def verify_arcface(path: str | os.PathLike[str]) -> None:
    """Raise unless ``path`` would load as SimSwap's ArcFace (reads tensors lazily when it can)."""
    path, state = _arcface_state(path, mmap=True)
    _check_layout(_meta(ArcFace), state, path, "SimSwap ArcFace")


def _generator_state(
    path: str | os.PathLike[str], size: int, mmap: bool
) -> tuple[Path, dict[str, torch.Tensor], str]:
    if size not in SIZES:
        raise CheckpointRejected(f"SimSwap has a 224 and a 512 model; size {size} is not one of them.")
    path = _existing_file(path, "SimSwap generator")
    _check_torch_file(path, "SimSwap generator")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap and _is_zip(path))
    except pickle.UnpicklingError as exc:
        raise CheckpointRejected(
            f"Refusing to load {path}: a SimSwap generator checkpoint is a plain state dict of tensors, "
            f"but this file {_unpickling_reason(exc)}."
        ) from exc
    except (RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise CheckpointRejected(f"{path} is not a readable torch checkpoint: {_first_line(exc)}") from exc
    state = _tensor_dict(state, path, "SimSwap generator")
    other = 512 if size == 224 else 224
    hint = ""
    if ("down0.0.weight" in state) == (other == 512):  # only the 512 layout has a down0 stage
        hint = f" It looks like the {other} model's checkpoint: is the SimSwap size set right?"
    return path, state, hint


def _arcface_state(path: str | os.PathLike[str], mmap: bool) -> tuple[Path, dict[str, torch.Tensor]]:
    path = _existing_file(path, "ArcFace")
    _check_torch_file(path, "ArcFace")
    obj = _restricted_load(path, mmap=mmap and _is_zip(path))
    if not isinstance(obj, PickledModule):
        return path, _tensor_dict(obj, path, "ArcFace")
    if obj.pickled_name == "torch.nn.parallel.data_parallel.DataParallel":
        obj = _child(obj, "module")
    if not isinstance(obj, PickledModule) or obj.pickled_name != ARCFACE_CLASS:
        found = obj.pickled_name if isinstance(obj, PickledModule) else type(obj).__name__
        raise CheckpointRejected(
            f"{path} holds a pickled {found}, not SimSwap's ArcFace network ({ARCFACE_CLASS})."
        )
    return path, _module_tensors(obj, path)


def _check_torch_file(path: Path, what: str) -> None:
    """Reject early what torch.save cannot have written (clearer than the unpickler's complaint)."""
    with path.open("rb") as handle:
        head = handle.read(2)
    # The zip format (PyTorch >= 1.6), the older pickle stream (starts with a PROTO opcode), or
    # the oldest tar format.
    if not (zipfile.is_zipfile(path) or head[:1] == b"\x80" or tarfile.is_tarfile(path)):
        raise CheckpointRejected(f"{path} is not a readable torch checkpoint (expected the {what} weights).")


def _is_zip(path: Path) -> bool:
    # torch.load can memory-map only the zip format (PyTorch >= 1.6), not the older one.
    return zipfile.is_zipfile(path)


def _existing_file(path: str | os.PathLike[str] | None, what: str) -> Path:
    if path is None or not str(path).strip():
        raise CheckpointMissing(f"No {what} checkpoint is configured.")
    path = Path(path)
    if not path.is_file():
        raise CheckpointMissing(f"The {what} checkpoint {path} does not exist or is not a file.")
    if not os.access(path, os.R_OK):
        raise CheckpointMissing(f"The {what} checkpoint {path} is not readable.")
    return path


def _restricted_load(path: Path, mmap: bool = False) -> Any:
    # torch.load handles both file formats (zip, and the pre-1.6 one whose whole-module pickles
    # carry the modules' source); our pickle module decides which globals may be reached.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "couldn't retrieve source code" of the stand-ins
            return torch.load(
                path, map_location="cpu", weights_only=False, pickle_module=_RestrictedPickleModule, mmap=mmap
            )
    except pickle.UnpicklingError as exc:
        raise CheckpointRejected(
            f"Refusing to load {path}: this file {_unpickling_reason(exc)}; only {ARCFACE_CLASS}, its "
            "blocks, the torch layers they use and tensors are allowed in SimSwap's ArcFace checkpoint."
        ) from exc
    except Exception as exc:  # any other failure inside the unpickler means "not this checkpoint"
        raise CheckpointRejected(f"{path} is not a readable torch checkpoint: {_first_line(exc)}") from exc


def _child(module: PickledModule, name: str) -> Any:
    modules = vars(module).get("_modules")
    return modules.get(name) if isinstance(modules, Mapping) else None


def _module_tensors(root: PickledModule, path: Path) -> dict[str, torch.Tensor]:
    """The state dict a real module with these pickled attributes would have produced."""
    out: dict[str, torch.Tensor] = {}
    seen: set[int] = set()

    def visit(module: PickledModule, prefix: str) -> None:
        if id(module) in seen:
            raise CheckpointRejected(f"{path}: the pickled network refers to itself.")
        seen.add(id(module))
        state = vars(module)
        skip = state.get("_non_persistent_buffers_set") or ()
        for slot in ("_parameters", "_buffers"):
            tensors = state.get(slot) or {}
            if not isinstance(tensors, Mapping):
                raise CheckpointRejected(f"{path}: {prefix or 'the root module'} has a malformed {slot}.")
            for name, tensor in tensors.items():
                if tensor is None or (slot == "_buffers" and name in skip):
                    continue
                if not isinstance(tensor, torch.Tensor):
                    raise CheckpointRejected(f"{path}: {prefix}{name} is not a tensor.")
                out[prefix + name] = tensor.detach()
        children = state.get("_modules") or {}
        if not isinstance(children, Mapping):
            raise CheckpointRejected(f"{path}: {prefix or 'the root module'} has malformed submodules.")
        for name, child in children.items():
            if child is None:
                continue
            if not isinstance(child, PickledModule):
                raise CheckpointRejected(f"{path}: {prefix}{name} is not a module.")
            visit(child, f"{prefix}{name}.")

    visit(root, "")
    return out


def _tensor_dict(obj: Any, path: Path, what: str) -> dict[str, torch.Tensor]:
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointRejected(f"{path} does not hold a {what} state dict (found {type(obj).__name__}).")
    state: dict[str, torch.Tensor] = {}
    for key, value in obj.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointRejected(f"{path} does not hold a {what} state dict (entry {key!r}).")
        # Weights saved from an nn.DataParallel wrapper carry a "module." prefix.
        state[key.removeprefix("module.")] = value
    return state


def _required(key: str) -> bool:
    return not key.endswith("num_batches_tracked")


def _meta(make: Callable[[], ModelT]) -> ModelT:
    with torch.device("meta"):  # shapes only, no memory, no random initialisation
        return make()


def _check_layout(
    model: nn.Module, state: Mapping[str, torch.Tensor], path: Path, what: str, hint: str = ""
) -> None:
    expected = model.state_dict()
    missing = [k for k in expected if k not in state and _required(k)]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or unexpected or wrong:
        parts = []
        for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
            if items:
                shown = ", ".join(items[:5]) + (f" and {len(items) - 5} more" if len(items) > 5 else "")
                parts.append(f"{len(items)} {label}: {shown}")
        raise CheckpointRejected(
            f"{path} does not match the official {what} layout ({'; '.join(parts)}).{hint}"
        )


def _build(
    make: Callable[[], ModelT], state: Mapping[str, torch.Tensor], path: Path, what: str, hint: str = ""
) -> ModelT:
    """``make()``'s network holding exactly ``state``'s tensors (in eval mode, without gradients)."""
    model = _meta(make)
    _check_layout(model, state, path, what, hint)
    full: dict[str, torch.Tensor] = {}
    for key, meta in model.state_dict().items():
        value = state.get(key)
        if value is None:  # an absent num_batches_tracked counter (unused at inference)
            value = torch.zeros(meta.shape, dtype=meta.dtype)
        elif value.is_floating_point():
            value = value.to(torch.float32).contiguous()
            if not torch.isfinite(value).all():
                raise CheckpointRejected(f"{path}: {key} holds NaN or infinite values.")
        full[key] = value
    # assign=True: the checkpoint's tensors become the parameters (no second copy).
    model.load_state_dict(full, strict=True, assign=True)
    return model.eval().requires_grad_(False)


def _unpickling_reason(exc: pickle.UnpicklingError) -> str:
    """What the restricted unpickler refused, in a sentence (torch's own message is long)."""
    found = re.search(r"GLOBAL ([\w.]+)", str(exc))
    if found:
        name = found.group(1)
        if "." not in name:  # torch's weights-only reader prints builtins without their module
            name = f"builtins.{name}"
        return f"names {name}, which may not be unpickled"
    return f"cannot be unpickled safely ({_first_line(exc)})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
