"""Fixtures for the ocireg-harbor tests: no machine credentials, a loopback Harbor."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from harbor_fake import HarborFake
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
def harbor() -> Iterator[HarborFake]:
    """A fake Harbor: registry side deleting digests, the Harbor API on the same state."""
    with FakeRegistry(v2_delete="digest") as fake:
        yield HarborFake(fake).install()
