"""ocireg-keyring: the entry layout, store/erase, lookups, caching, failing keyrings, the
entry point and the provider order. The keyring is a JSON file (see conftest.FileKeyring)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from typing import Any

import keyring
import ocireg_keyring
import pytest
from keyring.backends import fail
from keyring.errors import KeyringLocked
from ocireg_keyring import KeyringCredentials, erase, lookup, service_name, store

from ocireg.auth.credentials import BasicCredentials, IdentityToken
from ocireg.client import Client
from ocireg.plugins import CREDENTIAL_ORDER


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ask(provider: KeyringCredentials, registry: str) -> Any:
    return provider.ocireg_get_credentials(registry=registry, repository=None)


@pytest.mark.parametrize(
    ("registry", "service"),
    [
        ("quay.io", "ocireg:quay.io"),
        ("Quay.IO", "ocireg:quay.io"),
        ("127.0.0.1:5000", "ocireg:127.0.0.1:5000"),
        ("https://ghcr.io/", "ocireg:ghcr.io"),
        ("docker.io", "ocireg:docker.io"),
        ("index.docker.io", "ocireg:docker.io"),
        ("registry-1.docker.io", "ocireg:docker.io"),
        ("https://index.docker.io/v1/", "ocireg:docker.io"),
    ],
    ids=lambda v: v,
)
def test_service_name(registry: str, service: str) -> None:
    assert service_name(registry) == service


def test_store_writes_the_documented_entries(file_keyring: Any) -> None:
    assert store("Quay.io", "alice", "s3cret") == "ocireg:quay.io"
    assert json.loads(file_keyring.path.read_text()) == {
        "ocireg:quay.io": {"alice": "s3cret", "@username": "alice"}
    }
    assert lookup("quay.io") == ("alice", "s3cret")


def test_provider_answers_from_the_keyring(file_keyring: Any) -> None:
    store("quay.io", "alice", "s3cret")
    found = ask(KeyringCredentials(), "quay.io")
    assert found == BasicCredentials("alice", "s3cret")
    # keyring names a backend by its module and class: "conftest FileKeyring" here.
    assert found.source.startswith("keyring (") and "FileKeyring" in found.source
    assert found.source.endswith("): service ocireg:quay.io, user alice")
    assert "s3cret" not in found.source and "s3cret" not in repr(found)


def test_unknown_registry_answers_none(file_keyring: Any) -> None:
    store("quay.io", "alice", "s3cret")
    provider = KeyringCredentials()
    for host in ("ghcr.io", "quay.io:8443", "127.0.0.1:5000", "docker.io"):
        assert ask(provider, host) is None


def test_docker_hub_aliases_share_one_entry(file_keyring: Any) -> None:
    store("registry-1.docker.io", "bob", "hub-pass")
    provider = KeyringCredentials()
    assert ask(provider, "docker.io") == BasicCredentials("bob", "hub-pass")
    assert ask(provider, "index.docker.io") == BasicCredentials("bob", "hub-pass")


def test_identity_tokens_use_the_token_user(file_keyring: Any) -> None:
    store("myreg.azurecr.io", "<token>", "refresh-token")
    found = ask(KeyringCredentials(), "myreg.azurecr.io")
    assert isinstance(found, IdentityToken)
    assert (found.token, found.username) == ("refresh-token", "<token>")


def test_entries_made_by_other_tools_are_found(make_keyring: Any) -> None:
    # `keyring set ocireg:ghcr.io carol`: no @username entry; the backend enumerates users.
    backend = make_keyring("enumerating.json")
    backend.set_password("ocireg:ghcr.io", "carol", "ghp_token")
    assert ask(KeyringCredentials(backend=backend), "ghcr.io") == BasicCredentials(
        "carol", "ghp_token"
    )
    # A backend that cannot enumerate needs the @username entry that store() writes.
    plain = make_keyring("plain.json", enumerates=False)
    plain.set_password("ocireg:ghcr.io", "carol", "ghp_token")
    assert ask(KeyringCredentials(backend=plain), "ghcr.io") is None
    store("ghcr.io", "carol", "ghp_token", backend=plain)
    assert ask(KeyringCredentials(backend=plain), "ghcr.io") == BasicCredentials(
        "carol", "ghp_token"
    )


def test_store_replaces_the_previous_user(file_keyring: Any) -> None:
    store("quay.io", "alice", "one")
    store("quay.io", "bob", "two")
    assert json.loads(file_keyring.path.read_text()) == {
        "ocireg:quay.io": {"bob": "two", "@username": "bob"}
    }


def test_erase(file_keyring: Any, make_keyring: Any) -> None:
    store("quay.io", "alice", "s3cret")
    store("ghcr.io", "carol", "x")
    assert erase("QUAY.IO") is True
    assert json.loads(file_keyring.path.read_text()) == {
        "ocireg:ghcr.io": {"carol": "x", "@username": "carol"}
    }
    assert erase("quay.io") is False
    # Entries without @username are erased on backends that enumerate.
    other = make_keyring()
    other.set_password("ocireg:quay.io", "dave", "y")
    assert erase("quay.io", backend=other) is True
    assert json.loads(other.path.read_text()) == {}


@pytest.mark.parametrize(
    ("username", "password"),
    [("", "x"), ("alice", ""), ("@username", "x")],
    ids=["no-user", "no-password", "reserved-user"],
)
def test_store_refuses(file_keyring: Any, username: str, password: str) -> None:
    with pytest.raises(ValueError):
        store("quay.io", username, password)


def test_lookups_are_cached_until_a_change_or_the_ttl(file_keyring: Any) -> None:
    clock = FakeClock()
    provider = KeyringCredentials(ttl=60, clock=clock)
    assert ask(provider, "quay.io") is None
    reads = file_keyring.reads
    assert ask(provider, "quay.io") is None  # a miss is cached too
    assert file_keyring.reads == reads

    store("quay.io", "alice", "one")  # store() in this process: seen at once
    assert ask(provider, "quay.io") == BasicCredentials("alice", "one")
    reads = file_keyring.reads
    assert ask(provider, "quay.io") == BasicCredentials("alice", "one")
    assert file_keyring.reads == reads

    file_keyring.set_password("ocireg:quay.io", "alice", "two")  # another program's change
    clock.now += 59
    assert ask(provider, "quay.io").password == "one"
    clock.now += 1
    assert ask(provider, "quay.io").password == "two"

    erase("quay.io")
    assert ask(provider, "quay.io") is None


def test_no_keyring_backend_answers_none(caplog: pytest.LogCaptureFixture) -> None:
    provider = KeyringCredentials(backend=fail.Keyring())
    with caplog.at_level(logging.DEBUG, logger="ocireg_keyring"):
        assert ask(provider, "quay.io") is None
    assert "no keyring backend" in caplog.text


def test_a_broken_keyring_never_breaks_a_pull(
    make_keyring: Any, caplog: pytest.LogCaptureFixture
) -> None:
    backend = make_keyring()

    def locked(service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    backend.get_password = locked
    with caplog.at_level(logging.WARNING, logger="ocireg_keyring"):
        assert ask(KeyringCredentials(backend=backend), "quay.io") is None
    assert "reading ocireg:quay.io failed: KeyringLocked: the collection is locked" in caplog.text


# -- entry point, laziness and order ------------------------------------------------------


def test_importing_and_loading_does_not_import_keyring() -> None:
    code = textwrap.dedent(
        """
        import sys
        import ocireg_keyring
        from ocireg.client import Client

        client = Client()
        assert dict(client.plugin_manager.list_name_plugin())["keyring"] is ocireg_keyring.plugin
        loaded = sorted(m for m in sys.modules if m.split(".")[0] == "keyring")
        print(loaded)
        sys.exit(1 if loaded else 0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_loads_through_its_entry_point(file_keyring: Any) -> None:
    store("quay.io", "alice", "s3cret")
    client = Client()
    assert dict(client.plugin_manager.list_name_plugin())["keyring"] is ocireg_keyring.plugin
    explained = client.explain_credentials("quay.io")
    assert explained["provider"] == "keyring"
    assert explained["asked"][: len(CREDENTIAL_ORDER)] == list(CREDENTIAL_ORDER)
    assert (explained["kind"], explained["username"]) == ("basic", "alice")
    assert explained["source"].endswith("FileKeyring): service ocireg:quay.io, user alice")
    assert keyring.get_keyring() is file_keyring


def test_builtin_providers_answer_first(file_keyring: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    store("quay.io", "alice", "s3cret")
    explicit = Client(credentials={"quay.io": ("me", "pw")})
    assert explicit.explain_credentials("quay.io")["provider"] == "explicit"
    assert explicit.plugin_manager.hook.ocireg_get_credentials(
        registry="quay.io", repository=None
    ) == BasicCredentials("me", "pw")
    assert Client(blocked_plugins=("keyring",)).explain_credentials("quay.io")["provider"] is None

    monkeypatch.setenv("OCIREG_QUAY_IO_USERNAME", "ci")
    monkeypatch.setenv("OCIREG_QUAY_IO_PASSWORD", "ci-pass")
    assert Client().explain_credentials("quay.io")["provider"] == "environment"
