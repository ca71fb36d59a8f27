"""Attack 1: a token realm (or the registry) redirects the credentials to another origin."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests

import ocireg.wire
from ocireg import AuthenticationError, Challenge
from ocireg.auth.credentials import BasicCredentials, IdentityToken
from ocireg.auth.token import fetch_token

from .hostile import Hostile, Request, assert_no_secret, client_for, hostile

REFRESH = "refresh-SECRET-3f9a1c"
PASSWORD = "pa55-SECRET-77"
USER = "alice"


def bearer_registry(realm: str) -> Any:
    def handler(req: Request) -> None:
        if req.path == "/v2/" or not req.headers.get("Authorization", "").startswith("Bearer"):
            return req.send_json(
                {}, 401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="reg"'}
            )
        req.send_json({"name": "app", "tags": ["ok"]})

    return handler


def redirecting_realm(evil: Hostile, status: int) -> Any:
    def handler(req: Request) -> None:
        if req.path.startswith("/v2/"):
            return bearer_registry(f"http://{req.headers['Host']}/token")(req)
        req.send(status, b"", {"Location": f"{evil.url}/steal"})

    return handler


def evil_server() -> Any:
    return hostile(lambda req: req.send_json({"token": "stolen"}))


@pytest.mark.parametrize("status", [307, 308, 302], ids=["307", "308", "302"])
def test_oauth2_post_redirect_to_another_port_gets_no_refresh_token(status: int) -> None:
    with evil_server() as evil, hostile(lambda r: None) as reg:
        reg.handler = redirecting_realm(evil, status)
        client = client_for(reg, credentials=IdentityToken(REFRESH, username=USER))
        with pytest.raises(AuthenticationError) as info:
            client.tags(f"{reg.host}/app")
        assert "another origin" in str(info.value) or str(status) in str(info.value)
        assert evil.log == []  # not even asked
        assert_no_secret(info.value, REFRESH)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_basic_get_redirect_to_another_port_gets_nothing(status: int) -> None:
    with evil_server() as evil, hostile(lambda r: None) as reg:
        reg.handler = redirecting_realm(evil, status)
        client = client_for(reg, credentials=(USER, PASSWORD))
        with pytest.raises(AuthenticationError) as info:
            client.tags(f"{reg.host}/app")
        assert evil.log == []
        assert "another origin" in str(info.value)
        assert_no_secret(info.value, PASSWORD)


def test_same_origin_realm_redirect_is_followed_with_utf8_basic() -> None:
    password = "pässwörd-€"  # attack 4 as well: UTF-8, never Latin-1
    expected = "Basic " + base64.b64encode(f"{USER}:{password}".encode()).decode()

    def handler(req: Request) -> None:
        if req.path.startswith("/v2/"):
            return bearer_registry(f"http://{req.headers['Host']}/token")(req)
        if req.path.startswith("/token?"):
            return req.send(307, b"", {"Location": req.path.replace("/token", "/token2", 1)})
        if req.headers.get("Authorization") != expected:
            return req.send(401)
        req.send_json({"token": "tok", "expires_in": 300})

    with hostile(handler) as reg:
        client = client_for(reg, credentials=(USER, password))
        assert client.tags(f"{reg.host}/app") == ["ok"]
        paths = [p for _, p, _, _ in reg.log]
        assert any(p.startswith("/token2?") and "account=alice" in p for p in paths)


class FakeResponse:
    def __init__(self, status: int, location: str) -> None:
        self.status_code = status
        self.headers = {"Location": location}

    def close(self) -> None:
        pass


class RecordingSession:
    """Answers every request with a redirect; records what would have been sent."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.sent: list[tuple[str, str]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        assert kwargs["allow_redirects"] is False
        self.sent.append((method, url))
        return FakeResponse(307, self.location)


@pytest.mark.parametrize(
    ("creds", "secret"),
    [(IdentityToken(REFRESH), REFRESH), (BasicCredentials(USER, PASSWORD), PASSWORD)],
    ids=["identity-token", "basic"],
)
def test_https_realm_redirect_to_http_same_host_is_refused(creds: Any, secret: str) -> None:
    """https -> http is another origin: refused before anything is sent there (no socket)."""
    session = RecordingSession("http://auth.example/token")
    challenge = Challenge("bearer", {"realm": "https://auth.example/token", "service": "s"})
    with pytest.raises(AuthenticationError) as info:
        fetch_token(
            session,  # type: ignore[arg-type]
            challenge,
            ("repository:a:pull",),
            creds,
            timeout=1.0,
        )
    assert [url.split("?")[0] for _, url in session.sent] == ["https://auth.example/token"]
    assert_no_secret(info.value, secret)


def test_registry_redirect_chain_drops_authorization_on_every_cross_origin_hop() -> None:
    """registry -> other port -> back to the registry: the header is gone for good."""

    with hostile(lambda r: None) as evil, hostile(lambda r: None) as reg:

        def registry(req: Request) -> None:
            if req.path == "/v2/":
                if req.headers.get("Authorization"):
                    return req.send_json({})
                return req.send_json({}, 401, {"WWW-Authenticate": 'Basic realm="r"'})
            if req.path.startswith("/v2/app/blobs/"):
                return req.send(307, b"", {"Location": f"{evil.url}/hop"})
            req.send(200, b"blob-bytes")

        reg.handler = registry
        evil.handler = lambda req: req.send(307, b"", {"Location": f"{reg.url}/final"})
        client = client_for(reg, credentials=(USER, PASSWORD))
        resp = client.transport.request(
            "GET", reg.host, "/v2/app/blobs/sha256:" + "0" * 64, stream=True
        )
        with resp:
            assert resp.content == b"blob-bytes"
        ((_, _, evil_headers, _),) = evil.log
        assert "Authorization" not in evil_headers
        final = [h for _, p, h, _ in reg.log if p == "/final"]
        assert final and "Authorization" not in final[0]
        assert PASSWORD not in evil.everything_received()
        first = [h for _, p, h, _ in reg.log if p.startswith("/v2/app/blobs/")]
        assert first[0]["Authorization"].startswith("Basic ")


@pytest.mark.parametrize("session", ["wire", "requests"])
def test_the_session_is_not_the_one_following(
    monkeypatch: pytest.MonkeyPatch, session: str
) -> None:
    """Neither the wire layer nor a caller's requests.Session is let follow a redirect, of
    the registry or of the token realm (their rules differ from ours)."""
    seen: list[bool] = []
    cls: Any = requests.Session if session == "requests" else ocireg.wire.Session
    real = cls.request

    def spy(self: Any, method: str, url: str, **kwargs: Any) -> Any:
        seen.append(kwargs.get("allow_redirects", True))
        return real(self, method, url, **kwargs)

    monkeypatch.setattr(cls, "request", spy)

    def handler(req: Request) -> None:
        if req.path.startswith("/v2/"):
            return bearer_registry(f"http://{req.headers['Host']}/token")(req)
        req.send_json({"token": "t"})

    with hostile(handler) as reg:
        client = client_for(reg, credentials=(USER, PASSWORD), session=cls())
        assert client.tags(f"{reg.host}/app") == ["ok"]
    assert len(seen) >= 3 and not any(seen)  # the 401, the token, the tag list
