"""Every credential source, against the real registry in Basic and token modes, with no
credential in the code: docker ``config.json`` (``auths``, ``DOCKER_CONFIG``, ``credHelpers``
and ``credsStore`` running the real ``docker-credential-pass``), containers ``auth.json``
(``REGISTRY_AUTH_FILE``, ``XDG_RUNTIME_DIR``, ``XDG_CONFIG_HOME``, namespaced keys),
environment variables and ``DOCKER_AUTH_CONFIG``; then the precedence between them, as
``explain_credentials`` reports it, and helpers that hang, crash or print garbage.

The tests read the registry's random passwords from the fixtures and put them where each
source keeps them. Every test runs with a scrubbed environment and a temporary HOME.
"""

from __future__ import annotations

import base64
import json
import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ocireg import (
    AuthenticationError,
    BasicCredentials,
    Client,
    Credentials,
    DeniedError,
    IdentityToken,
    PluginError,
    hookimpl,
)
from ocireg.auth.token import TOKENS
from ocireg.builtin import credential_helpers as helpers
from ocireg.builtin import environment
from tests.fixtures.images import Pushed, Pusher
from tests.fixtures.isolation import isolated_credentials
from tests.fixtures.passstore import PassStore, make_pass_store
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live

REPO = "creds/app"
TAG = "v1"
WRONG = "not-the-password"


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["basic", "token"])
def registry(request: pytest.FixtureRequest) -> Registry:
    """The session's Basic-mode registry, then its token-mode one."""
    reg: Registry = request.getfixturevalue(f"registry_{request.param}")
    return reg


_PUSHED: dict[str, Pushed] = {}


def pushed_image(registry: Registry) -> Pushed:
    """``creds/app:v1``, pushed once per registry with plain requests."""
    if registry.host not in _PUSHED:
        _PUSHED[registry.host] = Pusher(registry).image(REPO, TAG)
    return _PUSHED[registry.host]


@pytest.fixture(scope="module")
def image(registry: Registry) -> Pushed:
    return pushed_image(registry)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    with isolated_credentials(monkeypatch, tmp_path) as home:
        yield home


@pytest.fixture(scope="module")
def pass_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PassStore]:
    """One gpg key per module (key generation is the slow part); the helper processes that
    ocireg starts inherit GNUPGHOME and PASSWORD_STORE_DIR from our environment."""
    with (
        make_pass_store(tmp_path_factory.mktemp("pass")) as store,
        pytest.MonkeyPatch.context() as mp,
    ):
        for name, value in store.env.items():
            mp.setenv(name, value)
        yield store


# -- helpers --------------------------------------------------------------------------------


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def client(**kwargs: Any) -> Client:
    """A Client with no credentials in code and no installed plugins."""
    kwargs.setdefault("load_entrypoints", False)
    return Client(**kwargs)


def password(registry: Registry) -> str:
    return registry.credentials("alice")[1]


def assert_pulls(c: Client, registry: Registry, image: Pushed) -> None:
    """Authenticated reads: the tag list and the manifest by tag, verified by digest."""
    ref = f"{registry.host}/{REPO}"
    assert c.tags(ref) == [TAG]
    assert str(c.get_manifest(f"{ref}:{TAG}").digest) == image.digest


def assert_refused(c: Client, registry: Registry) -> None:
    with pytest.raises((AuthenticationError, DeniedError)):
        c.tags(f"{registry.host}/{REPO}")


def explain(
    c: Client,
    registry: Registry,
    *,
    provider: str,
    kind: str = "basic",
    username: str | None = "alice",
    source: str = "",
    repository: str | None = REPO,
) -> dict[str, Any]:
    info = c.explain_credentials(registry.host, repository)
    assert info["registry"] == registry.host
    assert info["provider"] == provider, info
    assert info["kind"] == kind
    if username is not None:
        assert info["username"] == username
    assert source in info["source"], info
    for secret in registry.users.values():
        assert secret not in repr(info)
        assert b64(f"alice:{secret}") not in repr(info)
    return info


