"""Every FakeME process loads torch with OpenMP's passive wait policy (``detection/__init__.py``):
spinning waiters made a photo scan 7× slower when another process held a core
(``bench/omp_wait.py``). libgomp reads the policy once, when torch loads, so what matters is the
environment at that moment, in each way a FakeME process starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# Records OMP_WAIT_POLICY as it stands when something first imports torch, then runs the entry code.
_SPY = """
import os, sys

class _TorchImportSpy:
    seen = None

    def find_spec(self, name, path=None, target=None):
        if name == "torch" and _TorchImportSpy.seen is None:
            _TorchImportSpy.seen = os.environ.get("OMP_WAIT_POLICY", "unset")
        return None

sys.meta_path.insert(0, _TorchImportSpy())
{entry}
assert "torch" in sys.modules, "the entry point never loaded torch"
print(_TorchImportSpy.seen)
"""

ENTRY_POINTS = {
    # The engine on its own (manage.py detect, bench/, library use).
    "engine": "import detection.engine",
    # manage.py, gunicorn (moderation.wsgi) and `celery -A moderation` all import the project package
    # first; then Django loads every app and the worker its task modules.
    "django": (
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'moderation.settings'\n"
        "import moderation.wsgi\n"
        "import moderation.tasks, generation.tasks\n"
        "from moderation.core.shared_detector import get_detector"
    ),
}


def _torch_loaded_with(entry: str, **env: str) -> str:
    child_env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"} | env
    out = subprocess.run(
        [sys.executable, "-c", _SPY.format(entry=entry)],
        cwd=REPO_ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_torch_loads_with_the_passive_wait_policy(entry: str) -> None:
    assert _torch_loaded_with(ENTRY_POINTS[entry]) == "PASSIVE"


def test_an_operators_own_policy_is_kept() -> None:
    assert _torch_loaded_with(ENTRY_POINTS["engine"], OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"
