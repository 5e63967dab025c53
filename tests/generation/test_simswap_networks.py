"""Our SimSwap generators and ArcFace: the official key/shape layouts, and real forward passes on CPU."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from generation.simswap.arcface import ArcFace, identity_embedding
from generation.simswap.checkpoints import KEY_LISTS, official_layout
from generation.simswap.generator import ApplyStyle, InstanceNorm, SimSwapGenerator
from generation.simswap.inference import prepare_for_cpu
from tests.generation.simswap_media import random_arcface, random_generator


def _layout(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(key, tuple(value.shape)) for key, value in model.state_dict().items()]


@pytest.mark.parametrize("size", [224, 512])
def test_generator_state_dict_matches_the_official_key_list(size: int) -> None:
    with torch.device("meta"):
        generator = SimSwapGenerator(size)
    expected = official_layout(size)
    assert _layout(generator) == expected
    # Spot checks of facts the list encodes (stem width, the 512 model's extra stage, AdaIN width).
    layout = dict(expected)
    assert layout["first_layer.1.weight"] == ((64, 3, 7, 7) if size == 224 else (32, 3, 7, 7))
    assert ("down0.0.weight" in layout) == (size == 512) == ("up0.1.weight" in layout)
    assert "down4.0.weight" not in layout  # both official models are deep=False
    assert layout["BottleNeck.8.style2.linear.weight"] == (1024, 512)
    assert layout["up1.2.num_batches_tracked"] == ()


def test_arcface_state_dict_matches_the_official_key_list() -> None:
    with torch.device("meta"):
        arcface = ArcFace()
    expected = official_layout("arcface")
    assert _layout(arcface) == expected
    layout = dict(expected)
    assert max(int(k.split(".")[1]) for k in layout if k.startswith("layer3.")) == 22  # 23 blocks
    assert layout["fc.weight"] == (512, 512 * 7 * 7)
    assert layout["layer2.0.downsample.0.weight"] == (128, 64, 1, 1)
    assert "layer1.0.downsample.0.weight" not in layout
    assert layout["layer4.2.se.fc.0.weight"] == (32, 512)


def test_key_lists_say_where_their_facts_come_from() -> None:
    for path in KEY_LISTS.values():
        header = [line for line in path.read_text().splitlines() if line.startswith("#")]
        text = " ".join(header)
        assert "neuralchen/SimSwap" in text and "commit" in text and "NOT read from" in text


def test_instance_norm_and_identity_style_follow_simswap() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 4, 5, 6) * 3 + 1
    centred = x - x.mean((2, 3), keepdim=True)
    expected = centred * torch.rsqrt(centred.pow(2).mean((2, 3), keepdim=True) + 1e-8)
    torch.testing.assert_close(InstanceNorm()(x), expected, rtol=1e-4, atol=1e-5)

    style = ApplyStyle(latent_size=3, channels=4)
    scale, shift = torch.tensor([0.5, -1.0, 2.0, 0.0]), torch.tensor([1.0, 2.0, -3.0, 0.25])
    with torch.no_grad():
        style.linear.weight.zero_()
        style.linear.bias.copy_(torch.cat([scale, shift]))  # first half scale, second half shift
    out = style(x, torch.randn(2, 3))
    torch.testing.assert_close(out, x * (1 + scale.view(1, 4, 1, 1)) + shift.view(1, 4, 1, 1))


def test_224_generator_forward_on_cpu() -> None:
    generator = random_generator(224)
    target = torch.rand(1, 3, 224, 224)
    identity_a = F.normalize(torch.randn(1, 512), dim=1)
    identity_b = F.normalize(torch.randn(1, 512), dim=1)
    with torch.inference_mode():
        out_a = generator(target, identity_a)
        out_a_again = generator(target, identity_a)
        out_b = generator(target, identity_b)
    assert out_a.shape == (1, 3, 224, 224)
    assert torch.isfinite(out_a).all() and out_a.min() >= 0 and out_a.max() <= 1
    assert torch.equal(out_a, out_a_again)
    # The identity vector reaches the output (through the nine AdaIN blocks).
    assert (out_a - out_b).abs().mean() > 1e-4


def test_512_generator_forward_on_cpu_small_input() -> None:
    generator = random_generator(512)
    assert generator.stride == 16
    with torch.inference_mode():
        out = generator(torch.rand(1, 3, 128, 128), F.normalize(torch.randn(1, 512), dim=1))
    assert out.shape == (1, 3, 128, 128)
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def test_arcface_forward_and_identity_embedding() -> None:
    arcface = random_arcface()
    faces = torch.rand(2, 3, 112, 112)
    with torch.inference_mode():
        raw = arcface(faces)
        embedding = identity_embedding(arcface, faces)
        # From an aligned 224 crop, SimSwap normalises first, then resizes (nearest) to 112.
        crop = torch.rand(1, 3, 224, 224)
        from_crop = identity_embedding(arcface, crop)
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        by_hand = F.normalize(arcface(F.interpolate((crop - mean) / std, size=(112, 112))), dim=1)
    assert raw.shape == (2, 512) and torch.isfinite(raw).all()
    torch.testing.assert_close(embedding.norm(dim=1), torch.ones(2))
    torch.testing.assert_close(from_crop, by_hand)
    assert not torch.allclose(embedding[0], embedding[1])  # different faces, different identities


def test_cpu_preparation_keeps_the_outputs() -> None:
    generator, arcface = random_generator(224), random_arcface()
    target, faces = torch.rand(1, 3, 64, 64), torch.rand(2, 3, 112, 112)
    identity = F.normalize(torch.randn(1, 512), dim=1)
    with torch.inference_mode():
        expected_out, expected_emb = generator(target, identity), arcface(faces)
    fast_generator, fast_arcface = prepare_for_cpu(generator), prepare_for_cpu(arcface)
    # Every conv→BN pair folded; ArcFace keeps only the BNs that precede a conv, and its head.
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast_generator.modules())
    remaining = [n for n, m in fast_arcface.named_modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(remaining) == 34 and all(n.endswith("bn0") for n in remaining if n != "bn2")
    with torch.inference_mode():
        torch.testing.assert_close(fast_generator(target, identity), expected_out, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(fast_arcface(faces), expected_emb, rtol=1e-4, atol=1e-4)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low_precision = fast_generator(target, identity).float()
    assert (low_precision - expected_out).abs().max() < 0.05
