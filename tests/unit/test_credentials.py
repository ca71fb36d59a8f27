"""Credential providers without a registry: docker ``config.json`` and containers ``auth.json``
parsing, credential helpers (fake ``docker-credential-*`` scripts), environment variables,
the order policy of the plugin manager, ``explain_credentials`` and manifest-handler clashes.

Every test runs in a scrubbed environment (``isolated``): a temporary HOME, no ``DOCKER_*``,
``REGISTRY_AUTH_FILE``, ``XDG_*`` or ``OCIREG_*`` variables from the caller, empty helper and
token caches, and Clients built with ``load_entrypoints=False`` so installed plugins stay out.
The live counterparts (real registry, real ``docker-credential-pass``) are in
``tests/live/test_credential_sources.py``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ocireg import (
    BasicCredentials,
    Client,
    Credentials,
    IdentityToken,
    ManifestError,
    PluginError,
    RegistryToken,
    hookimpl,
)
from ocireg.builtin import containers_auth, docker_config, environment
from ocireg.builtin import credential_helpers as helpers
from ocireg.manifests import ImageManifest
from ocireg.mediatypes import OCI_MANIFEST
from tests.fixtures.cli import cli_env
from tests.fixtures.isolation import isolated_credentials

HOST = "registry.test:5000"
HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")

FakeHelper = Callable[[str, str], Path]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def assert_unchained(exc: BaseException) -> None:
    """No exception is chained to ``exc``: its traceback shows no third-party frames or
    locals, only the message."""
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__


def make_client(**kwargs: Any) -> Client:
    kwargs.setdefault("load_entrypoints", False)
    return Client(**kwargs)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    with isolated_credentials(monkeypatch, tmp_path, also=("EXAMPLE_VAULT_FILE",)) as home:
        yield home


@pytest.fixture
def fake_helper(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeHelper:
    """``fake_helper("name", body)`` writes ``docker-credential-name`` (a /bin/sh script)
    into a directory put first on PATH, and returns its path."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")

    def make(name: str, body: str) -> Path:
        script = bindir / f"docker-credential-{name}"
        script.write_text("#!/bin/sh\n" + textwrap.dedent(body).lstrip())
        script.chmod(0o755)
        return script

    return make


def echo_helper(fake_helper: FakeHelper, name: str, user: str, *, log: Path | None = None) -> None:
    """A helper answering ``get`` for any URL with user ``user@<url>`` and secret
    ``pw-<name>``; each run appends the URL to ``log`` when given."""
    record = f'echo "$url" >> "{log}"' if log else ":"
    fake_helper(
        name,
        f"""
        read -r url
        {record}
        printf '{{"ServerURL":"%s","Username":"{user}@%s","Secret":"pw-{name}"}}' "$url" "$url"
        """,
    )


# -- docker config.json: one auths entry ----------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "user", "password"),
    [
        ({"auth": b64("alice:wonderland")}, "alice", "wonderland"),
        # split at the first ':' only: passwords may contain colons
        ({"auth": b64("alice:a:b:c")}, "alice", "a:b:c"),
        # trailing NULs (written by some old tools) are trimmed from the password
        ({"auth": b64("alice:secret\x00\x00")}, "alice", "secret"),
        ({"username": "bob", "password": "builder"}, "bob", "builder"),
        # auth wins over the separate fields, as in docker/cli
        ({"auth": b64("alice:right"), "username": "x", "password": "y"}, "alice", "right"),
        ({"auth": b64("alice:pw"), "email": "a@example.invalid"}, "alice", "pw"),
    ],
    ids=["auth", "first-colon", "trailing-nul", "fields", "auth-wins", "legacy-email"],
)
def test_auths_entry_basic(entry: dict[str, str], user: str, password: str) -> None:
    found = docker_config.entry_credentials(entry, "cfg")
    assert found == BasicCredentials(user, password)
    assert found.source == "cfg"
    assert password not in repr(found)


def test_auths_entry_identity_token() -> None:
    found = docker_config.entry_credentials({"identitytoken": "refresh-123"}, "cfg")
    assert isinstance(found, IdentityToken)
    assert (found.token, found.username, found.kind) == ("refresh-123", "<token>", "identity-token")
    named = docker_config.entry_credentials(
        {"auth": b64("alice:"), "identitytoken": "refresh-123"}, "cfg"
    )
    assert isinstance(named, IdentityToken)
    assert named.username == "alice"
    assert "refresh-123" not in repr(named)


def test_auths_entry_registry_token() -> None:
    found = docker_config.entry_credentials({"registrytoken": "bearer-xyz"}, "cfg")
    assert isinstance(found, RegistryToken)
    assert found.token == "bearer-xyz"
    assert found.kind == "registry-token"
    assert "bearer-xyz" not in repr(found)


