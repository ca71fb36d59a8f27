"""ocireg-gcp: hosts, service-account keys, Application Default Credentials with google-auth's
own credential objects (refreshed against a fake token endpoint and a fake metadata server),
failures, the entry point and the provider order."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import google.auth
import ocireg_gcp
import pytest
from google.auth.credentials import AnonymousCredentials
from google.auth.exceptions import DefaultCredentialsError
from google.oauth2.credentials import Credentials as UserCredentials
from ocireg_gcp import SCOPE, GcpCredentials, is_gcp_host
from ocireg_gcp.provider import NEGATIVE_TTL
from pytest_httpserver import HTTPServer

from ocireg.auth.credentials import BasicCredentials
from ocireg.builtin.environment import env_prefix
from ocireg.client import Client
from ocireg.errors import PluginError
from ocireg.plugins import CREDENTIAL_ORDER

HOST = "europe-west1-docker.pkg.dev"
SA_EMAIL = "pusher@demo-project.iam.gserviceaccount.com"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ask(provider: GcpCredentials, registry: str = HOST) -> Any:
    return provider.ocireg_get_credentials(registry=registry, repository="demo-project/repo/app")


def utcnow() -> datetime:
    # google-auth keeps expiries as naive UTC datetimes
    return datetime.utcnow()


class FakeAdc:
    """``google.auth.default`` answering with given credentials, counting calls."""

    def __init__(self, credentials: Any, project: str | None = "demo-project") -> None:
        self.result = (credentials, project)
        self.calls: list[Any] = []

    def __call__(self, scopes: Any = None, **kwargs: Any) -> Any:
        self.calls.append(scopes)
        return self.result


def use_adc(monkeypatch: pytest.MonkeyPatch, credentials: Any, **kwargs: Any) -> FakeAdc:
    fake = FakeAdc(credentials, **kwargs)
    monkeypatch.setattr(google.auth, "default", fake)
    return fake


def user_credentials(httpserver: HTTPServer, *, token: str | None, expiry: datetime | None) -> Any:
    return UserCredentials(
        token=token,
        expiry=expiry,
        refresh_token="1//refresh-token",
        token_uri=httpserver.url_for("/token"),
        client_id="client-id.apps.googleusercontent.com",
        client_secret="client-secret",
        scopes=[SCOPE],
        account="dev@example.com",
    )


# -- hosts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("gcr.io", True),
        ("us.gcr.io", True),
        ("eu.gcr.io", True),
        ("asia.gcr.io", True),
        ("k8s.gcr.io", True),
        ("GCR.IO", True),
        ("europe-west1-docker.pkg.dev", True),
        ("us-docker.pkg.dev", True),
        ("docker.us-central1.rep.pkg.dev", True),
        ("a.b.gcr.io", False),
        ("gcr.io.example.com", False),
        ("notgcr.io", False),
        ("docker.pkg.dev", False),
        ("us-python.pkg.dev", False),
        ("docker.us-central1.rep.pkg.dev.example.com", False),
        ("quay.io", False),
        ("docker.io", False),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com", False),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_is_gcp_host(host: str, expected: bool) -> None:
    assert is_gcp_host(host) is expected


def test_unrecognised_hosts_answer_none_without_asking_google() -> None:
    provider = GcpCredentials()  # google.auth.default raises in these tests unless replaced
    for host in ("quay.io", "docker.io", "ghcr.io", "myreg.azurecr.io", "localhost:5000"):
        assert ask(provider, host) is None


def test_google_auth_is_imported_only_for_adc(tmp_path: Path, key_file: Path) -> None:
    code = textwrap.dedent(
        """
        import os, sys
        import ocireg_gcp
        from ocireg.client import Client

        client = Client()
        assert dict(client.plugin_manager.list_name_plugin())["gcp"] is ocireg_gcp.plugin
        for host in ("quay.io", "ghcr.io", "127.0.0.1:5000"):
            assert ocireg_gcp.plugin.ocireg_get_credentials(registry=host, repository=None) is None
        assert client.explain_credentials("quay.io")["provider"] is None
        # A key file answers without google-auth too.
        os.environ["OCIREG_GCP_JSON_KEY_FILE"] = sys.argv[1]
        found = ocireg_gcp.plugin.ocireg_get_credentials(registry="gcr.io", repository=None)
        assert found.username == "_json_key", found
        loaded = sorted(m for m in sys.modules if m.startswith("google"))
        print(loaded)
        sys.exit(1 if loaded else 0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(key_file)],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# -- service-account key ------------------------------------------------------------------


def test_key_file_from_the_environment(monkeypatch: pytest.MonkeyPatch, key_file: Path) -> None:
    monkeypatch.setenv("OCIREG_GCP_JSON_KEY_FILE", str(key_file))
    found = ask(GcpCredentials(), "us.gcr.io")
    assert found == BasicCredentials("_json_key", key_file.read_text().strip())
    assert found.source == (
        f"gcp: service-account key {SA_EMAIL} from {key_file} ($OCIREG_GCP_JSON_KEY_FILE)"
    )
    assert "PRIVATE KEY" not in found.source


