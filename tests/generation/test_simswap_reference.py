"""Our networks' forward passes against a second, functional reading of the official source.

The reference below works on the state dict alone, op by op, as SimSwap's ``fs_networks.py`` /
``fs_networks_512.py`` and ``arcface_models.py`` describe them: reflection padding, BatchNorm with
eps 1e-5 in the encoder and decoder, parameter-free instance norm (eps 1e-8) + ``x·(1+s)+b`` with
the scale in the first half of the style vector, ReLU only after the first AdaIN half, a residual
sum, bilinear ×2 upsampling with ``align_corners=False``, tanh and ``(x+1)/2``; ArcFace's unpadded
stem, 2×2 max-pool, pre-activation IR blocks with one shared PReLU, squeeze-excitation, projected
shortcuts and the BN→flatten→linear→BN1d head. A module wired differently (another activation
order, a missing residual, another upsampling mode, another key in a layer's place) disagrees.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from generation.simswap.inference import prepare_for_cpu
from tests.generation.simswap_media import random_arcface, random_generator

State = dict[str, torch.Tensor]


def _conv(x: torch.Tensor, sd: State, key: str, stride: int = 1, padding: int = 0) -> torch.Tensor:
    return F.conv2d(x, sd[f"{key}.weight"], sd.get(f"{key}.bias"), stride=stride, padding=padding)


def _bn(x: torch.Tensor, sd: State, key: str) -> torch.Tensor:
    return F.batch_norm(
        x, sd[f"{key}.running_mean"], sd[f"{key}.running_var"], sd[f"{key}.weight"], sd[f"{key}.bias"],
        training=False, eps=1e-5,
    )  # fmt: skip


def _reflect(x: torch.Tensor, pad: int) -> torch.Tensor:
    return F.pad(x, (pad, pad, pad, pad), mode="reflect")


def reference_generator(sd: State, target: torch.Tensor, identity: torch.Tensor, size: int) -> torch.Tensor:
    x = F.relu(_bn(_conv(_reflect(target, 3), sd, "first_layer.1"), sd, "first_layer.2"))
    for stage in (["down0"] if size == 512 else []) + ["down1", "down2", "down3"]:
        x = F.relu(_bn(_conv(x, sd, f"{stage}.0", stride=2, padding=1), sd, f"{stage}.1"))

    def adain_half(y: torch.Tensor, block: int, half: int) -> torch.Tensor:
        y = _conv(_reflect(y, 1), sd, f"BottleNeck.{block}.conv{half}.1")
        y = y - y.mean((2, 3), keepdim=True)
        y = y / torch.sqrt(y.pow(2).mean((2, 3), keepdim=True) + 1e-8)
        style = F.linear(identity, sd[f"BottleNeck.{block}.style{half}.linear.weight"],
                         sd[f"BottleNeck.{block}.style{half}.linear.bias"])  # fmt: skip
        scale, shift = style[:, :512, None, None], style[:, 512:, None, None]
        return y * (scale + 1) + shift

    for block in range(9):
        x = x + adain_half(F.relu(adain_half(x, block, 1)), block, 2)
    for stage in ["up3", "up2", "up1"] + (["up0"] if size == 512 else []):
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = F.relu(_bn(_conv(x, sd, f"{stage}.1", padding=1), sd, f"{stage}.2"))
    return (torch.tanh(_conv(_reflect(x, 3), sd, "last_layer.1")) + 1) / 2


def reference_arcface(sd: State, faces: torch.Tensor) -> torch.Tensor:
    def prelu(x: torch.Tensor, key: str) -> torch.Tensor:
        return F.prelu(x, sd[key])

    x = F.max_pool2d(prelu(_bn(_conv(faces, sd, "conv1"), sd, "bn1"), "prelu.weight"), 2, 2)
    for layer, blocks in enumerate((3, 4, 23, 3), start=1):
        for b in range(blocks):
            p, stride = f"layer{layer}.{b}", 2 if b == 0 and layer > 1 else 1
            out = _conv(_bn(x, sd, f"{p}.bn0"), sd, f"{p}.conv1", padding=1)
            out = prelu(_bn(out, sd, f"{p}.bn1"), f"{p}.prelu.weight")
            out = _bn(_conv(out, sd, f"{p}.conv2", stride=stride, padding=1), sd, f"{p}.bn2")
            squeeze = F.linear(out.mean((2, 3)), sd[f"{p}.se.fc.0.weight"], sd[f"{p}.se.fc.0.bias"])
            excite = F.linear(prelu(squeeze, f"{p}.se.fc.1.weight"), sd[f"{p}.se.fc.2.weight"],
                              sd[f"{p}.se.fc.2.bias"])  # fmt: skip
            out = out * torch.sigmoid(excite)[:, :, None, None]
            shortcut = x
            if f"{p}.downsample.0.weight" in sd:
                shortcut = _bn(_conv(x, sd, f"{p}.downsample.0", stride=stride), sd, f"{p}.downsample.1")
            x = prelu(out + shortcut, f"{p}.prelu.weight")
    x = _bn(x, sd, "bn2").flatten(1)
    x = F.linear(x, sd["fc.weight"], sd["fc.bias"])
    return F.batch_norm(x, sd["bn3.running_mean"], sd["bn3.running_var"], sd["bn3.weight"], sd["bn3.bias"])


@pytest.mark.parametrize("size", [224, 512])
def test_generator_forward_matches_the_reference(size: int) -> None:
    generator = random_generator(size, seed=11)
    state = {k: v.clone() for k, v in generator.state_dict().items()}
    target = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(5))
    identity = F.normalize(torch.randn(1, 512, generator=torch.Generator().manual_seed(6)), dim=1)
    with torch.inference_mode():
        expected = reference_generator(state, target, identity, size)
        torch.testing.assert_close(generator(target, identity), expected, rtol=1e-4, atol=1e-5)
        prepared = prepare_for_cpu(generator)  # the engine's folded, channels_last copy
        torch.testing.assert_close(prepared(target, identity), expected, rtol=1e-4, atol=1e-5)


def test_arcface_forward_matches_the_reference() -> None:
    arcface = random_arcface(seed=12)
    state = {k: v.clone() for k, v in arcface.state_dict().items()}
    faces = torch.rand(1, 3, 112, 112, generator=torch.Generator().manual_seed(7))
    with torch.inference_mode():
        expected = reference_arcface(state, faces)
        torch.testing.assert_close(arcface(faces), expected, rtol=1e-3, atol=1e-4)
        torch.testing.assert_close(prepare_for_cpu(arcface)(faces), expected, rtol=1e-3, atol=1e-4)
