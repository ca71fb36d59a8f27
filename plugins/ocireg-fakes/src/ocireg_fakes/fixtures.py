"""pytest fixtures for plugin tests; import them into a ``conftest.py``::

    from ocireg_fakes.fixtures import fake_registry, loopback_only  # noqa: F401

``loopback_only`` (autouse once imported) fails any name lookup outside loopback, as the
SDK's own test suite does; ``fake_registry(v2_delete=...)`` starts a
:class:`~ocireg_fakes.server.FakeRegistry` that is stopped when the test ends.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .server import FakeRegistry, V2Delete

__all__ = ["fake_registry", "loopback_only"]

_real_getaddrinfo = socket.getaddrinfo


def _loopback(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name == "localhost" or name.endswith(".localhost"):
        return _real_getaddrinfo(host, *args, **kwargs)
    try:
        if ipaddress.ip_address(name.strip("[]")).is_loopback:
            return _real_getaddrinfo(host, *args, **kwargs)
    except ValueError:
        pass
    raise AssertionError(f"a test tried to resolve {name!r}: tests talk to loopback only")


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _loopback)


@pytest.fixture
def fake_registry() -> Iterator[Callable[..., FakeRegistry]]:
    started: list[FakeRegistry] = []

    def start(*, v2_delete: V2Delete = "digest") -> FakeRegistry:
        fake = FakeRegistry(v2_delete=v2_delete).start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()
