"""Loading checkpoints saved in the official layouts, refusing unsafe or wrong ones, availability."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from generation.simswap import (
    CheckpointMissing,
    CheckpointRejected,
    SimSwapConfig,
    SimSwapEngine,
    simswap_availability,
)
from generation.simswap.arcface import ArcFace, identity_embedding
from generation.simswap.checkpoints import load_arcface, load_generator
from tests.generation.simswap_media import (
    random_arcface,
    random_generator,
    save_generator_checkpoint,
    save_official_arcface,
)


@pytest.fixture(scope="module")
def arcface() -> ArcFace:
    return random_arcface(seed=1)


@pytest.fixture(scope="module")
def official_files(tmp_path_factory: pytest.TempPathFactory, arcface: ArcFace) -> dict[str, Path]:
    """An operator's checkout: the 224 and 512 generators and ArcFace where SimSwap puts them."""
    root = tmp_path_factory.mktemp("simswap")
    return {
        "224": save_generator_checkpoint(
            random_generator(224, seed=2), root / "checkpoints/people/latest_net_G.pth"
        ),
        "512": save_generator_checkpoint(
            random_generator(512, seed=3), root / "checkpoints/512/550000_net_G.pth"
        ),
        "arcface": save_official_arcface(arcface, root / "arcface_model/arcface_checkpoint.tar"),
    }


def _same_tensors(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("size", [224, 512])
def test_generator_loads_from_the_official_state_dict(official_files: dict[str, Path], size: int) -> None:
    original = random_generator(size, seed=2 if size == 224 else 3)
    loaded = load_generator(official_files[str(size)], size)
    assert _same_tensors(loaded, original)
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    target, identity = torch.rand(1, 3, 64, 64), F.normalize(torch.randn(1, 512), dim=1)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(target, identity), original(target, identity))


@pytest.mark.parametrize("variant", ["zip", "legacy", "dataparallel"])
def test_arcface_loads_from_a_pickled_official_module(
    arcface: ArcFace, tmp_path: Path, official_files: dict[str, Path], variant: str
) -> None:
    if variant == "zip":
        path = official_files["arcface"]
    else:
        path = save_official_arcface(
            arcface,
            tmp_path / "arcface_checkpoint.tar",
            legacy=variant == "legacy",
            wrapped=variant != "legacy",
        )
    assert b"models.arcface_models" in _pickle_bytes(path)  # really the official class path
    loaded = load_arcface(path)
    assert type(loaded) is ArcFace
    assert _same_tensors(loaded, arcface)
    if variant == "zip":  # same tensors in the same places: the same network
        faces = torch.rand(2, 3, 112, 112)
        with torch.inference_mode():
            torch.testing.assert_close(loaded(faces), arcface(faces))


def _pickle_bytes(path: Path) -> bytes:
    import zipfile

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return b"".join(archive.read(n) for n in archive.namelist() if n.endswith(".pkl"))
    return path.read_bytes()


class _RunsShell:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):  # noqa: ANN204 - what a malicious checkpoint would contain
        return (os.system, (self.command,))


class _Evaluates:
    def __reduce__(self):  # noqa: ANN204
        return (eval, ("__import__('pathlib').Path('/tmp').exists()",))


def test_arcface_loader_refuses_a_pickle_that_runs_a_shell_command(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "arcface_checkpoint.tar"
    torch.save({"model": _RunsShell(f"touch {marker}")}, path)
    with pytest.raises(CheckpointRejected, match=r"names (posix|os)\.system, which may not be unpickled"):
        load_arcface(path)
    assert not marker.exists()


@pytest.mark.parametrize("legacy", [False, True])
def test_arcface_loader_refuses_builtins_eval(tmp_path: Path, legacy: bool) -> None:
    path = tmp_path / "arcface_checkpoint.tar"
    torch.save(_Evaluates(), path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(CheckpointRejected, match=r"names builtins\.eval"):
        load_arcface(path)


def test_arcface_loader_refuses_other_classes(tmp_path: Path) -> None:
    path = tmp_path / "counter.tar"
    torch.save(Counter(a=1), path)  # a harmless class, but not one the ArcFace file can contain
    with pytest.raises(CheckpointRejected, match=r"names collections\.Counter"):
        load_arcface(path)

    generator_module = tmp_path / "generator_module.tar"
    torch.save(random_generator(224), generator_module)  # a whole module of another network class
    with pytest.raises(CheckpointRejected, match=r"names generation\.simswap\.generator\.SimSwapGenerator"):
        load_arcface(generator_module)

    sequential = tmp_path / "sequential.tar"
    torch.save(torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3)), sequential)  # allowed layers, wrong root
    with pytest.raises(
        CheckpointRejected, match=r"holds a pickled torch\.nn\.modules\.container\.Sequential"
    ):
        load_arcface(sequential)


