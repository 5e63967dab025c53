"""Make PyPI's CUDA-linked torchvision wheel load on the CPU-only torch build.

torchvision==0.28.0 on PyPI links its two extensions against libc10_cuda.so and
libtorch_cuda.so, which the CPU torch wheel does not ship, so ``import torchvision``
fails with "operator torchvision::nms does not exist". We compile a small stub
library that defines every CUDA-side symbol the extensions import (each aborts
loudly if ever called: on a CPU build nothing calls them) and repoint the
extensions at it with patchelf. Idempotent; rerun after every torchvision reinstall.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

STUB_NAME = "libfakeme_cuda_stub.so"
CUDA_LIBS = ("libc10_cuda.so", "libtorch_cuda.so")
TORCH_LIBS = ("libc10.so", "libtorch.so", "libtorch_cpu.so", "libtorch_python.so")


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        sys.exit(f"patch_torchvision: package {name!r} is not installed")
    return Path(spec.origin).parent


def _dyn_symbols(lib: Path) -> list[tuple[str, str, str]]:
    """(name, type, section index) of every dynamic symbol of ``lib``."""
    out = subprocess.run(
        ["readelf", "--dyn-syms", "-W", str(lib)], check=True, capture_output=True, text=True
    ).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0].rstrip(":").isdigit():
            rows.append((parts[7].split("@")[0], parts[3], parts[6]))
    return rows


def _needed(lib: Path) -> list[str]:
    out = subprocess.run(["patchelf", "--print-needed", str(lib)], check=True, capture_output=True, text=True)
    return out.stdout.split()


def main() -> None:
    tv = _package_dir("torchvision")
    torch_lib = _package_dir("torch") / "lib"
    extensions = [tv / "_C.so", tv / "image.so"]
    if not any(lib in _needed(ext) for ext in extensions for lib in CUDA_LIBS):
        print("patch_torchvision: already patched")
        return

    defined: set[str] = set()
    for name in TORCH_LIBS:
        defined |= {sym for sym, _type, ndx in _dyn_symbols(torch_lib / name) if ndx != "UND"}
    missing: dict[str, str] = {}
    for ext in extensions:
        for sym, typ, ndx in _dyn_symbols(ext):
            # Versioned names (cudart, glibc) resolve from real libraries; the rest
            # that torch does not define came from the absent CUDA libraries.
            if ndx == "UND" and sym and sym not in defined and ("cuda" in sym.lower() or "Cuda" in sym):
                missing[sym] = typ

    lines = [
        "#include <stdio.h>",
        "#include <stdlib.h>",
        "static void fail(const char *s) {",
        '  fprintf(stderr, "FakeME: torchvision CUDA code called on a CPU build: %s\\n", s); abort(); }',
    ]
    for i, (sym, typ) in enumerate(sorted(missing.items())):
        if typ == "OBJECT":
            lines.append(f'__attribute__((aligned(16))) char obj{i}[64] __asm__("{sym}") = {{0}};')
        else:
            lines.append(f'void fn{i}(void) __asm__("{sym}");')
            lines.append(f'void fn{i}(void) {{ fail("{sym}"); }}')
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "stub.c"
        src.write_text("\n".join(lines) + "\n")
        subprocess.run(
            [
                "gcc",
                "-shared",
                "-fPIC",
                "-O1",
                f"-Wl,-soname,{STUB_NAME}",
                "-o",
                str(tv / STUB_NAME),
                str(src),
            ],
            check=True,
        )

    cudart = next((p.name for p in (tv.parent / "torchvision.libs").glob("libcudart*.so*")), None)
    for ext in extensions:
        needed = _needed(ext)
        args = ["patchelf"]
        args += ["--replace-needed", CUDA_LIBS[0], STUB_NAME] if CUDA_LIBS[0] in needed else []
        args += ["--remove-needed", CUDA_LIBS[1]] if CUDA_LIBS[1] in needed else []
        if cudart and "libcudart.so.13" in needed:
            args += ["--replace-needed", "libcudart.so.13", cudart]
        args += ["--set-rpath", "$ORIGIN:$ORIGIN/../torchvision.libs:$ORIGIN/../torch/lib", str(ext)]
        subprocess.run(args, check=True)
    print(f"patch_torchvision: stubbed {len(missing)} CUDA symbols in {tv}")


if __name__ == "__main__":
    os.environ.setdefault("LC_ALL", "C")
    main()
