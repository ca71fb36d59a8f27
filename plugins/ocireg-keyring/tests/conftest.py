"""Fixtures for the ocireg-keyring tests: a file-backed keyring, no machine credentials."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import ocireg_keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.credentials import SimpleCredential
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    """A keyring kept in a JSON file, ``{service: {user: password}}``.

    With ``enumerates=True`` it answers ``get_credential(service, None)`` with the first user
    of the service, as the macOS Keychain, Windows and Secret Service backends do; without,
    it keeps keyring's base behaviour (None), as file backends do. It defines no ``priority``,
    so keyring never picks it by itself: only ``keyring.set_keyring`` or ``backend=`` use it.
    """

    def __init__(self, path: Path, *, enumerates: bool = True) -> None:
        super().__init__()
        self.path = path
        self.enumerates = enumerates
        self.reads = 0

    def _load(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        data: dict[str, dict[str, str]] = json.loads(self.path.read_text())
        return data

    def _save(self, data: dict[str, dict[str, str]]) -> None:
        self.path.write_text(json.dumps(data, indent=1, sort_keys=True))

    def get_password(self, service: str, username: str) -> str | None:
        self.reads += 1
        return self._load().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data.setdefault(service, {})[username] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if username not in data.get(service, {}):
            raise PasswordDeleteError(f"no {username} in {service}")
        del data[service][username]
        if not data[service]:
            del data[service]
        self._save(data)

    def get_credential(self, service: str, username: str | None) -> Any:
        if username is not None or not self.enumerates:
            return super().get_credential(service, username)
        self.reads += 1
        for user, password in self._load().get(service, {}).items():
            return SimpleCredential(user, password)
        return None


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No docker/containers/ocireg credentials of the machine; a fresh plugin cache."""
    for name in list(os.environ):
        if name.startswith("OCIREG_") or name == "DOCKER_AUTH_CONFIG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "containers-auth.json"))
    ocireg_keyring.plugin.clear_cache()
    yield
    ocireg_keyring.plugin.clear_cache()


@pytest.fixture
def file_keyring(tmp_path: Path) -> Iterator[FileKeyring]:
    """A FileKeyring made the process-wide keyring (``keyring.set_keyring``), then restored."""
    previous = keyring.get_keyring()
    backend = FileKeyring(tmp_path / "keyring.json")
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def make_keyring(tmp_path: Path) -> Any:
    """``make_keyring(name, enumerates=...)``: more FileKeyrings, for ``backend=``."""

    def make(name: str = "other.json", *, enumerates: bool = True) -> FileKeyring:
        return FileKeyring(tmp_path / name, enumerates=enumerates)

    return make
