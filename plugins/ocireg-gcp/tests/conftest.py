"""Fixtures for the ocireg-gcp tests: no machine credentials, no metadata server."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import google.auth
import ocireg_gcp
import pytest

#: A closed loopback port: google-auth must never probe 169.254.169.254 from a test.
NOWHERE = "127.0.0.1:9"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("OCIREG_", "GOOGLE_", "CLOUDSDK_", "GCE_")):
            monkeypatch.delenv(name)
    monkeypatch.delenv("DOCKER_AUTH_CONFIG", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "containers-auth.json"))
    # For subprocesses (google-auth reads these when first imported) and for in-process code.
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setenv("GCE_METADATA_HOST", NOWHERE)
    monkeypatch.setenv("GCE_METADATA_IP", NOWHERE)

    def no_real_adc(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("this test must replace google.auth.default")

    monkeypatch.setattr(google.auth, "default", no_real_adc)
    ocireg_gcp.plugin.clear_cache()
    yield
    ocireg_gcp.plugin.clear_cache()


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    """A service-account JSON key (the private key is a placeholder: the registry checks it)."""
    path = tmp_path / "sa-key.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "demo-project",
                "private_key_id": "0123456789abcdef",
                "private_key": "-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----",
                "client_email": "pusher@demo-project.iam.gserviceaccount.com",
                "client_id": "123456789",
                "token_uri": "https://oauth2.googleapis.com/token",
            },
            indent=2,
        )
        + "\n"
    )
    return path
