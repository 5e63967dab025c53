"""SimSwap's identity-injecting generator (Chen et al., ACM MM 2020), written to load the official weights.

Two published checkpoints exist and they are two different layer layouts, not one net with a flag:

* the 224 "people" model (``checkpoints/people/latest_net_G.pth``): 7×7 stem to 64 channels, three
  stride-2 stages (``down1``–``down3``) to 512, nine AdaIN blocks at 1/8 resolution, three bilinear
  ×2 stages (``up3``–``up1``) and a 7×7 head;
* the 512 model (``checkpoints/512/550000_net_G.pth``): a 32-channel stem and one more stage each
  way (``down0``/``up0``), so the blocks run at 1/16 resolution.

Attribute names, ``nn.Sequential`` positions (padding layers included) and BatchNorm vs. instance
norm follow the official source exactly, because the state-dict keys are derived from them; see
``official_keys_224.txt``/``official_keys_512.txt`` for the resulting list.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LATENT_SIZE = 512  # ArcFace embedding width
N_BLOCKS = 9
SIZES = (224, 512)


class InstanceNorm(nn.Module):
    """Instance normalisation without affine parameters (biased variance, eps 1e-8, as SimSwap's)."""

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.instance_norm(x, eps=self.eps)


class ApplyStyle(nn.Module):
    """Identity injection: one linear map gives a per-channel scale and shift, applied as ``x·(1+s)+b``."""

    def __init__(self, latent_size: int, channels: int) -> None:
        super().__init__()
        self.linear = nn.Linear(latent_size, channels * 2)

    def forward(self, x: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        # The first half of the linear output is the scale, the second the shift.
        style = self.linear(latent).view(-1, 2, x.shape[1], 1, 1)
        return torch.addcmul(style[:, 1], x, style[:, 0] + 1.0)


def _padded_conv3x3_in(channels: int) -> nn.Sequential:
    # [0] reflection pad, [1] conv, [2] parameter-free instance norm: keys ``*.1.weight/bias``.
    return nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), InstanceNorm())


class AdaINResBlock(nn.Module):
    """Residual block whose two convolutions are each followed by instance norm + identity style."""

    def __init__(self, channels: int, latent_size: int) -> None:
        super().__init__()
        self.conv1 = _padded_conv3x3_in(channels)
        self.style1 = ApplyStyle(latent_size, channels)
        self.act1 = nn.ReLU(True)
        self.conv2 = _padded_conv3x3_in(channels)
        self.style2 = ApplyStyle(latent_size, channels)

    def forward(self, x: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        y = self.act1(self.style1(self.conv1(x), latent))
        y = self.style2(self.conv2(y), latent)
        return x + y


class _Blocks(nn.Sequential):
    """The nine AdaIN blocks (kept a Sequential so the keys read ``BottleNeck.<i>.*``)."""

    def forward(self, x: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        for block in self:
            x = block(x, latent)
        return x


def _down(c_in: int, c_out: int) -> nn.Sequential:
    # [0] stride-2 conv, [1] BatchNorm, [2] ReLU.
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(True))


def _up(c_in: int, c_out: int) -> nn.Sequential:
    # [0] bilinear ×2 (align_corners=False, PyTorch's default), [1] conv, [2] BatchNorm, [3] ReLU.
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.BatchNorm2d(c_out),
        nn.ReLU(True),
    )


class SimSwapGenerator(nn.Module):
    """``Generator_Adain_Upsample(3, 3, latent_size=512, n_blocks=9, deep=False)`` of the 224 or 512 model.

    ``forward(target, identity)`` takes the aligned target crop as RGB in [0, 1], shape (N, 3, H, W)
    with H and W multiples of 8 (224 model) or 16 (512 model), and the L2-normalised ArcFace
    embedding (N, 512); it returns the swapped crop in [0, 1].
    """

    def __init__(self, size: int = 224, latent_size: int = LATENT_SIZE, n_blocks: int = N_BLOCKS) -> None:
        super().__init__()
        if size not in SIZES:
            raise ValueError(f"SimSwap has a 224 and a 512 model, not {size}")
        self.size = size
        stem = 64 if size == 224 else 32
        self.first_layer = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(3, stem, 7), nn.BatchNorm2d(stem), nn.ReLU(True)
        )
        if size == 512:
            self.down0 = _down(32, 64)
        self.down1 = _down(64, 128)
        self.down2 = _down(128, 256)
        self.down3 = _down(256, 512)
        self.BottleNeck = _Blocks(*(AdaINResBlock(512, latent_size) for _ in range(n_blocks)))
        self.up3 = _up(512, 256)
        self.up2 = _up(256, 128)
        self.up1 = _up(128, 64)
        if size == 512:
            self.up0 = _up(64, 32)
        self.last_layer = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(stem, 3, 7), nn.Tanh())

    @property
    def stride(self) -> int:
        """How many input pixels one bottleneck cell covers (input sides must be multiples of it)."""
        return 8 if self.size == 224 else 16

    def forward(self, target: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
        x = self.first_layer(target)
        if self.size == 512:
            x = self.down0(x)
        x = self.down3(self.down2(self.down1(x)))
        x = self.BottleNeck(x, identity)
        x = self.up1(self.up2(self.up3(x)))
        if self.size == 512:
            x = self.up0(x)
        return (self.last_layer(x) + 1.0) / 2.0