@pytest.mark.parametrize(
    "entry",
    [
        {},
        {"auth": ""},
        {"auth": b64(":")},
        {"auth": b64("alice:")},
        {"auth": b64(":secret")},  # an empty user name is invalid (docker/cli)
        {"email": "a@example.invalid", "serveraddress": "x"},
        {"username": "alice"},
        {"identitytoken": ""},
        "not-an-object",
        None,
    ],
    ids=repr,
)
def test_placeholders_are_not_credentials(entry: Any) -> None:
    assert docker_config.entry_credentials(entry, "cfg") is None


@pytest.mark.parametrize(
    "auth",
    ["!!!not base64!!!", b64("no-colon-here"), b64("x") + "="],
    ids=["junk", "nocolon", "pad"],
)
def test_bad_auth_is_a_plugin_error_naming_the_entry(auth: str) -> None:
    with pytest.raises(PluginError) as err:
        docker_config.entry_credentials({"auth": auth}, "/cfg/config.json auths['h']")
    assert "/cfg/config.json auths['h']" in str(err.value)
    assert err.value.plugin == "docker-config"
    assert "no-colon-here" not in str(err.value)
    assert_unchained(err.value)


# -- docker config.json: finding the entry -----------------------------------------------------


def test_exact_key_then_keys_with_scheme_or_path_matched_by_host() -> None:
    doc = {
        "auths": {
            f"https://{HOST}/v1/": {"auth": b64("legacy:one")},
            "other.test": {"auth": b64("other:two")},
        }
    }
    found = docker_config.lookup(doc, HOST, "cfg")
    assert isinstance(found, BasicCredentials)
    assert found.username == "legacy"
    assert f"auths['https://{HOST}/v1/']" in found.source
    doc["auths"][HOST] = {"auth": b64("exact:three")}
    found = docker_config.lookup(doc, HOST, "cfg")
    assert isinstance(found, BasicCredentials)
    assert found.username == "exact"
    assert docker_config.lookup(doc, "nowhere.test", "cfg") is None
    # a different port is a different registry
    assert docker_config.lookup(doc, "registry.test:5001", "cfg") is None


def test_empty_placeholder_falls_through_to_a_real_entry() -> None:
    doc = {"auths": {HOST: {}, f"http://{HOST}": {"auth": b64("alice:pw")}}}
    found = docker_config.lookup(doc, HOST, "cfg")
    assert isinstance(found, BasicCredentials)
    assert found.username == "alice"


@pytest.mark.parametrize("registry", HUB_ALIASES)
def test_docker_hub_is_stored_under_the_index_v1_url(registry: str) -> None:
    doc = {"auths": {"https://index.docker.io/v1/": {"auth": b64("hubuser:hubpw")}}}
    found = docker_config.lookup(doc, registry, "cfg")
    assert isinstance(found, BasicCredentials)
    assert found.username == "hubuser"
    assert docker_config.server_key(registry) == docker_config.HUB_KEY


def test_docker_config_file_location(isolated: Path, tmp_path: Path, monkeypatch: Any) -> None:
    assert docker_config.config_path() == isolated / ".docker" / "config.json"
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "elsewhere"))
    assert docker_config.config_path() == tmp_path / "elsewhere" / "config.json"
    assert docker_config.config_path(tmp_path / "given") == tmp_path / "given" / "config.json"


def test_provider_reads_home_docker_config_and_docker_config_env(
    isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_json(isolated / ".docker" / "config.json", {"auths": {HOST: {"auth": b64("home:pw")}}})
    write_json(tmp_path / "dc" / "config.json", {"auths": {HOST: {"auth": b64("env:pw")}}})
    with make_client() as client:
        found = client.credentials_for(HOST)
        assert isinstance(found, BasicCredentials)
        assert found.username == "home"
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))
    with make_client() as client:
        found = client.credentials_for(HOST)
        assert isinstance(found, BasicCredentials)
        assert found.username == "env"
        assert str(tmp_path / "dc" / "config.json") in found.source
    with make_client(docker_config=isolated / ".docker") as client:
        found = client.credentials_for(HOST)
        assert isinstance(found, BasicCredentials)
        assert found.username == "home"


@pytest.mark.parametrize(
    ("text", "problem"),
    [("{not json", "not valid JSON"), ('["a list"]', "not a JSON object")],
    ids=["syntax", "list"],
)
def test_invalid_config_is_a_plugin_error_naming_the_file(
    isolated: Path, text: str, problem: str
) -> None:
    path = isolated / ".docker" / "config.json"
    path.parent.mkdir()
    path.write_text(text)
    with make_client() as client, pytest.raises(PluginError) as err:
        client.credentials_for(HOST)
    assert str(path) in str(err.value)
    assert problem in str(err.value)
    assert err.value.plugin == "docker-config"
    assert_unchained(err.value)