def test_key_file_argument_wins_and_changes_are_read(
    monkeypatch: pytest.MonkeyPatch, key_file: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv("OCIREG_GCP_JSON_KEY_FILE", str(tmp_path / "missing.json"))
    provider = GcpCredentials(key_file=key_file)
    first = ask(provider)
    assert first.source.endswith("(key_file=)")
    assert ask(provider) is first  # cached while the file is unchanged
    key = json.loads(key_file.read_text())
    key["client_email"] = "other@demo-project.iam.gserviceaccount.com"
    key_file.write_text(json.dumps(key))
    second = ask(provider)
    assert "other@demo-project" in second.password and "other@demo-project" in second.source


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read"),
        ("not json", "is not a service-account JSON key"),
        ('{"type": "authorized_user", "client_email": "x", "private_key": "y"}', "is not a"),
        ('{"type": "service_account", "client_email": "x@y"}', "is not a"),
        ("[1, 2]", "is not a"),
    ],
    ids=["missing", "not-json", "user-credentials", "no-private-key", "not-an-object"],
)
def test_bad_key_files_raise_plugin_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content)
    monkeypatch.setenv("OCIREG_GCP_JSON_KEY_FILE", str(path))
    with pytest.raises(PluginError, match=problem) as info:
        ask(GcpCredentials())
    assert info.value.plugin == "gcp"
    assert str(path) in str(info.value)


# -- application default credentials ------------------------------------------------------


