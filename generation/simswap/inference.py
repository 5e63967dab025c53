"""CPU inference preparation for the SimSwap networks (applied to loaded models, never to checkpoints).

* BatchNorm folding: a BatchNorm in eval mode right after a convolution is an affine map per
  channel, so it can be folded into that convolution's weight and bias (one pass over the
  activations fewer). Only conv→BN pairs are folded; ArcFace's ``bn0`` comes *before* a
  zero-padded conv and cannot be folded exactly, so it stays.
* channels_last: oneDNN's convolutions are faster on NHWC tensors on x86 CPUs.

Outputs match the unfused fp32 networks to float rounding (``bench/generate_simswap.py`` reports
the largest difference).
"""

from __future__ import annotations

from typing import TypeVar

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

ModuleT = TypeVar("ModuleT", bound=nn.Module)


def fold_batchnorm(model: ModuleT) -> ModuleT:
    """Fold every conv→BatchNorm pair (adjacent in a Sequential, or named convN/bnN) in place."""
    for module in list(model.modules()):
        if isinstance(module, nn.Sequential):
            names = list(module._modules)
            for first, second in zip(names, names[1:], strict=False):
                conv, norm = module._modules[first], module._modules[second]
                if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                    module._modules[first] = fuse_conv_bn_eval(conv, norm)
                    module._modules[second] = nn.Identity()
        for conv_name, norm_name in (("conv1", "bn1"), ("conv2", "bn2")):
            conv, norm = getattr(module, conv_name, None), getattr(module, norm_name, None)
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                setattr(module, conv_name, fuse_conv_bn_eval(conv, norm))
                setattr(module, norm_name, nn.Identity())
    return model


def prepare_for_cpu(model: ModuleT, *, fold: bool = True, channels_last: bool = True) -> ModuleT:
    """``model`` in eval mode, without gradients, BatchNorm folded and in channels_last layout."""
    model.eval().requires_grad_(False)
    if fold:
        fold_batchnorm(model)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    return model
