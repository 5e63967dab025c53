"""SimSwap (Chen et al., ACM MM 2020) for operators who supply the official checkpoints.

Plain PyTorch, no Django. ``engine`` has the pipeline and the availability check, ``generator``
and ``arcface`` the two networks (key-compatible with the official weights), ``checkpoints`` the
safe loaders, ``alignment`` and ``blending`` the image geometry around the networks.
"""

from generation.simswap.engine import (
    Identity,
    SimSwapConfig,
    SimSwapEngine,
    SwapResult,
    simswap_availability,
)
from generation.simswap.errors import (
    CheckpointMissing,
    CheckpointRejected,
    InvalidImage,
    NoFaceFound,
    NoFaceInSource,
    NoFaceInTarget,
    SimSwapError,
)

__all__ = [
    "CheckpointMissing",
    "CheckpointRejected",
    "Identity",
    "InvalidImage",
    "NoFaceFound",
    "NoFaceInSource",
    "NoFaceInTarget",
    "SimSwapConfig",
    "SimSwapEngine",
    "SimSwapError",
    "SwapResult",
    "simswap_availability",
]
