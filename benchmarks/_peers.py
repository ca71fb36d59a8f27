"""The peers' virtualenv (python-dxf, oras-py), shared by the benchmark scripts: created and
filled with pip on first use, each package installed only when its module does not import."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["attempt", "imports", "peers_venv"]


def imports(python: str, module: str) -> bool:
    done = subprocess.run([python, "-c", f"import {module}"], capture_output=True, check=False)
    return done.returncode == 0


def attempt(argv: list[str], what: str) -> None:
    """Run ``argv``; a failure is said on stderr, and the caller measures without ``what``."""
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"could not install {what}: {done.stderr.strip()[-200:]}", file=sys.stderr)


def peers_venv(venv: Path, packages: Mapping[str, str], *, install: bool = True) -> str | None:
    """The python of ``venv``, with each ``module: pip package`` of ``packages`` installed
    where it can be (with ``install``); None when there is no such virtualenv. Callers check
    :func:`imports` for the modules they need."""
    python = venv / "bin" / "python"
    if install and not python.exists():
        attempt([sys.executable, "-m", "venv", str(venv)], "the peers' virtualenv")
    if install and python.exists():
        for module, package in packages.items():
            if not imports(str(python), module):
                attempt([str(python), "-m", "pip", "install", "-q", package], package)
    return str(python) if python.exists() else None
