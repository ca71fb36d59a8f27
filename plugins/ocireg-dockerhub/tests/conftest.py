"""Fixtures for the ocireg-dockerhub tests: no machine credentials, a loopback Docker Hub."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from dockerhub_fake import HubFake
from ocireg_fakes import FakeRegistry
from ocireg_fakes.fixtures import loopback_only  # noqa: F401


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("OCIREG_") or name == "DOCKER_AUTH_CONFIG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "containers-auth.json"))
    yield


@pytest.fixture
def hub() -> Iterator[HubFake]:
    """A fake Docker Hub: registry side without DELETE, the Hub API on the same state."""
    with FakeRegistry(v2_delete="unsupported") as fake:
        yield HubFake(fake).install()
