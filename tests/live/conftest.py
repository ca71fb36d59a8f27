"""Fixtures shared by the live tests of behaviour that must not depend on the auth mode."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ocireg import Client
from tests.fixtures.clients import client_for
from tests.fixtures.registry import Registry


@pytest.fixture(params=["registry_open", "registry_token"])
def registry(request: pytest.FixtureRequest) -> Registry:
    """The open and the token registry: behaviour must be the same with scoped tokens.
    Modules that need other registries define their own ``registry`` fixture."""
    value: Registry = request.getfixturevalue(request.param)
    return value


@pytest.fixture
def client(registry: Registry) -> Iterator[Client]:
    """Alice's client for :func:`registry`."""
    with client_for(registry) as c:
        yield c