# -- docker config.json ---------------------------------------------------------------------


def test_anonymous_is_refused(registry: Registry, image: Pushed) -> None:
    with client() as c:
        assert c.explain_credentials(registry.host)["provider"] is None
        assert_refused(c, registry)


def test_config_json_auths_in_home(registry: Registry, image: Pushed, isolated: Path) -> None:
    config = write_json(
        isolated / ".docker" / "config.json",
        {"auths": {registry.host: {"auth": b64(f"alice:{password(registry)}")}}},
    )
    with client() as c:
        assert_pulls(c, registry, image)
        explain(c, registry, provider="docker-config", source=f"{config} auths[")


def test_docker_config_variable_points_elsewhere(
    registry: Registry, image: Pushed, isolated: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    write_json(
        isolated / ".docker" / "config.json",
        {"auths": {registry.host: {"auth": b64(f"alice:{WRONG}")}}},
    )
    elsewhere = write_json(
        tmp_path / "elsewhere" / "config.json",
        {
            "auths": {
                f"http://{registry.host}/v2/": {"username": "alice", "password": password(registry)}
            }
        },
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(elsewhere.parent))
    with client() as c:
        assert_pulls(c, registry, image)
        explain(c, registry, provider="docker-config", source=str(elsewhere))
    # Client(docker_config=...) beats the variable
    with client(docker_config=isolated / ".docker") as c:
        assert_refused(c, registry)


def test_cred_helpers_run_docker_credential_pass(
    registry: Registry, image: Pushed, isolated: Path, pass_store: PassStore
) -> None:
    pass_store.store(registry.host, "alice", password(registry))
    try:
        write_json(
            isolated / ".docker" / "config.json",
            {"auths": {registry.host: {}}, "credHelpers": {registry.host: "pass"}},
        )
        with client() as c:
            assert_pulls(c, registry, image)
            explain(
                c,
                registry,
                provider="docker-config",
                source=f"credHelpers[{registry.host}] -> docker-credential-pass",
            )
    finally:
        pass_store.erase(registry.host)


def test_creds_store_runs_docker_credential_pass(
    registry: Registry, image: Pushed, isolated: Path, pass_store: PassStore
) -> None:
    # Docker Desktop's shape: empty placeholders in auths, the secret in the store. The
    # helper knows the server by the spelling used at login, here with a scheme.
    server = f"http://{registry.host}"
    pass_store.store(server, "alice", password(registry))
    try:
        write_json(
            isolated / ".docker" / "config.json",
            {"auths": {server: {}}, "credsStore": "pass"},
        )
        with client() as c:
            assert_pulls(c, registry, image)
            explain(
                c, registry, provider="docker-config", source="credsStore -> docker-credential-pass"
            )
    finally:
        pass_store.erase(server)


def test_pass_without_an_entry_is_anonymous(
    registry: Registry, image: Pushed, isolated: Path, pass_store: PassStore
) -> None:
    # docker-credential-pass 0.6.4 answers an unknown server with exit 0 and an empty secret
    assert pass_store.run("get", "unknown.test:1").returncode == 0
    write_json(isolated / ".docker" / "config.json", {"credsStore": "pass"})
    with client() as c:
        assert c.explain_credentials(registry.host)["provider"] is None
        assert_refused(c, registry)


def test_ocireg_stores_and_erases_through_the_real_helper(
    registry: Registry, pass_store: PassStore
) -> None:
    key = f"ocireg-test.{registry.mode}.invalid"
    helpers.store("pass", key, "robot", "robot-secret")
    found = helpers.get("pass", key)
    assert found == BasicCredentials("robot", "robot-secret")
    helpers.erase("pass", key)
    assert helpers.get("pass", key) is None


# -- identity and registry tokens (token mode) ----------------------------------------------


def refresh_token(registry: Registry) -> str:
    """An OAuth2 refresh token from the token server (password grant, offline access)."""
    server = registry.token_server
    assert server is not None
    resp = requests.post(
        server.realm,
        data={
            "grant_type": "password",
            "username": "alice",
            "password": password(registry),
            "service": server.service,
            "scope": f"repository:{REPO}:pull",
            "client_id": "ocireg-tests",
            "access_type": "offline",
        },
        timeout=10,
    )
    resp.raise_for_status()
    token: str = resp.json()["refresh_token"]
    return token


def bearer_token(registry: Registry) -> str:
    server = registry.token_server
    assert server is not None
    resp = requests.get(
        server.realm,
        params={"service": server.service, "scope": f"repository:{REPO}:pull"},
        auth=registry.credentials("alice"),
        timeout=10,
    )
    resp.raise_for_status()
    token: str = resp.json()["token"]
    return token


@pytest.fixture(scope="module")
def token_image(registry_token: Registry) -> Pushed:
    """``creds/app:v1`` on the token-mode registry (identity tokens need a token server)."""
    return pushed_image(registry_token)


def test_identity_token_in_config_json(
    registry_token: Registry, token_image: Pushed, isolated: Path
) -> None:
    registry, image = registry_token, token_image
    token = refresh_token(registry)
    write_json(
        isolated / ".docker" / "config.json", {"auths": {registry.host: {"identitytoken": token}}}
    )
    with client() as c:
        assert_pulls(c, registry, image)
        info = explain(
            c, registry, provider="docker-config", kind="identity-token", username="<token>"
        )
        assert token not in repr(info)


def test_token_username_from_pass_is_an_identity_token(
    registry_token: Registry, token_image: Pushed, isolated: Path, pass_store: PassStore
) -> None:
    registry, image = registry_token, token_image
    token = refresh_token(registry)
    pass_store.store(registry.host, "<token>", token)
    try:
        write_json(isolated / ".docker" / "config.json", {"credHelpers": {registry.host: "pass"}})
        with client() as c:
            found = c.credentials_for(registry.host, REPO)
            assert isinstance(found, IdentityToken)
            assert_pulls(c, registry, image)
            info = explain(
                c, registry, provider="docker-config", kind="identity-token", username="<token>"
            )
            assert token not in repr(info)
    finally:
        pass_store.erase(registry.host)


def test_environment_tokens(
    registry_token: Registry, token_image: Pushed, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry, image = registry_token, token_image
    prefix = environment.env_prefix(registry.host)
    monkeypatch.setenv(f"{prefix}_IDENTITY_TOKEN", refresh_token(registry))
    with client() as c:
        assert_pulls(c, registry, image)
        explain(c, registry, provider="environment", kind="identity-token", username="<token>")
    TOKENS.clear()
    # a ready bearer token is sent as it is
    monkeypatch.setenv(f"{prefix}_TOKEN", bearer_token(registry))
    with client() as c:
        assert_pulls(c, registry, image)
        explain(
            c,
            registry,
            provider="environment",
            kind="registry-token",
            username=None,
            source=f"{prefix}_TOKEN",
        )


# -- containers auth.json -------------------------------------------------------------------


def test_registry_auth_file(
    registry: Registry, image: Pushed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The runtime-dir file holds a wrong password: REGISTRY_AUTH_FILE alone is read.
    write_json(
        tmp_path / "run" / "containers" / "auth.json",
        {"auths": {registry.host: {"auth": b64(f"alice:{WRONG}")}}},
    )
    given = write_json(
        tmp_path / "given-auth.json",
        {"auths": {registry.host: {"auth": b64(f"alice:{password(registry)}")}}},
    )
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(given))
    with client() as c:
        assert_pulls(c, registry, image)
        explain(c, registry, provider="containers-auth", source=str(given))


def test_xdg_runtime_dir_then_xdg_config_home(
    registry: Registry, image: Pushed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    config_home = write_json(
        tmp_path / "xdg-config" / "containers" / "auth.json",
        {"auths": {registry.host: {"auth": b64(f"alice:{password(registry)}")}}},
    )
    with client() as c:
        assert_pulls(c, registry, image)
        explain(c, registry, provider="containers-auth", source=str(config_home))
    runtime = write_json(
        tmp_path / "run" / "containers" / "auth.json",
        {"auths": {registry.host: {"auth": b64(f"alice:{WRONG}")}}},
    )
    TOKENS.clear()
    with client() as c:
        explain(c, registry, provider="containers-auth", source=str(runtime))
        assert_refused(c, registry)


def test_containers_namespaced_keys(
    registry: Registry, image: Pushed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, right = registry.host, password(registry)
    auths = {
        host: {"auth": b64(f"alice:{WRONG}")},
        f"{host}/creds": {"auth": b64(f"alice:{WRONG}")},
        f"{host}/creds/app": {"auth": b64(f"alice:{right}")},
    }
    path = write_json(tmp_path / "auth.json", {"auths": auths})
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(path))
    with client() as c:
        assert_pulls(c, registry, image)
        explain(c, registry, provider="containers-auth", source=f"auths['{host}/creds/app']")
        explain(
            c,
            registry,
            provider="containers-auth",
            source=f"auths['{host}/creds']",
            repository="creds/other",
        )
        explain(
            c,
            registry,
            provider="containers-auth",
            source=f"auths['{host}']",
            repository="else/app",
        )
    del auths[f"{host}/creds/app"]
    auths[f"{host}/creds"] = {"auth": b64(f"alice:{right}")}
    write_json(path, {"auths": auths})
    TOKENS.clear()
    with client() as c:
        assert_pulls(c, registry, image)
        explain(c, registry, provider="containers-auth", source=f"auths['{host}/creds']")


# -- environment variables ------------------------------------------------------------------


def test_global_environment_variables(
    registry: Registry, image: Pushed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCIREG_USERNAME", "alice")
    monkeypatch.setenv("OCIREG_PASSWORD", password(registry))
    with client() as c:
        assert_pulls(c, registry, image)
        explain(c, registry, provider="environment-generic", source="OCIREG_USERNAME/_PASSWORD")


def test_per_registry_environment_variables_win(
    registry: Registry, image: Pushed, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = "OCIREG_127_0_0_1_" + str(registry.port)  # the documented naming, spelt out
    assert environment.env_prefix(registry.host) == prefix
    monkeypatch.setenv("OCIREG_USERNAME", "alice")
    monkeypatch.setenv("OCIREG_PASSWORD", WRONG)
    monkeypatch.setenv(f"{prefix}_USERNAME", "alice")
    monkeypatch.setenv(f"{prefix}_PASSWORD", password(registry))
    with client() as c:
        assert_pulls(c, registry, image)
        explain(c, registry, provider="environment", source=f"{prefix}_USERNAME/_PASSWORD")


def test_docker_auth_config_variable(
    registry: Registry, image: Pushed, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = {"auths": {registry.host: {"auth": b64(f"alice:{password(registry)}")}}}
    monkeypatch.setenv("DOCKER_AUTH_CONFIG", json.dumps(doc))
    with client() as c:
        assert_pulls(c, registry, image)
        explain(c, registry, provider="environment", source="DOCKER_AUTH_CONFIG auths[")


# -- precedence -----------------------------------------------------------------------------


class StaticProvider:
    """A plugin answering for one registry host only."""

    name = "static"

    def __init__(self, host: str, user: str, secret: str) -> None:
        self.host = host
        self.creds = BasicCredentials(user, secret, source="static test plugin")

    @hookimpl
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        return self.creds if registry == self.host else None


#: The documented order, best first; "static" stands for any plugin. The generic
#: OCIREG_USERNAME/OCIREG_PASSWORD pair names no registry: it is asked after every plugin.
ORDER = (
    "explicit",
    "environment",
    "docker-config",
    "containers-auth",
    "static",
    "environment-generic",
)

Arrange = Callable[[str, str], dict[str, Any]]


@pytest.fixture
def arrange(
    registry: Registry, isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[dict[str, str | None]], dict[str, Any]]:
    """``arrange({source: password})`` puts alice with that password into each named source
    (``None``: a plugin for another host) and returns the Client keyword arguments that
    complete the setup."""

    def put(passwords: dict[str, str | None]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        host = registry.host
        for source, secret in passwords.items():
            if secret is None:  # a plugin that is asked but knows another host only
                kwargs["plugins"] = [StaticProvider("elsewhere.invalid", "bob", WRONG)]
                continue
            entry = {"auths": {host: {"auth": b64(f"alice:{secret}")}}}
            if source == "explicit":
                kwargs["credentials"] = {host: ("alice", secret)}
            elif source == "environment":
                prefix = environment.env_prefix(host)
                monkeypatch.setenv(f"{prefix}_USERNAME", "alice")
                monkeypatch.setenv(f"{prefix}_PASSWORD", secret)
            elif source == "docker-config":
                write_json(isolated / ".docker" / "config.json", entry)
            elif source == "containers-auth":
                monkeypatch.setenv(
                    "REGISTRY_AUTH_FILE", str(write_json(tmp_path / "auth.json", entry))
                )
            elif source == "environment-generic":
                monkeypatch.setenv("OCIREG_USERNAME", "alice")
                monkeypatch.setenv("OCIREG_PASSWORD", secret)
            else:
                kwargs["plugins"] = [StaticProvider(host, "alice", secret)]
        return kwargs

    return put


@pytest.mark.parametrize("winner", ORDER)
def test_the_documented_source_wins(
    registry: Registry,
    image: Pushed,
    arrange: Callable[[dict[str, str | None]], dict[str, Any]],
    winner: str,
) -> None:
    """Sources before the winner are empty, the winner holds the right password and every
    source after it a wrong one: only the documented order can authenticate."""
    rank = ORDER.index(winner)
    passwords: dict[str, str | None] = {"static": None}  # asked, but for another host
    passwords |= {winner: password(registry)} | {s: WRONG for s in ORDER[rank + 1 :]}
    with client(**arrange(passwords)) as c:
        assert_pulls(c, registry, image)
        info = explain(c, registry, provider=winner)
        assert info["asked"] == list(ORDER[: rank + 1])


@pytest.mark.parametrize("higher", ORDER[:-1])
def test_a_higher_source_wins_even_when_wrong(
    registry: Registry,
    image: Pushed,
    arrange: Callable[[dict[str, str | None]], dict[str, Any]],
    higher: str,
) -> None:
    """No fallback on failure: the first source that answers is used, and its refusal is
    the answer (a wrong password in the environment is not papered over by the config)."""
    lower = ORDER[ORDER.index(higher) + 1]
    with client(**arrange({higher: WRONG, lower: password(registry)})) as c:
        explain(c, registry, provider=higher)
        assert_refused(c, registry)


# -- failing helpers ------------------------------------------------------------------------

FAKE_HELPERS = {
    "hang": "sleep 30",
    "crash": 'echo "keychain exploded"; exit 3',
    "garbage": 'echo "Username: alice Secret: fake-s3cret-in-garbage"',
}
EXPECTED = {
    "hang": "did not answer 'get' within 0.5 s",
    "crash": "failed on 'get' (exit 3): keychain exploded",
    "garbage": "printed something that is not JSON",
}


@pytest.mark.parametrize("kind", sorted(FAKE_HELPERS))
def test_a_failing_helper_is_a_clear_plugin_error(
    registry: Registry,
    image: Pushed,
    isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / f"docker-credential-{kind}"
    script.write_text("#!/bin/sh\n" + textwrap.dedent(FAKE_HELPERS[kind]) + "\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(helpers, "HELPER_TIMEOUT", 0.5)
    write_json(isolated / ".docker" / "config.json", {"credHelpers": {registry.host: kind}})
    with client() as c, pytest.raises(PluginError) as err:
        c.tags(f"{registry.host}/{REPO}")
    message = str(err.value)
    assert err.value.plugin == f"docker-credential-{kind}"
    assert message == f"credential helper docker-credential-{kind} {EXPECTED[kind]}"
    assert "fake-s3cret" not in message
    assert err.value.__cause__ is None
    assert err.value.__context__ is None or err.value.__suppress_context__
