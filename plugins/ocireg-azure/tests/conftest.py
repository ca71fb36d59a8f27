"""Fixtures for the ocireg-azure tests: no machine credentials, no managed-identity endpoint,
no name lookup outside loopback, and a loopback fake ACR (registry side and ``/acr/v1/``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import azure.identity
import ocireg_azure
import pytest
from acr_fake import AcrFake
from ocireg_fakes import FakeRegistry
from ocireg_fakes.fixtures import loopback_only  # noqa: F401

#: A closed loopback port: nothing may probe the instance metadata service from a test.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("OCIREG_", "AZURE_", "IDENTITY_", "MSI_")):
            monkeypatch.delenv(name)
    monkeypatch.delenv("DOCKER_AUTH_CONFIG", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "containers-auth.json"))
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", NOWHERE)

    class NoDefaultCredential:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise AssertionError("this test must give a credential or replace the default")

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", NoDefaultCredential)
    ocireg_azure.plugin.clear_cache()
    yield
    ocireg_azure.plugin.clear_cache()


@pytest.fixture
def acr() -> Iterator[AcrFake]:
    """A fake ACR: registry side deleting digests, the ``/acr/v1/`` API and ``/oauth2/`` on
    the same state."""
    with FakeRegistry(v2_delete="digest") as fake:
        yield AcrFake(fake).install()
