"""The ArcFace identity network SimSwap was trained with: an SE-IR-ResNet-101 on 112×112 faces.

SimSwap ships it as ``arcface_model/arcface_checkpoint.tar``, a whole pickled module of class
``models.arcface_models.ResNet`` built as ``ResNet(IRBlock, [3, 4, 23, 3], use_se=True)`` (the
InsightFace-v2 "r101" network of foamliu, which SimSwap's paper cites). ``checkpoints.py`` reads
that pickle without executing it and loads its tensors into :class:`ArcFace`, whose attribute
names reproduce the original ones (see ``arcface_keys.txt``).

Block layout (pre-activation "IR" block): BN → 3×3 conv → BN → PReLU → 3×3 conv (stride here)
→ BN → squeeze-excitation, plus the (projected) shortcut, then the block's PReLU again. The stem
is an unpadded 3×3 conv, so a 112 input gives 110 → max-pool 55 → 28 → 14 → 7, and the head
flattens the 512×7×7 map into a 512-d embedding (BN → dropout → linear → BN1d).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LAYERS = (3, 4, 23, 3)
INPUT_SIZE = 112
EMBEDDING_SIZE = 512
# SimSwap normalises the ArcFace input with the ImageNet statistics (its ``transformer_Arcface``).
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def _conv3x3(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)


class SEBlock(nn.Module):
    """Squeeze-excitation with a 1/16 bottleneck: ``fc`` = Linear, PReLU, Linear, Sigmoid."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(channels, channels // reduction),
            nn.PReLU(),
            nn.Linear(channels // reduction, channels),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.fc(self.avg_pool(x).flatten(1))
        return x * weights[:, :, None, None]


class IRBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.bn0 = nn.BatchNorm2d(c_in)
        self.conv1 = _conv3x3(c_in, c_in)
        self.bn1 = nn.BatchNorm2d(c_in)
        self.prelu = nn.PReLU()  # one PReLU (one slope) used twice, as in the original
        self.conv2 = _conv3x3(c_in, c_out, stride)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = downsample
        self.se = SEBlock(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.prelu(self.bn1(self.conv1(self.bn0(x))))
        out = self.se(self.bn2(self.conv2(out)))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.prelu(out + shortcut)


def _stage(c_in: int, c_out: int, blocks: int, stride: int) -> nn.Sequential:
    downsample = None
    if stride != 1 or c_in != c_out:
        projection = nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False)
        downsample = nn.Sequential(projection, nn.BatchNorm2d(c_out))
    layers = [IRBlock(c_in, c_out, stride, downsample)]
    layers += [IRBlock(c_out, c_out) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


class ArcFace(nn.Module):
    """``forward`` maps ImageNet-normalised RGB faces (N, 3, 112, 112) to raw 512-d embeddings."""

    def __init__(self, layers: tuple[int, int, int, int] = LAYERS) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, stride=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.prelu = nn.PReLU()
        self.maxpool = nn.MaxPool2d(2, 2)
        self.layer1 = _stage(64, 64, layers[0], 1)
        self.layer2 = _stage(64, 128, layers[1], 2)
        self.layer3 = _stage(128, 256, layers[2], 2)
        self.layer4 = _stage(256, 512, layers[3], 2)
        self.bn2 = nn.BatchNorm2d(512)
        self.dropout = nn.Dropout()
        self.fc = nn.Linear(512 * 7 * 7, EMBEDDING_SIZE)
        self.bn3 = nn.BatchNorm1d(EMBEDDING_SIZE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.prelu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(self.bn2(x))
        return self.bn3(self.fc(x.flatten(1)))


def identity_embedding(arcface: ArcFace, faces: torch.Tensor) -> torch.Tensor:
    """SimSwap's identity vector for aligned faces given as RGB in [0, 1], (N, 3, S, S) with S ≥ 112.

    Same steps as the official inference scripts: ImageNet normalisation at crop size, then a
    nearest-neighbour resize to 112 (``F.interpolate``'s default mode), ArcFace, L2 normalisation.
    """
    mean = faces.new_tensor(MEAN).view(1, 3, 1, 1)
    std = faces.new_tensor(STD).view(1, 3, 1, 1)
    x = (faces - mean) / std
    if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE))
    return F.normalize(arcface(x), p=2, dim=1)
