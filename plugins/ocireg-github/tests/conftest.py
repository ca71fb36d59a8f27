"""Fixtures for the ocireg-github tests: no machine credentials or tokens, a loopback GHCR."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from github_fake import GitHubFake
from ocireg_fakes import FakeRegistry
from ocireg_fakes.fixtures import loopback_only  # noqa: F401


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("OCIREG_") or name in ("DOCKER_AUTH_CONFIG", "GITHUB_TOKEN", "GH_TOKEN"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "containers-auth.json"))
    yield


@pytest.fixture
def ghcr() -> Iterator[GitHubFake]:
    """A fake GHCR: registry side without DELETE, the packages API on the same state."""
    with FakeRegistry(v2_delete="unsupported") as fake:
        yield GitHubFake(fake).install()
