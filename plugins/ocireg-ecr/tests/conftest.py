"""Fixtures for the ocireg-ecr tests: an environment with no real credentials anywhere, and
no name resolved but loopback's."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ocireg_ecr
import pytest

_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    """Tests talk to loopback only (moto answers AWS's API in this process): resolving any
    other name would mean a request about to leave the machine."""
    name = host.decode() if isinstance(host, bytes) else str(host)
    try:
        if name == "localhost" or ipaddress.ip_address(name.strip("[]")).is_loopback:
            return _real_getaddrinfo(host, *args, **kwargs)
    except ValueError:
        pass
    raise AssertionError(f"a test tried to resolve {name!r}: tests talk to loopback only")


@pytest.fixture(autouse=True, scope="session")
def _no_resolving_outside_loopback() -> Iterator[None]:
    socket.getaddrinfo = _loopback_only
    try:
        yield
    finally:
        socket.getaddrinfo = _real_getaddrinfo


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No docker/containers/ocireg/AWS credentials of the machine, and no instance metadata
    service: boto3 must never look for a role at 169.254.169.254 from a test."""
    for name in list(os.environ):
        if name.startswith(("OCIREG_", "AWS_")) or name == "DOCKER_AUTH_CONFIG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "containers-auth.json"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    ocireg_ecr.plugin.clear_cache()
    yield
    ocireg_ecr.plugin.clear_cache()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake static AWS credentials in the environment (boto3 reports method ``env``)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
