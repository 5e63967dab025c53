"""The layering of docs/architecture.md holds beyond what ``lint-imports`` checks by itself.

``lint-imports`` (run by ``make test``) checks only modules named by a contract: here every
first-party module must belong to one layer, so a new package cannot slip past the order. Function-
local imports of first-party code would hide a dependency from a reader (and used to dodge cycles):
there are none outside an ``AppConfig.ready`` and the ones ``LAZY_IMPORTS`` gives a reason for. And
modules (the packages' and bench's) stay small: none over 400 lines without a reason written here.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("moderation", "reports", "generation", "detection", "watermark")
# Longer on purpose: a table or a flat list that reads best in one place.
LONG_MODULES = {
    "moderation/settings.py": "Django settings: one flat, commented list of every setting and its default",
}
MAX_LINES = 400
# Imports inside a function on purpose (never to dodge a cycle: the layer contract counts them too).
LAZY_IMPORTS = {
    "moderation/celery.py": "the worker-start hook: the model stack (torch) loads in processes that run "
    "tasks, "
    "not in every manage.py command that imports the Celery app",
    "moderation/gunicorn_conf.py": "gunicorn's master reads its config before Django is set up; each worker "
    "loads the model after the fork",
    "moderation/scans/tasks.py": "the task body loads the worker (the model stack); the app registry imports "
    "the task module in every process, also those that only queue scans",
    "generation/services/tasks.py": "the same for the generation runner and the swap engines",
    "generation/engines.py": "SimSwap (torch) loads only when an operator's checkpoints are used",
}


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts)


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer_roots() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c for c in config["contracts"] if c["id"] == "layers"]
    return [name.strip() for layer in layers["layers"] for name in layer.replace("|", ":").split(":")]


def test_every_first_party_module_is_in_a_layer() -> None:
    roots = _layer_roots()
    package_inits = {pkg for pkg in PACKAGES} | {"moderation", "generation"}
    outside = [
        m
        for m in map(_dotted, _modules())
        if m not in package_inits and not any(m == r or m.startswith(r + ".") for r in roots)
    ]
    assert outside == [], f"modules no layer of pyproject.toml [tool.importlinter] covers: {outside}"


def _local_imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name != "ready":
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom) and sub.module and sub.module.split(".")[0] in PACKAGES:
                    found.append((sub.lineno, sub.module))
                elif isinstance(sub, ast.Import):
                    found += [(sub.lineno, a.name) for a in sub.names if a.name.split(".")[0] in PACKAGES]
    return found


def test_no_function_imports_first_party_code() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _modules()
        if str(path.relative_to(ROOT)) not in LAZY_IMPORTS
        for line, module in _local_imports(ast.parse(path.read_text()))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "source", ["def f():\n    from moderation.core import jobs\n", "def g():\n    import detection.engine\n"]
)
def test_the_local_import_check_sees_both_forms(source: str) -> None:
    assert _local_imports(ast.parse(source))


def test_modules_stay_small() -> None:
    bench = sorted((ROOT / "bench").rglob("*.py"))
    long = {
        str(p.relative_to(ROOT)): n
        for p in [*_modules(), *bench]
        if (n := len(p.read_text().splitlines())) > MAX_LINES and str(p.relative_to(ROOT)) not in LONG_MODULES
    }
    assert long == {}, (
        f"modules over {MAX_LINES} lines (split them, or give a reason in LONG_MODULES): {long}"
    )
