"""Attacks 2-4: ready bearer tokens over plain http, whitespace and control characters in
secrets, non-ASCII passwords. The plain-http rule is tested through the decision function
(``Authorizer.authorize``/``check_plain_http``) on a registry state set by hand: nothing
connects to the non-loopback names used."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from ocireg import AuthenticationError, Challenge, TransportError
from ocireg.auth.credentials import BasicCredentials, IdentityToken, RegistryToken, sanitized
from ocireg.auth.token import Token, TokenCache
from ocireg.builtin.environment import GenericEnvironmentProvider
from ocireg.transport import RegistryState, Transport

from .hostile import Request, assert_no_secret, client_for, hostile

SECRET = "tok-SECRET-9d8e7f"


def transport_with(creds: Any, base_url: str, scheme: str = "bearer", **options: Any) -> Transport:
    transport = Transport(
        credentials_for=lambda registry, repo: creds, token_cache=TokenCache(), **options
    )
    challenge = Challenge(scheme, {"realm": f"{base_url}/token", "service": "s"})
    registry = base_url.split("://", 1)[1]
    transport._states[registry] = RegistryState(base_url, challenge, pinged=True)
    # No token may be fetched: a fetch would be a connection.
    transport.tokens.get = lambda key, scopes, fetch: Token("t", 1e12, scopes)  # type: ignore[method-assign]
    return transport


def authorize(transport: Transport, registry: str) -> dict[str, str]:
    st = transport._states[registry]
    headers: dict[str, str] = {}
    transport.authorizer.authorize(registry, "app", st.challenge, st.base_url, (), headers)
    return headers


CREDENTIALS = [
    RegistryToken(SECRET, source="environment OCIREG_TOKEN"),
    IdentityToken(SECRET),
    BasicCredentials("alice", SECRET),
]
IDS = ["registry-token", "identity-token", "basic"]


@pytest.mark.parametrize("creds", CREDENTIALS, ids=IDS)
@pytest.mark.parametrize("scheme", ["bearer", "basic"])
def test_no_credential_kind_goes_over_plain_http_off_loopback(creds: Any, scheme: str) -> None:
    transport = transport_with(creds, "http://registry.example:5000", scheme)
    headers: dict[str, str] = {}
    try:
        headers = authorize(transport, "registry.example:5000")
    except AuthenticationError as exc:
        assert "plain http" in str(exc)
        assert_no_secret(exc, SECRET)
    assert "Authorization" not in headers or not any(
        SECRET in v or base64.b64encode(SECRET.encode()).decode()[:8] in v for v in headers.values()
    )
    assert headers == {}


@pytest.mark.parametrize("creds", CREDENTIALS, ids=IDS)
@pytest.mark.parametrize(
    ("base_url", "options"),
    [
        ("http://127.0.0.1:5000", {}),
        ("http://registry.example:5000", {"insecure_registries": ["registry.example:5000"]}),
        ("https://registry.example", {}),
    ],
    ids=["loopback", "named-insecure", "https"],
)
def test_credentials_allowed_on_loopback_insecure_or_https(
    creds: Any, base_url: str, options: dict[str, Any]
) -> None:
    transport = transport_with(creds, base_url, **options)
    headers = authorize(transport, base_url.split("://", 1)[1])
    assert headers["Authorization"].startswith("Bearer ")


def test_ocireg_token_environment_over_plain_http_is_refused() -> None:
    provider = GenericEnvironmentProvider({"OCIREG_TOKEN": SECRET})
    found = provider.ocireg_get_credentials("registry.example", None)
    assert isinstance(found, RegistryToken)
    transport = transport_with(found, "http://registry.example")
    with pytest.raises(AuthenticationError) as info:
        authorize(transport, "registry.example")
    assert_no_secret(info.value, SECRET)


@pytest.mark.parametrize(
    ("creds", "clean"),
    [
        (RegistryToken(SECRET + "\n"), RegistryToken(SECRET)),
        (RegistryToken(f"  {SECRET}\r\n"), RegistryToken(SECRET)),
        (IdentityToken(SECRET + "\n"), IdentityToken(SECRET)),
        (BasicCredentials("alice", SECRET + "\n"), BasicCredentials("alice", SECRET)),
    ],
    ids=["newline", "spaces-crlf", "identity", "password"],
)
def test_surrounding_whitespace_is_stripped(creds: Any, clean: Any) -> None:
    assert sanitized(creds) == clean


@pytest.mark.parametrize(
    "creds",
    [
        RegistryToken(SECRET[:5] + "\n" + SECRET[5:], source="environment OCIREG_TOKEN"),
        RegistryToken(SECRET + "\x00", source="environment OCIREG_TOKEN"),
        IdentityToken(SECRET[:4] + "\x1b" + SECRET[4:], source="environment OCIREG_TOKEN"),
        BasicCredentials(
            "alice", SECRET[:3] + "\r" + SECRET[3:], source="environment OCIREG_TOKEN"
        ),
        BasicCredentials("al\nice", SECRET, source="environment OCIREG_TOKEN"),
        RegistryToken(SECRET[:2] + "\u2028" + SECRET[2:], source="environment OCIREG_TOKEN"),
    ],
    ids=["inner-newline", "nul", "escape", "password-cr", "user-newline", "line-separator"],
)
def test_control_characters_are_refused_naming_the_source(creds: Any) -> None:
    with pytest.raises(AuthenticationError) as info:
        sanitized(creds)
    assert "environment OCIREG_TOKEN" in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert_no_secret(info.value, SECRET, SECRET[:5], SECRET[5:])


def registry_expecting(token: str) -> Any:
    def handler(req: Request) -> None:
        if req.headers.get("Authorization") != f"Bearer {token}":
            return req.send_json({}, 401, {"WWW-Authenticate": 'Bearer realm="http://x/t"'})
        req.send_json({"name": "app", "tags": ["ok"]})

    return handler


def test_token_with_trailing_newline_works_end_to_end() -> None:
    with hostile(registry_expecting(SECRET)) as reg:
        client = client_for(reg, credentials=RegistryToken(SECRET + "\n"))
        assert client.tags(f"{reg.host}/app") == ["ok"]


def test_token_with_inner_newline_never_reaches_a_header_or_an_exception() -> None:
    bad = SECRET[:6] + "\n" + SECRET[6:]
    with hostile(registry_expecting(SECRET)) as reg:
        client = client_for(reg, credentials=RegistryToken(bad, source="file /run/token"))
        with pytest.raises(AuthenticationError) as info:
            client.tags(f"{reg.host}/app")
        assert "file /run/token" in str(info.value)
        assert_no_secret(info.value, SECRET[:6], SECRET[6:])
        assert SECRET[6:] not in reg.everything_received()


def test_a_header_requests_refuses_leaves_no_chain() -> None:
    """requests' InvalidHeader quotes the header value: the TransportError keeps no chain."""
    with hostile(lambda req: req.send_json({})) as reg:
        client = client_for(reg)
        with pytest.raises(TransportError) as info:
            client.transport.request("GET", reg.host, "/v2/", headers={"X-Key": SECRET + "\n"})
        assert_no_secret(info.value, SECRET)


