"""Credentials from the OS keyring (the ocireg-keyring plugin, loaded through its entry
point) authenticate against the real registry, with a file-backed keyring backend."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from ocireg import Client
from ocireg.auth.token import TOKENS
from tests.fixtures.cli import KEPT
from tests.fixtures.images import Pusher
from tests.fixtures.registry import Registry

keyring = pytest.importorskip("keyring")
ocireg_keyring = pytest.importorskip("ocireg_keyring")
from keyring.backend import KeyringBackend  # noqa: E402

pytestmark = pytest.mark.live


class JsonFileKeyring(KeyringBackend):
    """A keyring kept in one JSON file: real keyring API, no D-Bus needed."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def _load(self) -> dict[str, dict[str, str]]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data.setdefault(service, {})[username] = password
        self.path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        data.get(service, {}).pop(username, None)
        self.path.write_text(json.dumps(data))


@pytest.fixture
def file_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in list(__import__("os").environ):
        if name in KEPT:
            continue  # the test session's cache, not a credential
        if name.startswith("OCIREG_") or name in ("DOCKER_AUTH_CONFIG", "REGISTRY_AUTH_FILE"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    previous = keyring.get_keyring()
    backend = JsonFileKeyring(tmp_path / "keyring.json")
    keyring.set_keyring(backend)
    ocireg_keyring.plugin.clear_cache()
    TOKENS.clear()
    yield backend
    keyring.set_keyring(previous)
    ocireg_keyring.plugin.clear_cache()


@pytest.mark.parametrize("mode", ["basic", "token"])
def test_keyring_credentials_open_the_registry(
    mode: str, file_keyring: Any, request: pytest.FixtureRequest
) -> None:
    registry: Registry = request.getfixturevalue(f"registry_{mode}")
    name = f"keyring/{uuid.uuid4().hex[:8]}"
    Pusher(registry).image(name, "1.0")
    user, password = registry.credentials("alice")

    with Client() as anonymous:  # nothing stored yet: the registry refuses us
        assert anonymous.explain_credentials(registry.host)["provider"] is None

    ocireg_keyring.store(registry.host, user, password)
    assert password in (Path(file_keyring.path).read_text())  # really in the keyring file
    with Client() as client:  # no credentials in code; the plugin comes by entry point
        assert client.tags(f"{registry.host}/{name}") == ["1.0"]
        info = client.explain_credentials(registry.host)
    assert info["provider"] == "keyring"
    assert info["username"] == user
    assert password not in repr(info)
