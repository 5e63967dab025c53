"""Helpers for the SimSwap tests: checkpoints written in the official layouts, and test faces.

The official weights are unavailable here (CC BY-NC), so the tests save randomly initialised
networks exactly the way the official files were saved:

* generators: ``torch.save(net.state_dict(), ".../latest_net_G.pth")``;
* ArcFace: ``torch.save(resnet_module, "arcface_checkpoint.tar")`` where the module's class path
  is ``models.arcface_models.ResNet``. For that, a throwaway ``models.arcface_models`` module is
  put in ``sys.modules`` with subclasses of our ArcFace classes renamed to the official class
  names, the module is pickled, and ``sys.modules`` is restored: the loader under test never sees
  those classes.
"""

from __future__ import annotations

import copy
import sys
import types
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from generation.simswap.arcface import ArcFace, IRBlock, SEBlock
from generation.simswap.generator import SimSwapGenerator

OFFICIAL_NAMES = {ArcFace: "ResNet", IRBlock: "IRBlock", SEBlock: "SEBlock"}


@contextmanager
def official_arcface_module() -> Iterator[dict[type, type]]:
    """Temporarily importable ``models.arcface_models`` whose classes pickle under the official names."""
    package = types.ModuleType("models")
    module = types.ModuleType("models.arcface_models")
    package.arcface_models = module  # type: ignore[attr-defined]
    renamed: dict[type, type] = {}
    for ours, name in OFFICIAL_NAMES.items():
        cls = type(name, (ours,), {"__module__": module.__name__, "__qualname__": name})
        setattr(module, name, cls)
        renamed[ours] = cls
    saved = {name: sys.modules.get(name) for name in ("models", "models.arcface_models")}
    sys.modules.update({"models": package, "models.arcface_models": module})
    try:
        yield renamed
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous


def save_official_arcface(model: ArcFace, path: Path, *, legacy: bool = False, wrapped: bool = False) -> Path:
    """Pickle ``model`` as a whole ``models.arcface_models.ResNet`` module, as SimSwap ships it.

    ``legacy``: PyTorch's pre-1.6 file format (its whole-module pickles also record the source of
    every module class); ``wrapped``: inside ``nn.DataParallel``, as a multi-GPU training run saves it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with official_arcface_module() as renamed:
        clone = copy.deepcopy(model)
        for submodule in clone.modules():
            if type(submodule) in renamed:
                submodule.__class__ = renamed[type(submodule)]
        assert f"{type(clone).__module__}.{type(clone).__qualname__}" == "models.arcface_models.ResNet"
        obj = torch.nn.DataParallel(clone) if wrapped else clone
        with warnings.catch_warnings():
            # The legacy format records each module class's source; the stand-in classes have none.
            warnings.filterwarnings("ignore", message="Couldn't retrieve source code")
            torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return path


def save_generator_checkpoint(model: SimSwapGenerator, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    return path


def random_generator(size: int, seed: int = 0) -> SimSwapGenerator:
    torch.manual_seed(seed)
    generator = SimSwapGenerator(size).eval()
    # Give BatchNorm non-trivial running statistics so a wrongly placed tensor would show.
    with torch.no_grad():
        for module in generator.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    return generator


def random_arcface(seed: int = 0) -> ArcFace:
    torch.manual_seed(seed)
    arcface = ArcFace().eval()
    with torch.no_grad():
        for module in arcface.modules():
            if isinstance(module, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    return arcface


def ffhq_faces(shared_data: Path, count: int) -> list[np.ndarray]:
    """The first ``count`` shared FFHQ photos (512 px, one face each) as RGB arrays."""
    paths = sorted((shared_data / "faces-real" / "ffhq-512").glob("*.jpg"))[:count]
    assert len(paths) == count, "the shared FFHQ folder has fewer photos than needed"
    return [np.asarray(Image.open(p).convert("RGB")) for p in paths]