@pytest.mark.parametrize(
    "password", ["pässwörd", "密码-секрет-🔑", "naïve\u00a0space"], ids=["latin1", "cjk", "nbsp"]
)
def test_non_ascii_password_token_auth_is_utf8(password: str) -> None:
    expected = "Basic " + base64.b64encode(f"alice:{password}".encode()).decode()

    def handler(req: Request) -> None:
        if req.path.startswith("/token"):
            if req.headers.get("Authorization") != expected:
                return req.send(401)
            return req.send_json({"token": "tok"})
        if req.headers.get("Authorization") != "Bearer tok":
            realm = f"http://{req.headers['Host']}/token"
            return req.send_json({}, 401, {"WWW-Authenticate": f'Bearer realm="{realm}"'})
        req.send_json({"name": "app", "tags": ["ok"]})

    with hostile(handler) as reg:
        client = client_for(reg, credentials=("alice", password))
        assert client.tags(f"{reg.host}/app") == ["ok"]


def test_non_ascii_password_refused_leaves_no_secret() -> None:
    password = "pässwörd-SECRET"

    def handler(req: Request) -> None:
        if req.path.startswith("/token"):
            return req.send(401)
        realm = f"http://{req.headers['Host']}/token"
        req.send_json({}, 401, {"WWW-Authenticate": f'Bearer realm="{realm}"'})

    with hostile(handler) as reg:
        client = client_for(reg, credentials=("alice", password))
        with pytest.raises(AuthenticationError) as info:
            client.tags(f"{reg.host}/app")
        assert_no_secret(info.value, password, "SECRET")
