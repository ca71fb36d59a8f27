"""The environment variables that name no registry (``OCIREG_USERNAME``/``OCIREG_PASSWORD``,
``OCIREG_TOKEN``, ``OCIREG_IDENTITY_TOKEN``) are asked last, after docker ``config.json``,
containers ``auth.json`` and every plugin: a program talking to several registries sends
them only where no source that knows the host answers. The per-registry variables
(``OCIREG_<HOST>_*``) and ``DOCKER_AUTH_CONFIG`` keep their early place."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocireg import BasicCredentials, Client, Credentials, RegistryToken, hookimpl
from ocireg.builtin import environment
from ocireg.plugins import CREDENTIAL_LAST, CREDENTIAL_ORDER
from tests.fixtures.isolation import isolated_credentials

HOST = "registry.test:5000"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    with isolated_credentials(monkeypatch, tmp_path) as home:
        yield home


class Known:
    """A plugin that knows one host."""

    name = "known"

    def __init__(self, host: str) -> None:
        self.host = host

    @hookimpl(trylast=True)  # even a trylast plugin comes before the generic pair
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        return BasicCredentials("plugin", "pw") if registry == self.host else None


def client(**kwargs: object) -> Client:
    return Client(load_entrypoints=False, **kwargs)  # type: ignore[arg-type]


def test_the_order_constants() -> None:
    assert CREDENTIAL_ORDER == ("explicit", "environment", "docker-config", "containers-auth")
    assert CREDENTIAL_LAST == ("environment-generic",)


def test_generic_pair_answers_only_where_nothing_else_does(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCIREG_USERNAME", "ci")
    monkeypatch.setenv("OCIREG_PASSWORD", "ci-pw")
    config = isolated / ".docker" / "config.json"
    config.parent.mkdir()
    auth = base64.b64encode(b"file:pw").decode()
    config.write_text(json.dumps({"auths": {"from-config.test": {"auth": auth}}}))
    with client(plugins=[Known("from-plugin.test")]) as c:
        assert c.explain_credentials("from-config.test")["provider"] == "docker-config"
        assert c.explain_credentials("from-plugin.test")["provider"] == "known"
        info = c.explain_credentials("anything.test")
        assert (info["provider"], info["username"]) == ("environment-generic", "ci")
        assert info["source"] == "environment OCIREG_USERNAME/_PASSWORD"
        assert info["asked"] == [*CREDENTIAL_ORDER, "known", *CREDENTIAL_LAST]


def test_generic_token_is_asked_last_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCIREG_TOKEN", "bearer")
    with client(plugins=[Known(HOST)]) as c:
        assert c.explain_credentials(HOST)["provider"] == "known"
        assert c.credentials_for("other.test") == RegistryToken("bearer")


def test_per_registry_variables_keep_their_early_place(monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = environment.env_prefix(HOST)
    monkeypatch.setenv(f"{prefix}_USERNAME", "host-user")
    monkeypatch.setenv(f"{prefix}_PASSWORD", "pw")
    with client(plugins=[Known(HOST)]) as c:
        info = c.explain_credentials(HOST)
        assert (info["provider"], info["username"]) == ("environment", "host-user")
        assert info["asked"] == ["explicit", "environment"]


def test_blocking_environment_blocks_both_halves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCIREG_USERNAME", "ci")
    monkeypatch.setenv("OCIREG_PASSWORD", "ci-pw")
    with client(blocked_plugins=["environment"]) as c:
        assert c.plugin_manager.get_plugin("environment-generic") is None
        assert c.explain_credentials(HOST)["provider"] is None
    with client(blocked_plugins=["environment-generic"]) as c:  # the generic half alone
        assert c.plugin_manager.get_plugin("environment") is not None
        assert c.explain_credentials(HOST)["provider"] is None