def test_empty_config_file_holds_no_credentials(isolated: Path) -> None:
    (isolated / ".docker").mkdir()
    (isolated / ".docker" / "config.json").write_text("")
    with make_client() as client:
        assert client.credentials_for(HOST) is None


def test_cred_helpers_beat_creds_store_which_beats_auths(
    fake_helper: FakeHelper, tmp_path: Path
) -> None:
    echo_helper(fake_helper, "one", "one")
    echo_helper(fake_helper, "two", "two")
    doc = {
        "auths": {HOST: {"auth": b64("file:pw")}, "plain.test": {"auth": b64("file:pw")}},
        "credHelpers": {HOST: "one"},
        "credsStore": "two",
    }
    found = docker_config.lookup(doc, HOST, "cfg")
    assert isinstance(found, BasicCredentials)
    assert (found.username, found.password) == (f"one@{HOST}", "pw-one")
    assert found.source == f"cfg credHelpers[{HOST}] -> docker-credential-one"
    # credsStore takes every other host, even one with an auths entry (docker/cli)
    found = docker_config.lookup(doc, "plain.test", "cfg")
    assert isinstance(found, BasicCredentials)
    assert found.username == "two@plain.test"
    assert found.source == "cfg credsStore -> docker-credential-two"
    del doc["credsStore"]
    found = docker_config.lookup(doc, "plain.test", "cfg")
    assert isinstance(found, BasicCredentials)
    assert found.username == "file"
    # an empty helper name means "no helper" (docker/cli)
    doc["credHelpers"] = {HOST: ""}
    found = docker_config.lookup(doc, HOST, "cfg")
    assert isinstance(found, BasicCredentials)
    assert found.username == "file"


def test_helper_not_found_means_anonymous_not_the_auths_entry(fake_helper: FakeHelper) -> None:
    fake_helper(
        "empty",
        """
        echo "credentials not found in native keychain"
        exit 1
        """,
    )
    doc = {"auths": {HOST: {"auth": b64("file:pw")}}, "credsStore": "empty"}
    assert docker_config.lookup(doc, HOST, "cfg") is None


def test_helper_is_asked_with_the_config_spelling_when_the_host_is_unknown(
    fake_helper: FakeHelper, tmp_path: Path
) -> None:
    # Helpers key entries by the ServerURL given at login: "https://host" is not "host".
    fake_helper(
        "picky",
        f"""
        read -r url
        if [ "$url" = "https://{HOST}" ]; then
          printf '{{"ServerURL":"%s","Username":"picky","Secret":"pw"}}' "$url"
        else
          echo "credentials not found in native keychain"; exit 1
        fi
        """,
    )
    doc = {"auths": {f"https://{HOST}": {}}, "credsStore": "picky"}
    found = docker_config.lookup(doc, HOST, "cfg")
    assert isinstance(found, BasicCredentials)
    assert found.username == "picky"


@pytest.mark.parametrize("registry", HUB_ALIASES)
def test_hub_helpers_get_the_index_v1_url(fake_helper: FakeHelper, registry: str) -> None:
    echo_helper(fake_helper, "hub", "hub")
    doc = {"credHelpers": {"docker.io": "hub"}}
    found = docker_config.lookup(doc, registry, "cfg")
    assert isinstance(found, BasicCredentials)
    assert found.username == "hub@https://index.docker.io/v1/"


# -- credential helpers ---------------------------------------------------------------------


