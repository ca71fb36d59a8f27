"""ocireg-azure: hosts and scopes, the Entra -> ACR token exchange against a fake registry
endpoint, the half-life cache, failures, the entry point and the provider order."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import textwrap
from typing import Any

import azure.identity
import ocireg_azure
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from ocireg_azure import ACR_USERNAME, AzureCredentials, default_scope, is_acr_host
from ocireg_azure.provider import NEGATIVE_TTL
from pytest_httpserver import HTTPServer

from ocireg.auth.credentials import BasicCredentials, IdentityToken
from ocireg.client import Client
from ocireg.errors import PluginError
from ocireg.plugins import CREDENTIAL_ORDER

HOST = "myregistry.azurecr.io"
ARM = "https://management.azure.com/.default"
T0 = 1_700_000_000.0
HOURS = 3600.0


def jwt(**claims: Any) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class FakeAzureCredential:
    """An azure-identity style TokenCredential: ``get_token(*scopes) -> AccessToken``."""

    def __init__(self, token: str = "entra-access-token", error: Exception | None = None) -> None:
        self.token = token
        self.error = error
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        if self.error is not None:
            raise self.error
        return AccessToken(self.token, int(T0 + HOURS))


def acr(httpserver: HTTPServer, refresh_token: str | None = None, **kwargs: Any) -> None:
    """The fake registry answers one exchange with ``refresh_token``."""
    body = {"refresh_token": refresh_token or jwt(exp=T0 + 3 * HOURS, aud=HOST)}
    httpserver.expect_oneshot_request("/oauth2/exchange", method="POST").respond_with_json(
        body, **kwargs
    )


def provider_for(httpserver: HTTPServer, **kwargs: Any) -> AzureCredentials:
    kwargs.setdefault("credential", FakeAzureCredential())
    kwargs.setdefault("clock", FakeClock())
    return AzureCredentials(exchange_base_url=httpserver.url_for("/"), **kwargs)


def ask(provider: AzureCredentials, registry: str = HOST) -> Any:
    return provider.ocireg_get_credentials(registry=registry, repository="team/app")


def exchanges(httpserver: HTTPServer) -> list[dict[str, str]]:
    return [dict(r.form) for r, _ in httpserver.log if r.path == "/oauth2/exchange"]


# -- hosts and scopes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (HOST, True),
        ("MyRegistry.AzureCR.io", True),
        ("myreg-abc123.azurecr.io", True),
        ("myreg.azurecr.cn", True),
        ("myreg.azurecr.us", True),
        ("myreg.azurecr.de", True),
        ("azurecr.io", False),
        ("myreg.westeurope.data.azurecr.io", False),
        ("myreg.azurecr.io.example.com", False),
        ("myreg.azurecr.com", False),
        ("mcr.microsoft.com", False),
        ("quay.io", False),
        ("gcr.io", False),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_is_acr_host(host: str, expected: bool) -> None:
    assert is_acr_host(host) is expected


@pytest.mark.parametrize(
    ("host", "scope"),
    [
        (HOST, ARM),
        ("myreg.azurecr.cn", "https://management.chinacloudapi.cn/.default"),
        ("myreg.azurecr.us", "https://management.usgovcloudapi.net/.default"),
        ("myreg.azurecr.de", "https://management.microsoftazure.de/.default"),
    ],
    ids=["public", "china", "us-gov", "germany"],
)
def test_default_scope_follows_the_cloud(host: str, scope: str) -> None:
    assert default_scope(host) == scope


def test_unrecognised_hosts_answer_none_without_asking_azure() -> None:
    credential = FakeAzureCredential()
    provider = AzureCredentials(credential=credential)
    for host in ("quay.io", "docker.io", "gcr.io", "mcr.microsoft.com", "localhost:5000"):
        assert ask(provider, host) is None
    assert credential.scopes == []


def test_other_hosts_never_import_azure_identity() -> None:
    code = textwrap.dedent(
        """
        import sys
        import ocireg_azure
        from ocireg.client import Client

        client = Client()
        plugin = ocireg_azure.plugin
        assert dict(client.plugin_manager.list_name_plugin())["azure"] is plugin
        for host in ("quay.io", "ghcr.io", "127.0.0.1:5000"):
            assert plugin.ocireg_get_credentials(registry=host, repository=None) is None
        assert client.explain_credentials("quay.io")["provider"] is None
        loaded = sorted(m for m in sys.modules if m.startswith(("azure", "msal")))
        print(loaded)
        sys.exit(1 if loaded else 0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert done.returncode == 0, done.stdout + done.stderr


# -- the exchange -------------------------------------------------------------------------


def test_entra_token_is_exchanged_for_an_acr_refresh_token(httpserver: HTTPServer) -> None:
    refresh = jwt(exp=T0 + 3 * HOURS, aud=HOST)
    acr(httpserver, refresh)
    credential = FakeAzureCredential()
    provider = provider_for(httpserver, credential=credential, tenant_id="tenant-guid")

    found = ask(provider)

    assert found == IdentityToken(refresh, username=ACR_USERNAME)
    assert credential.scopes == [(ARM,)]
    assert exchanges(httpserver) == [
        {
            "grant_type": "access_token",
            "service": HOST,
            "access_token": "entra-access-token",
            "tenant": "tenant-guid",
        }
    ]
    url = httpserver.url_for("/oauth2/exchange")
    assert found.source == (
        f"azure: Entra token from FakeAzureCredential (scope {ARM}) exchanged at {url}"
    )
    assert refresh not in found.source and "entra-access-token" not in found.source
    assert refresh not in repr(found)


def test_tenant_from_the_environment_or_left_out(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    acr(httpserver)
    ask(provider_for(httpserver))
    assert "tenant" not in exchanges(httpserver)[0]
    monkeypatch.setenv("AZURE_TENANT_ID", "env-tenant")
    acr(httpserver)
    ask(provider_for(httpserver))
    assert exchanges(httpserver)[1]["tenant"] == "env-tenant"


def test_scope_can_be_overridden(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    acr_scope = "https://containerregistry.azure.net/.default"
    monkeypatch.setenv("OCIREG_AZURE_SCOPE", acr_scope)
    credential = FakeAzureCredential()
    acr(httpserver)
    assert (
        "scope https://containerregistry"
        in ask(provider_for(httpserver, credential=credential)).source
    )
    acr(httpserver)
    ask(
        provider_for(httpserver, credential=credential, scope="api://custom/.default"),
        "r.azurecr.cn",
    )
    assert credential.scopes == [(acr_scope,), ("api://custom/.default",)]


def test_refresh_tokens_are_cached_for_half_their_lifetime(httpserver: HTTPServer) -> None:
    clock = FakeClock()
    provider = provider_for(httpserver, clock=clock)
    acr(httpserver, jwt(exp=T0 + 3 * HOURS, n=1))
    first = ask(provider)
    clock.now = T0 + 1.5 * HOURS - 1
    assert ask(provider) is first
    assert len(exchanges(httpserver)) == 1
    clock.now = T0 + 1.5 * HOURS
    acr(httpserver, jwt(exp=T0 + 4.5 * HOURS, n=2))
    second = ask(provider)
    assert second != first
    assert len(exchanges(httpserver)) == 2
    httpserver.check_assertions()


def test_an_opaque_refresh_token_lives_three_hours(httpserver: HTTPServer) -> None:
    clock = FakeClock()
    provider = provider_for(httpserver, clock=clock)
    acr(httpserver, "opaque-refresh-token")
    assert ask(provider).token == "opaque-refresh-token"
    clock.now = T0 + 1.5 * HOURS - 1
    assert ask(provider).token == "opaque-refresh-token"
    assert len(exchanges(httpserver)) == 1


def test_refresh_tokens_carry_their_expiry(httpserver: HTTPServer) -> None:
    # The Client's keychain asks again before expires_at: the JWT's exp, else three hours.
    clock = FakeClock()
    provider = provider_for(httpserver, clock=clock)
    acr(httpserver, jwt(exp=T0 + 2 * HOURS, aud=HOST))
    assert ask(provider).expires_at == T0 + 2 * HOURS
    provider.clear_cache()
    clock.now = T0 + 10.0
    acr(httpserver, "opaque-refresh-token")
    assert ask(provider).expires_at == T0 + 10.0 + 3 * HOURS


def test_refresh_tokens_are_cached_per_registry(httpserver: HTTPServer) -> None:
    provider = provider_for(httpserver)
    acr(httpserver, jwt(exp=T0 + 3 * HOURS, reg="one"))
    acr(httpserver, jwt(exp=T0 + 3 * HOURS, reg="two"))
    one, two = ask(provider, "one.azurecr.io"), ask(provider, "two.azurecr.io")
    assert one != two
    assert ask(provider, "ONE.azurecr.io") is one
    assert [form["service"] for form in exchanges(httpserver)] == [
        "one.azurecr.io",
        "two.azurecr.io",
    ]


def test_default_azure_credential_is_made_once_and_lazily(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[FakeAzureCredential] = []

    def default_credential() -> FakeAzureCredential:
        made.append(FakeAzureCredential("from-default"))
        return made[-1]

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", default_credential)
    provider = AzureCredentials(exchange_base_url=httpserver.url_for("/"), clock=FakeClock())
    assert ask(provider, "quay.io") is None
    assert made == []
    acr(httpserver)
    acr(httpserver)
    ask(provider, "one.azurecr.io")
    ask(provider, "two.azurecr.io")
    assert len(made) == 1
    assert [form["access_token"] for form in exchanges(httpserver)] == ["from-default"] * 2


# -- failures -----------------------------------------------------------------------------


def test_no_entra_token_answers_none_and_remembers(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    error = ClientAuthenticationError(
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
        "Attempted credentials: ..."
    )
    credential = FakeAzureCredential(error=error)
    provider = provider_for(httpserver, credential=credential, clock=clock)
    with caplog.at_level(logging.WARNING, logger="ocireg_azure"):
        assert ask(provider) is None
    assert "no Entra token from FakeAzureCredential" in caplog.text
    assert "DefaultAzureCredential failed to retrieve a token" in caplog.text
    clock.now += NEGATIVE_TTL - 1
    assert ask(provider) is None
    assert len(credential.scopes) == 1
    clock.now += 1
    assert ask(provider) is None
    assert len(credential.scopes) == 2
    assert httpserver.log == []


def test_refused_exchange_raises_plugin_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/oauth2/exchange", method="POST").respond_with_json(
        {"errors": [{"code": "UNAUTHORIZED", "message": "The tenant is not authorized"}]},
        status=401,
    )
    with pytest.raises(PluginError, match="answered 401: UNAUTHORIZED: The tenant") as info:
        ask(provider_for(httpserver))
    assert info.value.plugin == "azure"
    assert "entra-access-token" not in str(info.value)


@pytest.mark.parametrize(
    "body", [{"access_token": "x"}, {"refresh_token": ""}, ["refresh_token"]], ids=str
)
def test_exchange_without_refresh_token_raises_plugin_error(
    httpserver: HTTPServer, body: Any
) -> None:
    httpserver.expect_request("/oauth2/exchange", method="POST").respond_with_json(body)
    with pytest.raises(PluginError, match="returned no refresh_token"):
        ask(provider_for(httpserver))


def test_unreachable_registry_raises_plugin_error() -> None:
    provider = AzureCredentials(
        credential=FakeAzureCredential(), exchange_base_url="http://127.0.0.1:9", timeout=5
    )
    with pytest.raises(PluginError, match="failed: ConnectionError"):
        ask(provider)


# -- entry point and order ----------------------------------------------------------------


def test_loads_through_its_entry_point() -> None:
    client = Client()
    assert dict(client.plugin_manager.list_name_plugin())["azure"] is ocireg_azure.plugin
    assert Client(blocked_plugins=("azure",)).plugin_manager.get_plugin("azure") is None


def test_answers_after_the_builtin_providers(httpserver: HTTPServer) -> None:
    # A configured instance under the entry point's name: the installed one is then skipped.
    configured = provider_for(httpserver)
    client = Client(plugins=[configured])
    assert client.plugin_manager.get_plugin("azure") is configured
    acr(httpserver)
    explained = client.explain_credentials(HOST)
    assert explained["provider"] == "azure"
    assert explained["asked"][: len(CREDENTIAL_ORDER)] == list(CREDENTIAL_ORDER)
    assert explained["asked"][-1] == "azure"
    assert (explained["kind"], explained["username"]) == ("identity-token", ACR_USERNAME)


def test_explicit_and_environment_credentials_win(monkeypatch: pytest.MonkeyPatch) -> None:
    # The entry point's own instance would need a real Entra token: it must not be asked.
    explicit = Client(credentials={HOST: ("me", "pw")})
    assert explicit.explain_credentials(HOST)["provider"] == "explicit"
    assert explicit.plugin_manager.hook.ocireg_get_credentials(
        registry=HOST, repository=None
    ) == BasicCredentials("me", "pw")
    monkeypatch.setenv("OCIREG_MYREGISTRY_AZURECR_IO_TOKEN", "bearer")
    assert Client().explain_credentials(HOST)["provider"] == "environment"
