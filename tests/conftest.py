"""Shared fixtures: real registries for the live tests.

Session-scoped registries are started lazily (only when a test asks for one) and stopped at
the end of the session; ``tests.fixtures.registry`` also stops any survivor at interpreter exit.
Tests read credentials from ``registry.users`` / ``registry.credentials(...)``, never from
literals, because the passwords are random per session.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fixtures.registry import REGISTRY_BIN, Mode, Registry, start_registry

RegistryFactory = Callable[..., Registry]

_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    """Tests talk to loopback only: resolving any other name (which sends a query to a name
    server elsewhere) is a test bug, so it fails loudly instead of happening."""
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name == "localhost" or name.endswith(".localhost"):
        return _real_getaddrinfo(host, *args, **kwargs)
    try:
        if ipaddress.ip_address(name.strip("[]")).is_loopback:
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


@pytest.fixture(autouse=True, scope="session")
def _plugin_index_in_a_temporary_cache(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """The plugin index (ocireg.plugin_index) is written under the test session's own
    directory, never the user's cache."""
    before = os.environ.get("OCIREG_CACHE_DIR")
    os.environ["OCIREG_CACHE_DIR"] = str(tmp_path_factory.mktemp("ocireg-cache"))
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("OCIREG_CACHE_DIR", None)
        else:
            os.environ["OCIREG_CACHE_DIR"] = before


def _require_registry_binary() -> None:
    """Skip without the binary, but fail in CI where a skip would hide lost coverage."""
    if REGISTRY_BIN.is_file() and os.access(REGISTRY_BIN, os.X_OK):
        return
    message = f"{REGISTRY_BIN} is missing: apt-get install docker-registry"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"live tests need a real registry under CI=true: {message}", pytrace=False)
    pytest.skip(message)


def _session_registry(
    tmp_path_factory: pytest.TempPathFactory, name: str, mode: Mode, *, delete_enabled: bool = True
) -> Iterator[Registry]:
    _require_registry_binary()
    registry = start_registry(
        tmp_path_factory.mktemp(name), mode=mode, delete_enabled=delete_enabled
    )
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="session")
def registry_open(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """Plain HTTP, no auth, delete enabled."""
    yield from _session_registry(tmp_path_factory, "registry-open", "open")


@pytest.fixture(scope="session")
def registry_basic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """htpasswd Basic auth; user ``alice``."""
    yield from _session_registry(tmp_path_factory, "registry-basic", "basic")


@pytest.fixture(scope="session")
def registry_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """Bearer token auth via ``registry.token_server``; users ``alice``, ``puller``, ``pusher``."""
    yield from _session_registry(tmp_path_factory, "registry-token", "token")


@pytest.fixture(scope="session")
def registry_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """HTTPS with a fixture-made CA (``registry.ca_cert``), no auth."""
    yield from _session_registry(tmp_path_factory, "registry-tls", "tls")


@pytest.fixture(scope="session")
def registry_no_delete(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """Open mode with ``storage.delete.enabled: false``: DELETE answers 405 UNSUPPORTED."""
    yield from _session_registry(
        tmp_path_factory, "registry-no-delete", "open", delete_enabled=False
    )


@pytest.fixture
def registry_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryFactory]:
    """Start private registries for one test: ``registry_factory(mode="token", ...)``.

    Keyword arguments are those of :func:`tests.fixtures.registry.start_registry`; every registry
    started is stopped when the test ends.
    """
    _require_registry_binary()
    started: list[Registry] = []

    def factory(*, mode: Mode = "open", **options: object) -> Registry:
        registry = start_registry(tmp_path_factory.mktemp(f"registry-{mode}"), mode=mode, **options)  # type: ignore[arg-type]
        started.append(registry)
        return registry

    try:
        yield factory
    finally:
        for registry in started:
            registry.stop()


@pytest.fixture(params=["inline-hash", "threaded-hash"])
def hash_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a blob test with hashing in the reading thread and on the worker thread."""
    from ocireg import blobs

    threshold = 1 << 40 if request.param == "inline-hash" else 0
    monkeypatch.setattr(blobs, "THREADED_HASH_MIN", threshold)