def test_generator_loader_accepts_only_plain_state_dicts(tmp_path: Path) -> None:
    whole = tmp_path / "latest_net_G.pth"
    torch.save(random_generator(224), whole)
    with pytest.raises(CheckpointRejected, match="plain state dict of tensors"):
        load_generator(whole, 224)
    evil = tmp_path / "evil_net_G.pth"
    torch.save({"first_layer.1.weight": _Evaluates()}, evil)
    with pytest.raises(CheckpointRejected, match=r"names builtins\.eval"):
        load_generator(evil, 224)


def test_generator_layout_mismatches_are_named(official_files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(CheckpointRejected, match="looks like the 512 model's checkpoint"):
        load_generator(official_files["512"], 224)

    state = torch.load(official_files["224"], weights_only=True)
    del state["BottleNeck.4.style1.linear.bias"]
    state["up2.1.weight"] = torch.zeros(128, 256, 5, 5)
    broken = tmp_path / "broken_net_G.pth"
    torch.save(state, broken)
    with pytest.raises(CheckpointRejected) as excinfo:
        load_generator(broken, 224)
    assert "1 missing: BottleNeck.4.style1.linear.bias" in excinfo.value.message
    assert "up2.1.weight (128, 256, 5, 5) (expected (128, 256, 3, 3))" in excinfo.value.message


def test_checkpoints_without_batch_counters_still_load(
    official_files: dict[str, Path], tmp_path: Path
) -> None:
    # Files written before PyTorch 0.4.1 have no num_batches_tracked; inference does not use it.
    state = torch.load(official_files["224"], weights_only=True)
    trimmed = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    assert len(trimmed) < len(state)
    path = tmp_path / "old_net_G.pth"
    torch.save(trimmed, path)
    loaded = load_generator(path, 224)
    torch.testing.assert_close(loaded.first_layer[1].weight, state["first_layer.1.weight"])


def test_availability_reports_plainly(official_files: dict[str, Path], tmp_path: Path) -> None:
    ok, reason = simswap_availability(SimSwapConfig())
    assert not ok
    assert "not configured" in reason and "CC BY-NC" in reason and "latest_net_G.pth" in reason

    ok, reason = simswap_availability(
        SimSwapConfig(tmp_path / "nowhere.pth", official_files["arcface"], size=224)
    )
    assert (ok, reason) == (False, f"SimSwap generator checkpoint not found at {tmp_path / 'nowhere.pth'}.")

    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint at all")
    ok, reason = simswap_availability(SimSwapConfig(junk, official_files["arcface"]))
    assert not ok and "not a readable torch checkpoint" in reason

    ok, reason = simswap_availability(SimSwapConfig(official_files["512"], official_files["arcface"], 224))
    assert not ok and "looks like the 512 model" in reason

    ok, reason = simswap_availability(SimSwapConfig(official_files["224"], official_files["224"], 224))
    assert not ok and "ArcFace" in reason

    for size in (224, 512):
        settings = {  # as Django settings would name them
            "SIMSWAP_GENERATOR_PATH": str(official_files[str(size)]),
            "SIMSWAP_ARCFACE_PATH": str(official_files["arcface"]),
        }
        ok, reason = simswap_availability({**settings, "SIMSWAP_SIZE": size})
        assert ok, reason
        assert reason.startswith(f"SimSwap {size} model ready")


def test_engine_from_configured_paths(official_files: dict[str, Path], arcface: ArcFace) -> None:
    config = SimSwapConfig(official_files["224"], official_files["arcface"], size=224)
    engine = SimSwapEngine.from_config(config)
    assert engine.size == 224
    crops = np.random.default_rng(0).integers(0, 256, (1, 224, 224, 3), dtype=np.uint8)
    with torch.inference_mode():
        expected = identity_embedding(arcface, torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255)
    # The engine's ArcFace is the checkpoint's, BatchNorm folded: same embedding to float rounding.
    torch.testing.assert_close(engine.embed_aligned(crops), expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(CheckpointMissing, match="No SimSwap generator checkpoint is configured"):
        SimSwapEngine.from_paths(None, official_files["arcface"])  # type: ignore[arg-type]
