"""Where training runs: CPU by default, a CUDA GPU when one is asked for and present.

On a GPU the forward pass runs under bf16 autocast (no loss scaling needed, unlike fp16) with
channels_last tensors; on the CPU autocast stays off, because bf16 there is slower on most
machines without AMX and changes results against the CPU baseline.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


class DeviceUnavailable(ValueError):
    """The requested device does not exist on this machine (the message says what does)."""


def resolve_device(name: str) -> torch.device:
    """``"cpu"``, ``"cuda"`` or ``"cuda:N"`` as a device, refusing one that is not there."""
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as exc:
        raise DeviceUnavailable(f"unknown device {name!r}: use cpu, cuda or cuda:N") from exc
    if device.type == "cpu":
        return device
    if device.type != "cuda":
        raise DeviceUnavailable(f"unsupported device {name!r}: use cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise DeviceUnavailable(
            f"device {name!r} asked for, but this torch build sees no CUDA GPU "
            f"(torch {torch.__version__}); train with --device cpu"
        )
    index = device.index or 0
    if index >= torch.cuda.device_count():
        raise DeviceUnavailable(f"device {name!r}: only {torch.cuda.device_count()} CUDA device(s) present")
    return torch.device("cuda", index)


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bf16 on CUDA, none (full fp32) on the CPU."""
    return torch.bfloat16 if device.type == "cuda" else None


@contextlib.contextmanager
def autocast(device: torch.device) -> Iterator[None]:
    dtype = autocast_dtype(device)
    if dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield
