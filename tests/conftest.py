"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data set at ``../shared/data`` beside the checkout (skips the test when absent)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"../shared/data is absent: expected the shared data set at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def c2pa_local_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("c2pa-local")


@pytest.fixture(autouse=True)
def _c2pa_identity_outside_the_checkout(settings: Any, c2pa_local_dir: Path) -> None:
    """The generator's local signing certificate (made on first use) goes to a temporary folder,
    never into the checkout's ``.fakeme-c2pa/``."""
    settings.C2PA_LOCAL_DIR = c2pa_local_dir