def test_valid_adc_token_is_used_as_it_is(
    monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    credentials = user_credentials(
        httpserver, token="ya29.still-valid", expiry=utcnow() + timedelta(hours=1)
    )
    adc = use_adc(monkeypatch, credentials)
    provider = GcpCredentials()

    found = ask(provider, "gcr.io")
    assert found == BasicCredentials("oauth2accesstoken", "ya29.still-valid")
    assert found.source == (
        "gcp: application default credentials "
        "(google.oauth2.credentials.Credentials, dev@example.com, project demo-project)"
    )
    assert ask(provider, "docker.us-central1.rep.pkg.dev") == found
    assert adc.calls == [[SCOPE]]  # ADC looked up once, with the cloud-platform scope
    assert httpserver.log == []  # no refresh


def test_expired_adc_token_is_refreshed(
    monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request("/token", method="POST").respond_with_json(
        {"access_token": "ya29.fresh", "expires_in": 3600, "token_type": "Bearer", "scope": SCOPE}
    )
    credentials = user_credentials(
        httpserver, token="ya29.expired", expiry=utcnow() - timedelta(minutes=1)
    )
    use_adc(monkeypatch, credentials)
    provider = GcpCredentials()

    assert ask(provider).password == "ya29.fresh"
    assert ask(provider).password == "ya29.fresh"  # valid now: no second refresh
    httpserver.check_assertions()
    assert len(httpserver.log) == 1
    form = httpserver.log[0][0].form
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == "1//refresh-token"


def test_access_tokens_carry_their_expiry_and_key_files_none(
    monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer, key_file: Path
) -> None:
    # The Client's keychain asks again before expires_at (wall clock, seconds since the epoch).
    expiry = utcnow().replace(microsecond=0) + timedelta(minutes=42)
    use_adc(monkeypatch, user_credentials(httpserver, token="ya29.t", expiry=expiry))
    found = ask(GcpCredentials())
    assert found.expires_at == expiry.replace(tzinfo=UTC).timestamp()
    assert abs(found.expires_at - (time.time() + 42 * 60)) < 60
    assert ask(GcpCredentials(key_file=key_file)).expires_at is None


def test_refresh_failure_raises_plugin_error(
    monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/token", method="POST").respond_with_json(
        {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
        status=400,
    )
    use_adc(monkeypatch, user_credentials(httpserver, token=None, expiry=None))
    with pytest.raises(PluginError, match="invalid_grant") as info:
        ask(GcpCredentials())
    assert info.value.plugin == "gcp"
    assert "1//refresh-token" not in str(info.value)


def test_anonymous_credentials_answer_none(monkeypatch: pytest.MonkeyPatch) -> None:
    use_adc(monkeypatch, AnonymousCredentials())
    assert ask(GcpCredentials()) is None


def test_no_adc_answers_none_and_remembers(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls = []

    def missing(**kwargs: Any) -> Any:
        calls.append(kwargs)
        raise DefaultCredentialsError("Your default credentials were not found.")

    monkeypatch.setattr(google.auth, "default", missing)
    clock = FakeClock()
    provider = GcpCredentials(clock=clock)
    with caplog.at_level(logging.WARNING, logger="ocireg_gcp"):
        assert ask(provider) is None
    assert "no application default credentials" in caplog.text
    clock.now += NEGATIVE_TTL - 1
    assert ask(provider, "gcr.io") is None
    assert len(calls) == 1
    clock.now += 1
    assert ask(provider) is None
    assert len(calls) == 2


def test_given_credentials_replace_adc(httpserver: HTTPServer) -> None:
    credentials = user_credentials(
        httpserver, token="ya29.given", expiry=utcnow() + timedelta(hours=1)
    )
    found = ask(GcpCredentials(credentials=credentials))
    assert found.password == "ya29.given"
    assert found.source.startswith("gcp: credentials (google.oauth2.credentials.Credentials")


def test_compute_engine_metadata_server(httpserver: HTTPServer, tmp_path: Path) -> None:
    """The whole ADC path in a fresh interpreter: google-auth finds "GCE" at GCE_METADATA_IP /
    GCE_METADATA_HOST (read at its import), and the token comes from the metadata server."""
    flavor = {"Metadata-Flavor": "Google"}
    root = "/computeMetadata/v1"
    httpserver.expect_request("/").respond_with_data("", headers=flavor)
    httpserver.expect_request(f"{root}/project/project-id").respond_with_data(
        "demo-project", headers=flavor
    )
    httpserver.expect_request(f"{root}/instance/service-accounts/default/").respond_with_json(
        {"email": "vm@demo-project.iam.gserviceaccount.com", "scopes": [SCOPE]}, headers=flavor
    )
    httpserver.expect_request(f"{root}/instance/service-accounts/default/token").respond_with_json(
        {"access_token": "ya29.from-metadata", "expires_in": 3599, "token_type": "Bearer"},
        headers=flavor,
    )
    address = f"{httpserver.host}:{httpserver.port}"
    env = {
        **os.environ,
        "GCE_METADATA_HOST": address,
        "GCE_METADATA_IP": address,
        "NO_GCE_CHECK": "false",
        "CLOUDSDK_CONFIG": str(tmp_path / "no-gcloud"),
    }
    code = textwrap.dedent(
        """
        import json
        import ocireg_gcp

        provider = ocireg_gcp.GcpCredentials()
        found = provider.ocireg_get_credentials(registry="us-docker.pkg.dev", repository=None)
        again = provider.ocireg_get_credentials(registry="gcr.io", repository=None)
        assert again == found
        print(json.dumps([found.username, found.password, found.source]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    username, password, source = json.loads(done.stdout.strip().splitlines()[-1])
    assert (username, password) == ("oauth2accesstoken", "ya29.from-metadata")
    assert source == (
        "gcp: application default credentials (google.auth.compute_engine.credentials."
        "Credentials, vm@demo-project.iam.gserviceaccount.com, project demo-project)"
    )
    token_requests = [r for r, _ in httpserver.log if r.path.endswith("/token")]
    assert len(token_requests) == 1  # refreshed once, then valid
    assert token_requests[0].args["scopes"] == SCOPE
    assert all(r.headers.get("Metadata-Flavor") == "Google" for r, _ in httpserver.log)


# -- entry point and order ----------------------------------------------------------------


def test_loads_through_its_entry_point(monkeypatch: pytest.MonkeyPatch, key_file: Path) -> None:
    monkeypatch.setenv("OCIREG_GCP_JSON_KEY_FILE", str(key_file))
    client = Client()
    assert dict(client.plugin_manager.list_name_plugin())["gcp"] is ocireg_gcp.plugin
    explained = client.explain_credentials(HOST)
    assert explained["provider"] == "gcp"
    assert explained["asked"][: len(CREDENTIAL_ORDER)] == list(CREDENTIAL_ORDER)
    assert explained["asked"][-1] == "gcp"
    assert (explained["kind"], explained["username"]) == ("basic", "_json_key")
    assert Client(blocked_plugins=("gcp",)).explain_credentials(HOST)["provider"] is None


def test_builtin_providers_answer_first(monkeypatch: pytest.MonkeyPatch, key_file: Path) -> None:
    monkeypatch.setenv("OCIREG_GCP_JSON_KEY_FILE", str(key_file))
    explicit = Client(credentials={HOST: ("me", "pw")})
    assert explicit.explain_credentials(HOST)["provider"] == "explicit"
    assert explicit.plugin_manager.hook.ocireg_get_credentials(
        registry=HOST, repository=None
    ) == BasicCredentials("me", "pw")
    # The generic pair names no registry: asked after the plugin, it does not win here ...
    monkeypatch.setenv("OCIREG_USERNAME", "ci")
    monkeypatch.setenv("OCIREG_PASSWORD", "ci-secret")
    assert Client().explain_credentials("gcr.io")["provider"] == "gcp"
    # ... the variables of this registry do.
    prefix = env_prefix("gcr.io")
    monkeypatch.setenv(f"{prefix}_USERNAME", "ci")
    monkeypatch.setenv(f"{prefix}_PASSWORD", "ci-secret")
    assert Client().explain_credentials("gcr.io")["provider"] == "environment"