def test_helper_answer_and_cache(fake_helper: FakeHelper, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    echo_helper(fake_helper, "counted", "u", log=log)
    first = helpers.get("counted", HOST, source="first")
    again = helpers.get("counted", HOST, source="second")
    assert first == again == BasicCredentials(f"u@{HOST}", "pw-counted")
    assert isinstance(again, BasicCredentials)
    assert again.source == "second"  # the cached answer says who asked this time
    assert log.read_text().split() == [HOST]  # one process for both
    helpers.clear_helper_cache()
    helpers.get("counted", HOST)
    assert log.read_text().split() == [HOST, HOST]


def test_helper_token_username_means_identity_token(fake_helper: FakeHelper) -> None:
    fake_helper("tok", """printf '{"ServerURL":"x","Username":"<token>","Secret":"refresh-1"}'""")
    found = helpers.get("tok", HOST)
    assert isinstance(found, IdentityToken)
    assert found.token == "refresh-1"
    assert "refresh-1" not in repr(found)


def test_helper_not_found_in_keychain_is_anonymous(fake_helper: FakeHelper) -> None:
    fake_helper("nf", 'echo "credentials not found in native keychain"; exit 1')
    assert helpers.get("nf", HOST) is None


def test_pass_064_empty_secret_is_anonymous(fake_helper: FakeHelper) -> None:
    # docker-credential-pass 0.6.4 answers an unknown server with exit 0 and empty fields.
    fake_helper(
        "oldpass", """read -r url; printf '{"ServerURL":"%s","Username":"","Secret":""}' "$url" """
    )
    assert helpers.get("oldpass", HOST) is None


def test_hanging_helper_times_out_and_is_killed(
    fake_helper: FakeHelper, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(helpers, "HELPER_TIMEOUT", 1.0)
    pids = tmp_path / "pids"
    # The shell starts a child that holds the output pipe: both must go.
    fake_helper("hang", f'sleep 60 & echo "$$ $!" > "{pids}"; wait')
    started = time.monotonic()
    with pytest.raises(PluginError) as err:
        helpers.get("hang", HOST)
    assert time.monotonic() - started < 10
    message = str(err.value)
    assert err.value.plugin == "docker-credential-hang"
    assert "docker-credential-hang" in message
    assert "did not answer 'get' within 1 s" in message
    assert_unchained(err.value)
    for pid in pids.read_text().split():
        assert _gone_soon(int(pid)), f"helper process {pid} survived the timeout"


def _gone_soon(pid: int, within: float = 5.0) -> bool:
    """Whether ``pid`` stops running within ``within`` seconds. The helper's child has closed
    its pipes (which ended the wait) but may not have finished exiting: on a loaded machine
    /proc can still show it running for a moment after SIGKILL."""
    deadline = time.monotonic() + within
    while _running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (reparented zombies await init)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def test_crashing_helper_names_itself_and_its_message(fake_helper: FakeHelper) -> None:
    fake_helper("crash", 'echo "the keyring is locked"; echo "trace noise" >&2; exit 3')
    with pytest.raises(PluginError) as err:
        helpers.get("crash", HOST)
    assert err.value.plugin == "docker-credential-crash"
    assert str(err.value) == (
        "credential helper docker-credential-crash failed on 'get' (exit 3): the keyring is locked"
    )
    assert_unchained(err.value)


def test_garbage_helper_never_echoes_what_it_printed(fake_helper: FakeHelper) -> None:
    secret = "s3cr3t-GARBAGE-value"
    fake_helper("garbage", f'echo "Username=alice Secret={secret} (not JSON)"')
    with pytest.raises(PluginError) as err:
        helpers.get("garbage", HOST)
    assert err.value.plugin == "docker-credential-garbage"
    assert "docker-credential-garbage" in str(err.value)
    assert "not JSON" in str(err.value)
    assert secret not in str(err.value)
    assert secret not in repr(err.value)
    assert_unchained(err.value)
    fake_helper("list", """echo '["a list"]'""")
    with pytest.raises(PluginError, match="no JSON object"):
        helpers.get("list", HOST)


def test_missing_helper_is_named(fake_helper: FakeHelper) -> None:
    with pytest.raises(PluginError) as err:
        helpers.get("absent-helper", HOST)
    assert str(err.value) == "credential helper docker-credential-absent-helper not found on PATH"


@pytest.mark.parametrize("suffix", ["", "../evil", "a/b", ".hidden"])
def test_helper_names_cannot_escape_path(suffix: str) -> None:
    with pytest.raises(PluginError, match="invalid credential helper name"):
        helpers.get(suffix, HOST)


def test_failed_helper_is_not_rerun_at_once(fake_helper: FakeHelper, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    fake_helper("flaky", f'echo run >> "{log}"; echo "backend down"; exit 2')
    for _ in range(3):
        with pytest.raises(PluginError, match="backend down"):
            helpers.get("flaky", HOST)
    assert log.read_text().split() == ["run"]
    helpers.clear_helper_cache()
    with pytest.raises(PluginError):
        helpers.get("flaky", HOST)
    assert log.read_text().split() == ["run", "run"]


def test_helper_store_erase_protocol(fake_helper: FakeHelper, tmp_path: Path) -> None:
    saved = tmp_path / "stdin"
    fake_helper("rec", f'cat > "{saved}.$1"; [ "$1" = erase ] && exit 0; exit 0')
    helpers.store("rec", HOST, "alice", "pw")
    assert json.loads((tmp_path / "stdin.store").read_text()) == {
        "ServerURL": HOST,
        "Username": "alice",
        "Secret": "pw",
    }
    helpers.erase("rec", HOST)
    assert (tmp_path / "stdin.erase").read_text() == HOST


@pytest.mark.parametrize(
    ("helper", "body", "needle"),
    [
        ("crash", 'echo "boom"; exit 3', "failed on 'get' (exit 3): boom"),
        ("garbage", "echo 'secret-in-garbage'", "printed something that is not JSON"),
    ],
)
def test_client_reports_a_failing_helper_as_plugin_error(
    fake_helper: FakeHelper, isolated: Path, helper: str, body: str, needle: str
) -> None:
    fake_helper(helper, body)
    write_json(isolated / ".docker" / "config.json", {"credsStore": helper})
    with make_client() as client:
        for call in (client.credentials_for, client.explain_credentials):
            with pytest.raises(PluginError) as err:
                call(HOST)
            assert f"docker-credential-{helper}" in str(err.value)
            assert needle in str(err.value)
            assert "secret-in-garbage" not in str(err.value)


# -- environment variables ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registry", "prefix"),
    [
        ("127.0.0.1:5000", "OCIREG_127_0_0_1_5000"),
        ("quay.io", "OCIREG_QUAY_IO"),
        ("my-registry.example.com:8443", "OCIREG_MY_REGISTRY_EXAMPLE_COM_8443"),
        ("docker.io", "OCIREG_DOCKER_IO"),
        ("index.docker.io", "OCIREG_DOCKER_IO"),
        ("registry-1.docker.io", "OCIREG_DOCKER_IO"),
        ("[::1]:5000", "OCIREG____1__5000"),
    ],
)
def test_environment_variable_naming(registry: str, prefix: str) -> None:
    assert environment.env_prefix(registry) == prefix


def test_environment_per_registry_wins_over_global(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCIREG_USERNAME", "global")
    monkeypatch.setenv("OCIREG_PASSWORD", "global-pw")
    monkeypatch.setenv("OCIREG_REGISTRY_TEST_5000_USERNAME", "per-host")
    monkeypatch.setenv("OCIREG_REGISTRY_TEST_5000_PASSWORD", "per-host-pw")
    with make_client() as client:
        assert client.credentials_for(HOST) == BasicCredentials("per-host", "per-host-pw")
        assert client.credentials_for("quay.io") == BasicCredentials("global", "global-pw")
        info = client.explain_credentials(HOST)
        assert info["provider"] == "environment"
        assert info["source"] == ("environment OCIREG_REGISTRY_TEST_5000_USERNAME/_PASSWORD")
        assert "per-host-pw" not in repr(info)
    # a user name without a password is not a credential: the global pair answers
    monkeypatch.delenv("OCIREG_REGISTRY_TEST_5000_PASSWORD")
    with make_client() as client:
        assert client.credentials_for(HOST) == BasicCredentials("global", "global-pw")


def test_environment_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCIREG_REGISTRY_TEST_5000_TOKEN", "bearer-1")
    monkeypatch.setenv("OCIREG_QUAY_IO_IDENTITY_TOKEN", "refresh-1")
    monkeypatch.setenv("OCIREG_DOCKER_IO_USERNAME", "hubuser")
    monkeypatch.setenv("OCIREG_DOCKER_IO_PASSWORD", "hubpw")
    with make_client() as client:
        assert client.credentials_for(HOST) == RegistryToken("bearer-1")
        assert client.credentials_for("quay.io") == IdentityToken("refresh-1")
        for alias in HUB_ALIASES:
            assert client.credentials_for(alias) == BasicCredentials("hubuser", "hubpw")
        assert client.credentials_for("elsewhere.test") is None


def test_docker_auth_config_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "DOCKER_AUTH_CONFIG", json.dumps({"auths": {HOST: {"auth": b64("fromenv:pw")}}})
    )
    with make_client() as client:
        info = client.explain_credentials(HOST)
        assert (info["provider"], info["username"]) == ("environment", "fromenv")
        assert info["source"] == f"DOCKER_AUTH_CONFIG auths[{HOST!r}]"
        assert client.credentials_for("elsewhere.test") is None
    # the generic OCIREG_* pair comes after it (asked last), the per-host one before it
    monkeypatch.setenv("OCIREG_USERNAME", "generic")
    monkeypatch.setenv("OCIREG_PASSWORD", "pw")
    with make_client() as client:
        assert client.explain_credentials(HOST)["username"] == "fromenv"
    monkeypatch.setenv(f"{environment.env_prefix(HOST)}_USERNAME", "ocireg")
    monkeypatch.setenv(f"{environment.env_prefix(HOST)}_PASSWORD", "pw")
    with make_client() as client:
        assert client.explain_credentials(HOST)["username"] == "ocireg"


def test_invalid_docker_auth_config_names_the_variable_not_its_content(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_AUTH_CONFIG", '{"auths": {"h": {"auth": "c2VjcmV0"}} oops')
    with make_client() as client, pytest.raises(PluginError) as err:
        client.credentials_for(HOST)
    assert str(err.value) == "DOCKER_AUTH_CONFIG is not valid JSON (line 1)"
    assert err.value.plugin == "environment"


# -- containers auth.json -------------------------------------------------------------------


def test_containers_files_in_order(
    tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run" / "containers" / "auth.json"
    config_home = isolated / ".config" / "containers" / "auth.json"
    write_json(config_home, {"auths": {HOST: {"auth": b64("confighome:pw")}}})
    assert containers_auth.auth_files() == [runtime, config_home]
    with make_client() as client:
        assert client.explain_credentials(HOST)["username"] == "confighome"
    write_json(runtime, {"auths": {HOST: {"auth": b64("runtime:pw")}}})
    with make_client() as client:
        info = client.explain_credentials(HOST)
        assert (info["provider"], info["username"]) == ("containers-auth", "runtime")
        assert str(runtime) in info["source"]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert containers_auth.auth_files()[1] == tmp_path / "xdg" / "containers" / "auth.json"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert containers_auth.auth_files()[0] == Path(f"/run/containers/{os.getuid()}/auth.json")


def test_registry_auth_file_is_the_only_file_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_json(
        tmp_path / "run" / "containers" / "auth.json", {"auths": {HOST: {"auth": b64("r:p")}}}
    )
    given = write_json(tmp_path / "given.json", {"auths": {"other.test": {"auth": b64("g:p")}}})
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(given))
    assert containers_auth.auth_files() == [given]
    with make_client() as client:
        assert client.credentials_for(HOST) is None
        assert client.explain_credentials("other.test")["username"] == "g"


def test_containers_namespaced_keys_most_specific_first() -> None:
    doc = {
        "auths": {
            HOST: {"auth": b64("host:pw")},
            f"{HOST}/team": {"auth": b64("team:pw")},
            f"{HOST}/team/app": {"auth": b64("app:pw")},
            f"{HOST}/other": {"auth": b64("other:pw")},
        }
    }

    def user(repository: str | None) -> str:
        found = containers_auth.lookup(doc, HOST, repository, "auth.json")
        assert isinstance(found, BasicCredentials)
        return found.username

    assert user("team/app") == "app"
    assert user("team/app/sub") == "app"
    assert user("team/db") == "team"
    assert user("elsewhere/app") == "host"
    assert user(None) == "host"
    assert containers_auth.candidate_keys(HOST, "team/app") == [
        f"{HOST}/team/app",
        f"{HOST}/team",
        HOST,
    ]
    assert containers_auth.candidate_keys("index.docker.io", "library/alpine") == [
        "docker.io/library/alpine",
        "docker.io/library",
        "docker.io",
    ]


def test_containers_namespaced_key_never_answers_for_another_namespace() -> None:
    doc = {"auths": {f"{HOST}/team": {"auth": b64("team:pw")}}}
    assert containers_auth.lookup(doc, HOST, "other/app", "auth.json") is None
    assert containers_auth.lookup(doc, HOST, None, "auth.json") is None


@pytest.mark.parametrize("key", ["docker.io", "index.docker.io", "https://index.docker.io/v1/"])
@pytest.mark.parametrize("registry", HUB_ALIASES)
def test_containers_docker_hub_keys(key: str, registry: str) -> None:
    doc = {"auths": {key: {"auth": b64("hub:pw")}}}
    found = containers_auth.lookup(doc, registry, "library/alpine", "auth.json")
    assert isinstance(found, BasicCredentials)
    assert found.username == "hub"


def test_containers_scheme_keys_and_placeholders() -> None:
    doc = {"auths": {HOST: {}, f"https://{HOST}/v1/": {"auth": b64("legacy:pw")}}}
    found = containers_auth.lookup(doc, HOST, "team/app", "auth.json")
    assert isinstance(found, BasicCredentials)
    assert found.username == "legacy"


def test_containers_cred_helpers_get_the_host_only_and_creds_store_is_ignored(
    fake_helper: FakeHelper,
) -> None:
    echo_helper(fake_helper, "ctr", "ctr")
    echo_helper(fake_helper, "store", "store")
    doc = {
        "credHelpers": {HOST: "ctr"},
        "credsStore": "store",
        "auths": {"plain.test": {"auth": b64("file:pw")}},
    }
    found = containers_auth.lookup(doc, HOST, "team/app", "auth.json")
    assert isinstance(found, BasicCredentials)
    assert found.username == f"ctr@{HOST}"
    found = containers_auth.lookup(doc, "plain.test", None, "auth.json")
    assert isinstance(found, BasicCredentials)
    assert found.username == "file"
    assert containers_auth.lookup(doc, "third.test", None, "auth.json") is None


def test_invalid_auth_json_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "auth.json"
    bad.write_text('{"auths": ')
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(bad))
    with make_client() as client, pytest.raises(PluginError) as err:
        client.credentials_for(HOST)
    assert str(bad) in str(err.value)
    assert err.value.plugin == "containers-auth"


# -- the order policy and explain_credentials ------------------------------------------------


class Static:
    """A plugin answering with one credential for every registry."""

    def __init__(self, name: str, user: str, password: str = "plugin-pw") -> None:
        self.name = name
        self.creds = BasicCredentials(user, password, source=f"static plugin {name}")

    @hookimpl
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        return self.creds


class First(Static):
    @hookimpl(tryfirst=True)
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        return self.creds


class Last(Static):
    @hookimpl(trylast=True)
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        return self.creds


BUILTIN_ORDER = ["explicit", "environment", "docker-config", "containers-auth"]
BUILTIN_LAST = ["environment-generic"]  # after every plugin


def test_providers_are_asked_in_the_documented_order() -> None:
    plugins = [
        Last("last-a", "la"),
        Static("plain-a", "a"),
        Last("last-b", "lb"),
        Static("plain-b", "b"),
        First("first", "f"),
    ]
    with make_client(plugins=plugins) as client:
        names = [
            impl.plugin_name
            for impl in reversed(client.plugin_manager.hook.ocireg_get_credentials.get_hookimpls())
        ]
        # tryfirst puts a plugin ahead of the other plugins, never ahead of the built-ins;
        # trylast behind them; otherwise in the order given
        assert names == [
            *BUILTIN_ORDER,
            *("first", "plain-a", "plain-b", "last-a", "last-b"),
            *BUILTIN_LAST,
        ]
        info = client.explain_credentials(HOST)
        assert info["asked"] == [*BUILTIN_ORDER, "first"]
        assert (info["provider"], info["username"]) == ("first", "f")


def test_explain_names_provider_kind_user_and_source_never_the_secret(isolated: Path) -> None:
    secret = "correct-horse-battery"
    write_json(
        isolated / ".docker" / "config.json", {"auths": {HOST: {"auth": b64(f"alice:{secret}")}}}
    )
    with make_client() as client:
        info = client.explain_credentials(HOST, "team/app")
    config = isolated / ".docker" / "config.json"
    assert info == {
        "registry": HOST,
        "provider": "docker-config",
        "kind": "basic",
        "username": "alice",
        "source": f"{config} auths[{HOST!r}]",
        "asked": ["explicit", "environment", "docker-config"],
    }
    assert secret not in repr(info)
    assert b64(f"alice:{secret}") not in repr(info)


def test_explain_anonymous() -> None:
    with make_client() as client:
        info = client.explain_credentials(HOST)
    assert info["provider"] is None
    assert info["kind"] == "anonymous"
    assert info["asked"] == BUILTIN_ORDER + BUILTIN_LAST


def test_explicit_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCIREG_USERNAME", "env")
    monkeypatch.setenv("OCIREG_PASSWORD", "env-pw")
    with make_client(credentials=("given", "given-pw")) as client:
        info = client.explain_credentials(HOST)
        assert (info["provider"], info["username"]) == ("explicit", "given")
        assert info["source"] == "Client(credentials=...)"
        assert "given-pw" not in repr(info)
    mapping = {"docker.io": ("hub", "hub-pw"), HOST: RegistryToken("tok")}
    with make_client(credentials=mapping) as client:
        for alias in HUB_ALIASES:
            assert client.credentials_for(alias) == BasicCredentials("hub", "hub-pw")
        info = client.explain_credentials(HOST)
        assert (info["provider"], info["kind"]) == ("explicit", "registry-token")
        assert info["source"] == f"Client(credentials={{{HOST!r}: ...}})"
        # hosts the mapping does not name go on to the next providers
        assert client.explain_credentials("quay.io")["provider"] == "environment-generic"


def test_blocked_builtins_and_plugins_are_not_registered(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCIREG_USERNAME", "env")
    monkeypatch.setenv("OCIREG_PASSWORD", "env-pw")
    write_json(isolated / ".docker" / "config.json", {"auths": {HOST: {"auth": b64("file:pw")}}})
    with make_client(
        plugins=[Static("mine", "mine")], blocked_plugins=["environment", "mine"]
    ) as client:
        assert client.plugin_manager.get_plugin("environment") is None
        assert client.plugin_manager.get_plugin("mine") is None
        info = client.explain_credentials(HOST)
        assert info["provider"] == "docker-config"
        assert "environment" not in info["asked"]


def test_a_plugin_named_like_a_builtin_replaces_it(monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = environment.env_prefix(HOST)
    monkeypatch.setenv(f"{prefix}_USERNAME", "process-env")
    monkeypatch.setenv(f"{prefix}_PASSWORD", "pw")
    own = environment.EnvironmentProvider({f"{prefix}_USERNAME": "own", f"{prefix}_PASSWORD": "pw"})
    with make_client(plugins=[own]) as client:
        assert client.plugin_manager.get_plugin("environment") is own
        info = client.explain_credentials(HOST)
        assert (info["provider"], info["username"]) == ("environment", "own")
        assert info["asked"] == ["explicit", "environment"]


def test_a_provider_bug_becomes_a_plugin_error_without_its_locals() -> None:
    class Buggy:
        name = "buggy"

        @hookimpl
        def ocireg_get_credentials(self, registry: str, repository: str | None) -> None:
            secret = {"password": "leaked-pw"}
            raise KeyError(secret["password"])

    with make_client(plugins=[Buggy()]) as client, pytest.raises(PluginError) as err:
        client.credentials_for(HOST)
    assert "leaked-pw" not in str(err.value)
    assert_unchained(err.value)


def test_a_plugin_with_a_wrong_hook_signature_is_refused_by_name() -> None:
    class Wrong:
        name = "wrong"

        @hookimpl
        def ocireg_get_credentials(self, registry: str, namespace: str) -> None:
            return None

    with pytest.raises(PluginError) as err:
        make_client(plugins=[Wrong()])
    assert err.value.plugin == "wrong"
    assert "namespace" in str(err.value)


# -- manifest handlers ----------------------------------------------------------------------


class WidgetHandler:
    media_types: ClassVar[tuple[str, ...]] = ("application/vnd.test.widget.v1+json",)

    def parse(self, raw: bytes, media_type: str) -> Any:
        raise ManifestError("not needed here")


class OtherWidgetHandler(WidgetHandler):
    pass


class OciTakeover:
    media_types: ClassVar[tuple[str, ...]] = (OCI_MANIFEST,)

    def parse(self, raw: bytes, media_type: str) -> ImageManifest:
        return ImageManifest.from_bytes(raw, media_type)


class Handlers:
    def __init__(self, name: str, *handlers: Any) -> None:
        self.name = name
        self.handlers = list(handlers)

    @hookimpl
    def ocireg_manifest_handlers(self) -> list[Any]:
        return self.handlers


def test_a_plugin_handler_adds_its_media_type() -> None:
    with make_client(plugins=[Handlers("widgets", WidgetHandler)]) as client:
        assert "application/vnd.test.widget.v1+json" in client.handlers.accept_header()
        assert isinstance(
            client.handlers.handler_for("application/vnd.test.widget.v1+json"), WidgetHandler
        )


def test_two_handlers_for_one_media_type_fail_at_client_creation() -> None:
    plugins = [Handlers("a", WidgetHandler), Handlers("b", OtherWidgetHandler)]
    with pytest.raises(ManifestError) as err:
        make_client(plugins=plugins)
    message = str(err.value)
    assert "application/vnd.test.widget.v1+json is claimed by two manifest handlers" in message
    assert "WidgetHandler" in message and "OtherWidgetHandler" in message


def test_a_plugin_cannot_silently_take_over_a_builtin_type() -> None:
    with pytest.raises(ManifestError, match="claimed by two manifest handlers"):
        make_client(plugins=[Handlers("takeover", OciTakeover)])
    # ... unless the built-in handlers are blocked on purpose
    with make_client(
        plugins=[Handlers("takeover", OciTakeover)], blocked_plugins=["manifest-handlers"]
    ) as client:
        assert client.handlers.media_types == (OCI_MANIFEST,)


# -- import cost ----------------------------------------------------------------------------


def test_import_ocireg_loads_no_cloud_or_keyring_libraries() -> None:
    code = textwrap.dedent(
        """
        import sys
        import ocireg
        client = ocireg.Client(load_entrypoints=False)
        client.explain_credentials("quay.io")
        heavy = ("boto3", "botocore", "google.auth", "azure.identity", "keyring", "ansible")
        print([m for m in sys.modules if m in heavy or m.startswith(tuple(h + "." for h in heavy))])
        """
    )
    env = cli_env()
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    assert out.stdout.strip() == "[]"
