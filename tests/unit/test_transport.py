"""Transport, auth and client behaviour that a real distribution registry cannot show, against
a fake registry (pytest-httpserver): tag pagination, retries, token edge cases, redirects,
warnings and rate limits, redaction, manifest limits and digest checks; plus the pure parts
(scopes, the token cache, realm and plain-http rules).
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import ocireg.wire
from ocireg import (
    AuthenticationError,
    Challenge,
    DeniedError,
    DigestMismatchError,
    ManifestError,
    RegistryError,
    TooManyRequestsError,
    TransportError,
)
from ocireg.auth.credentials import BasicCredentials, IdentityToken
from ocireg.auth.scope import merge_scopes, repository_scope, scope_covers
from ocireg.auth.token import DEFAULT_EXPIRES_IN, Token, TokenCache, check_realm
from ocireg.client import Client
from ocireg.hosts import add_query, endpoint_for, is_loopback
from ocireg.http_errors import retry_after
from ocireg.redaction import redact_headers, redact_url
from ocireg.transport import RegistryState, Transport

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
USER = "alice"
PASSWORD = "s3cret-Pa55word"
TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNlY3JldA"


# -- fake registry helpers -------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_bytes(note: str = "x") -> bytes:
    config = b"{}"
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha256(config),
                "size": len(config),
            },
            "layers": [],
            "annotations": {"note": note},
        }
    ).encode()


def basic_value(user: str = USER, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Fake:
    """A fake registry on an ``HTTPServer``; the client is pointed at it over plain http."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.host = f"localhost:{server.port}"
        self.url = f"http://{self.host}"

    def v2(self, status: int = 200, challenge: str | None = None) -> None:
        headers = {"WWW-Authenticate": challenge} if challenge else {}
        self.server.expect_request("/v2/").respond_with_json({}, status=status, headers=headers)

    def basic_protected(self) -> None:
        """Every /v2/ path wants alice's Basic credentials."""

        def handler(request: Request) -> Response:
            if request.headers.get("Authorization") != basic_value():
                return Response(
                    json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "auth"}]}),
                    status=401,
                    headers={"WWW-Authenticate": 'Basic realm="fake"'},
                    content_type="application/json",
                )
            return Response("{}", content_type="application/json")

        self.server.expect_request("/v2/").respond_with_handler(handler)

    def client(self, sleeps: list[float] | None = None, **options: Any) -> tuple[Client, str]:
        client = Client(load_entrypoints=False, **options)
        client.transport.tokens = TokenCache()  # no sharing with other tests
        if sleeps is not None:
            client.transport._sleep = sleeps.append
        client.transport.state(self.host, "http")
        return client, self.host

    def requests_to(self, path: str) -> list[Request]:
        return [req for req, _ in self.server.log if req.path == path]


@pytest.fixture
def fake(httpserver: HTTPServer) -> Iterator[Fake]:
    yield Fake(httpserver)
    httpserver.check_assertions()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def other_server() -> Iterator[HTTPServer]:
    """A second server: another host as far as the client can tell (another port)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def tags_page(tags: list[str] | None, link: str | None = None) -> Response:
    headers = {"Link": f'<{link}>; rel="next"'} if link else {}
    return Response(
        json.dumps({"name": "app", "tags": tags}),
        headers=headers,
        content_type="application/json",
    )


# -- pagination ------------------------------------------------------------------------------


@pytest.mark.parametrize("absolute", [False, True], ids=["relative-link", "absolute-link"])
def test_tags_follow_link_over_three_pages(fake: Fake, absolute: bool) -> None:
    fake.v2()
    base = fake.url if absolute else ""
    pages = {
        "": (["zz", "b"], f"{base}/v2/app/tags/list?n=2&last=b"),
        "n=2&last=b": (["c", "A"], f"{base}/v2/app/tags/list?n=2&last=c"),
        "n=2&last=c": (["a"], None),
    }
    for query, (tags, link) in pages.items():
        fake.server.expect_request("/v2/app/tags/list", query_string=query).respond_with_response(
            tags_page(tags, link)
        )
    client, host = fake.client()
    assert client.tags(f"{host}/app") == ["A", "a", "b", "c", "zz"]
    assert [r.query_string.decode() for r in fake.requests_to("/v2/app/tags/list")] == list(pages)


def test_tags_follow_n_and_last_in_link(fake: Fake) -> None:
    """distribution-style ``?last=&n=`` pages, where the last page has ``"tags": null``."""
    fake.v2()
    fake.server.expect_request(
        "/v2/app/tags/list", query_string={"last": "t1", "n": "2"}
    ).respond_with_response(tags_page(["t2", "t3"], "/v2/app/tags/list?last=t3&n=2"))
    fake.server.expect_request(
        "/v2/app/tags/list", query_string={"last": "t3", "n": "2"}
    ).respond_with_response(tags_page(None))
    fake.server.expect_request("/v2/app/tags/list").respond_with_response(
        tags_page(["t1", "t0"], "/v2/app/tags/list?last=t1&n=2")
    )
    client, host = fake.client()
    assert client.tags(f"{host}/app") == ["t0", "t1", "t2", "t3"]


def test_tags_null_is_empty_and_link_loop_stops(fake: Fake) -> None:
    fake.v2()
    fake.server.expect_request("/v2/app/tags/list").respond_with_response(
        tags_page(None, "/v2/app/tags/list")
    )
    client, host = fake.client()
    assert client.tags(f"{host}/app") == []
    assert len(fake.requests_to("/v2/app/tags/list")) == 1


def test_catalog_follows_relative_link(fake: Fake) -> None:
    fake.v2()
    fake.server.expect_request("/v2/_catalog", query_string="last=b&n=2").respond_with_json(
        {"repositories": ["c"]}
    )
    fake.server.expect_request("/v2/_catalog").respond_with_response(
        Response(
            json.dumps({"repositories": ["a", "b"]}),
            headers={"Link": '</v2/_catalog?last=b&n=2>; rel="next"'},
            content_type="application/json",
        )
    )
    client, host = fake.client()
    assert client.catalog(host) == ["a", "b", "c"]


def test_link_to_another_host_is_an_error(fake: Fake, other_server: HTTPServer) -> None:
    """A ``Link`` to another origin is neither followed nor silently merged."""
    fake.basic_protected()
    other_server.expect_request("/v2/app/tags/list").respond_with_response(tags_page(["z"]))
    fake.server.expect_request("/v2/app/tags/list").respond_with_response(
        tags_page(["a"], other_server.url_for("/v2/app/tags/list?last=a"))
    )
    client, host = fake.client(credentials=(USER, PASSWORD))
    with pytest.raises(RegistryError) as info:
        client.tags(f"{host}/app")
    assert "another origin" in str(info.value)
    (sent,) = fake.requests_to("/v2/app/tags/list")
    assert sent.headers["Authorization"] == basic_value()
    assert other_server.log == []


# -- retries ---------------------------------------------------------------------------------


def test_429_retry_after_seconds(fake: Fake, sleeps: list[float]) -> None:
    fake.v2()
    fake.server.expect_oneshot_request("/v2/app/tags/list").respond_with_json(
        {"errors": [{"code": "TOOMANYREQUESTS", "message": "slow down"}]},
        status=429,
        headers={"Retry-After": "7"},
    )
    fake.server.expect_request("/v2/app/tags/list").respond_with_response(tags_page(["v1"]))
    client, host = fake.client(sleeps)
    assert client.tags(f"{host}/app") == ["v1"]
    assert sleeps == [7.0]


def test_429_retry_after_http_date(fake: Fake, sleeps: list[float]) -> None:
    fake.v2()
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    fake.server.expect_oneshot_request("/v2/app/tags/list").respond_with_data(
        "", status=429, headers={"Retry-After": when}
    )
    fake.server.expect_request("/v2/app/tags/list").respond_with_response(tags_page(["v1"]))
    client, host = fake.client(sleeps)
    assert client.tags(f"{host}/app") == ["v1"]
    (wait,) = sleeps
    assert 17.0 <= wait <= 20.0


def test_429_with_a_long_retry_after_is_raised(fake: Fake, sleeps: list[float]) -> None:
    fake.v2()
    fake.server.expect_request("/v2/app/tags/list").respond_with_json(
        {"errors": [{"code": "TOOMANYREQUESTS", "message": "pull limit"}]},
        status=429,
        headers={"Retry-After": "3600"},
    )
    client, host = fake.client(sleeps)
    with pytest.raises(TooManyRequestsError) as info:
        client.tags(f"{host}/app")
    assert info.value.retry_after == 3600.0
    assert info.value.temporary
    assert "TOOMANYREQUESTS" in str(info.value)
    assert sleeps == []


def test_503_retried_with_exponential_backoff(fake: Fake, sleeps: list[float]) -> None:
    fake.v2()
    for status in (503, 504, 502):  # one-shot handlers answer in the order they were added
        fake.server.expect_oneshot_request("/v2/app/tags/list").respond_with_data(
            "busy", status=status
        )
    fake.server.expect_request("/v2/app/tags/list").respond_with_response(tags_page(["v1"]))
    client, host = fake.client(sleeps)
    assert client.tags(f"{host}/app") == ["v1"]
    assert sleeps == [0.5, 1.0, 2.0]


def test_503_gives_up_after_max_retries(fake: Fake, sleeps: list[float]) -> None:
    fake.v2()
    fake.server.expect_request("/v2/app/tags/list").respond_with_data("busy", status=503)
    client, host = fake.client(sleeps, max_retries=2)
    with pytest.raises(RegistryError) as info:
        client.tags(f"{host}/app")
    assert info.value.status == 503
    assert info.value.temporary
    assert len(sleeps) == 2
    assert len(fake.requests_to("/v2/app/tags/list")) == 3


def test_post_is_not_retried_on_502(fake: Fake, sleeps: list[float]) -> None:
    fake.v2()
    fake.server.expect_request("/v2/app/blobs/uploads/", method="POST").respond_with_data(
        "bad gateway", status=502
    )
    fake.server.expect_request("/v2/app/blobs/uploads/", method="GET").respond_with_data(
        "bad gateway", status=502
    )
    client, host = fake.client(sleeps, max_retries=3)
    resp = client.transport.request("POST", host, "/v2/app/blobs/uploads/", data=b"")
    assert resp.status_code == 502
    assert sleeps == []
    assert len(fake.requests_to("/v2/app/blobs/uploads/")) == 1
    # The same path with GET is retried.
    resp = client.transport.request("GET", host, "/v2/app/blobs/uploads/")
    assert resp.status_code == 502
    assert len(sleeps) == 3


def test_connection_errors_retried_only_when_idempotent(fake: Fake, sleeps: list[float]) -> None:
    fake.v2()
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v2/app/blobs/x"
    client, host = fake.client(sleeps, max_retries=2)
    with pytest.raises(TransportError) as info:
        client.transport.request("GET", host, dead)
    assert "connection refused" in str(info.value) and info.value.kind == "refused"
    assert isinstance(info.value.__cause__, ocireg.wire.ConnectionError)
    assert sleeps == [0.5, 1.0]
    sleeps.clear()
    with pytest.raises(TransportError):
        client.transport.request("POST", host, dead, data=b"x")
    assert sleeps == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5.0), (" 0 ", 0.0), ("", None), ("soon", None), ("-3", None)],
    ids=["seconds", "zero", "empty", "garbage", "negative"],
)
def test_retry_after_parsing(value: str, expected: float | None) -> None:
    resp = requests.Response()
    resp.headers["Retry-After"] = value
    assert retry_after(resp) == expected


def test_retry_after_date_in_the_past_is_zero() -> None:
    resp = requests.Response()
    resp.headers["Retry-After"] = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert retry_after(resp) == 0.0


# -- tokens ----------------------------------------------------------------------------------


class TokenRealm:
    """A bearer-protected fake registry with its token endpoint on the same server."""

    def __init__(self, fake: Fake, body: dict[str, Any] | None = None) -> None:
        self.fake = fake
        self.realm = f"{fake.url}/token"
        self.body = body if body is not None else {"token": TOKEN, "expires_in": 300}
        self.token_requests: list[Request] = []
        fake.v2(401, f'Bearer realm="{self.realm}",service="fake-registry"')
        fake.server.expect_request("/token").respond_with_handler(self._token)

    def _token(self, request: Request) -> Response:
        self.token_requests.append(request)
        return Response(json.dumps(self.body), content_type="application/json")

    def protect(self, path: str, answer: Callable[[Request], Response]) -> None:
        def handler(request: Request) -> Response:
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return Response(
                    "{}",
                    status=401,
                    headers={"WWW-Authenticate": f'Bearer realm="{self.realm}"'},
                )
            return answer(request)

        self.fake.server.expect_request(path).respond_with_handler(handler)


def test_token_without_expires_in_lives_60_seconds(fake: Fake) -> None:
    realm = TokenRealm(fake, {"access_token": TOKEN})
    realm.protect("/v2/app/tags/list", lambda _: tags_page(["v1"]))
    client, host = fake.client(credentials=(USER, PASSWORD))
    before = time.monotonic()
    assert client.tags(f"{host}/app") == ["v1"]
    assert client.tags(f"{host}/app") == ["v1"]
    (bucket,) = client.transport.tokens._tokens.values()
    (token,) = bucket
    assert DEFAULT_EXPIRES_IN == 60.0
    assert before + 60 <= token.expires_at <= time.monotonic() + 60
    assert token.scopes == ("repository:app:pull",)
    assert len(realm.token_requests) == 1
    (req,) = realm.token_requests
    assert req.args.getlist("scope") == ["repository:app:pull"]
    assert req.args["service"] == "fake-registry"
    assert req.args["account"] == USER
    assert req.headers["Authorization"] == basic_value()


def test_token_request_repeats_scope_for_several_repositories(fake: Fake) -> None:
    realm = TokenRealm(fake)
    realm.protect("/v2/app/manifests/v1", lambda _: Response("", status=201))
    client, host = fake.client(credentials=(USER, PASSWORD))
    resp = client.transport.request(
        "PUT",
        host,
        "/v2/app/manifests/v1",
        scopes=("repository:app:pull,push", "repository:base:pull"),
        repository="app",
        data=b"{}",
    )
    assert resp.status_code == 201
    (req,) = realm.token_requests
    assert req.args.getlist("scope") == ["repository:app:pull,push", "repository:base:pull"]


def test_expired_token_is_fetched_again(fake: Fake) -> None:
    realm = TokenRealm(fake, {"token": TOKEN, "expires_in": 300})
    realm.protect("/v2/app/tags/list", lambda _: tags_page(["v1"]))
    client, host = fake.client(credentials=(USER, PASSWORD))
    client.tags(f"{host}/app")
    # Pretend time passed: the cached token is now within the refresh margin.
    (bucket,) = client.transport.tokens._tokens.values()
    bucket[0] = Token(bucket[0].value, time.monotonic() + 5, bucket[0].scopes)
    client.tags(f"{host}/app")
    assert len(realm.token_requests) == 2


def test_insufficient_scope_fetches_a_wider_token_once(fake: Fake) -> None:
    fake.v2(401, f'Bearer realm="{fake.url}/token",service="fake"')
    scopes_asked: list[list[str]] = []

    def token(request: Request) -> Response:
        scopes_asked.append(request.args.getlist("scope"))
        return Response(json.dumps({"token": f"t{len(scopes_asked)}"}))

    def resource(request: Request) -> Response:
        challenge = (
            f'Bearer realm="{fake.url}/token",service="fake",error="insufficient_scope",'
            'scope="repository:app:pull repository:base:pull"'
        )
        return Response("", status=401, headers={"WWW-Authenticate": challenge})

    fake.server.expect_request("/token").respond_with_handler(token)
    fake.server.expect_request("/v2/app/tags/list").respond_with_handler(resource)
    client, host = fake.client(credentials=(USER, PASSWORD))
    with pytest.raises(DeniedError) as info:
        client.tags(f"{host}/app")
    assert "insufficient scope" in str(info.value)
    # Once for what we wanted, once for what the challenge named (both of its scopes).
    assert scopes_asked == [
        ["repository:app:pull"],
        ["repository:app:pull", "repository:base:pull"],
    ]
    assert len(fake.requests_to("/v2/app/tags/list")) == 2


def test_identity_token_falls_back_to_get_on_404(fake: Fake) -> None:
    fake.v2(401, f'Bearer realm="{fake.url}/token",service="fake"')
    fake.server.expect_request("/token", method="POST").respond_with_data("no", status=404)
    fake.server.expect_request("/token", method="GET").respond_with_json({"token": TOKEN})
    fake.server.expect_request(
        "/v2/app/tags/list", headers={"Authorization": f"Bearer {TOKEN}"}
    ).respond_with_response(tags_page(["v1"]))
    refresh = "refresh-me-" + "x" * 20
    client, host = fake.client(credentials=IdentityToken(refresh))
    assert client.tags(f"{host}/app") == ["v1"]
    post, get = fake.requests_to("/token")
    assert post.method == "POST"
    assert post.form["grant_type"] == "refresh_token"
    assert post.form["refresh_token"] == refresh
    assert post.form["service"] == "fake"
    assert post.form["scope"] == "repository:app:pull"
    assert get.method == "GET"
    assert get.headers["Authorization"] == basic_value("<token>", refresh)


def test_token_refused_is_authentication_error_without_secret(fake: Fake) -> None:
    fake.v2(401, f'Bearer realm="{fake.url}/token",service="fake"')
    fake.server.expect_request("/token").respond_with_json({"details": "bad"}, status=401)
    client, host = fake.client(credentials=(USER, PASSWORD))
    with pytest.raises(AuthenticationError) as info:
        client.tags(f"{host}/app")
    assert PASSWORD not in str(info.value)
    assert "alice" in str(info.value)


# -- the token cache and scopes ---------------------------------------------------------------


def test_token_cache_one_fetch_for_concurrent_callers() -> None:
    cache = TokenCache()
    calls: list[int] = []
    start = threading.Barrier(12)

    def fetch() -> Token:
        calls.append(1)
        time.sleep(0.05)
        return Token("t", time.monotonic() + 300, ("repository:app:pull",))

    results: list[Token] = []

    def worker() -> None:
        start.wait()
        results.append(cache.get(("realm", "svc", "who"), ("repository:app:pull",), fetch))

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 == cache.fetches
    assert len(results) == 12 and len({id(t) for t in results}) == 1


def test_token_cache_keys_scopes_and_expiry() -> None:
    cache = TokenCache()
    key = ("realm", "svc", "alice")

    def fetcher(value: str, *scopes: str, life: float = 300) -> Callable[[], Token]:
        return lambda: Token(value, time.monotonic() + life, scopes)

    wide = cache.get(key, ("repository:a:pull,push",), fetcher("wide", "repository:a:pull,push"))
    # A token asked for pull,push serves pull.
    assert cache.get(key, ("repository:a:pull",), fetcher("never")) is wide
    # Another resource, or other credentials, need their own.
    other = cache.get(key, ("repository:b:pull",), fetcher("b", "repository:b:pull"))
    assert other.value == "b"
    assert cache.get(("realm", "svc", "bob"), ("repository:a:pull",), fetcher("bob")).value == (
        "bob"
    )
    # A token about to expire is not handed out.
    short_key = ("realm", "svc", "short")
    cache.get(short_key, ("x:y:pull",), fetcher("old", "x:y:pull", life=5))
    assert cache.get(short_key, ("x:y:pull",), fetcher("new", "x:y:pull")).value == "new"
    # forget() drops exactly that token.
    cache.forget(key, wide)
    assert cache.get(key, ("repository:a:pull",), fetcher("again", "repository:a:pull")).value == (
        "again"
    )
    assert cache.fetches == 6
    cache.clear()
    assert cache._tokens == {}


def test_token_repr_hides_value() -> None:
    token = Token(TOKEN, 123.0, ("repository:a:pull",))
    assert TOKEN not in repr(token)
    assert TOKEN not in repr(IdentityToken(TOKEN))
    assert PASSWORD not in repr(BasicCredentials(USER, PASSWORD))


@pytest.mark.parametrize(
    ("scopes", "merged"),
    [
        (["repository:a:pull", "repository:a:push"], ("repository:a:pull,push",)),
        (["repository:a:push,pull", "repository:a:pull"], ("repository:a:pull,push",)),
        (
            ["repository:b:pull", "repository:a:delete", "repository:b:push"],
            ("repository:b:pull,push", "repository:a:delete"),
        ),
        (["registry:catalog:*", "registry:catalog:*"], ("registry:catalog:*",)),
        (["repository:a:*", "repository:a:pull"], ("repository:a:pull,*",)),
        (
            ["repository:a:pull", "repository:a:pull,delete,push"],
            ("repository:a:pull,push,delete",),
        ),
        (["repository:localhost:5000/a:pull"], ("repository:localhost:5000/a:pull",)),
        ([], ()),
    ],
    ids=["merge", "order", "keep-first-seen", "dedupe", "star", "canonical", "colon-name", "none"],
)
def test_merge_scopes(scopes: list[str], merged: tuple[str, ...]) -> None:
    assert merge_scopes(scopes) == merged


@pytest.mark.parametrize(
    ("held", "wanted", "covers"),
    [
        (["repository:a:pull,push"], ["repository:a:pull"], True),
        (["repository:a:pull"], ["repository:a:push"], False),
        (["repository:a:*"], ["repository:a:delete"], True),
        (["repository:a:pull"], ["repository:b:pull"], False),
        (["repository:a:pull", "repository:b:pull"], ["repository:b:pull"], True),
        (["repository:a:pull"], [], True),
        ([], ["repository:a:pull"], False),
        (["repository:a:pull", "repository:a:push"], ["repository:a:pull,push"], True),
        (["registry:catalog:*"], ["registry:catalog:*"], True),
    ],
    ids=[
        "subset",
        "missing-action",
        "star",
        "other-repo",
        "several",
        "nothing-wanted",
        "nothing-held",
        "split-held",
        "catalog",
    ],
)
def test_scope_covers(held: list[str], wanted: list[str], covers: bool) -> None:
    assert scope_covers(held, wanted) is covers


def test_repository_scope() -> None:
    assert repository_scope("library/alpine") == "repository:library/alpine:pull"
    assert repository_scope("a", "delete", "pull", "push") == "repository:a:pull,push,delete"


# -- redirects -------------------------------------------------------------------------------


def test_redirect_to_another_host_drops_authorization(fake: Fake, other_server: HTTPServer) -> None:
    fake.basic_protected()
    blob = b"blob bytes"
    other_server.expect_request("/storage/blob").respond_with_data(blob)
    fake.server.expect_request("/v2/app/blobs/sha256:abc").respond_with_data(
        "", status=307, headers={"Location": other_server.url_for("/storage/blob?sig=abc")}
    )
    fake.server.expect_request("/v2/app/blobs/sha256:same").respond_with_data(
        "", status=302, headers={"Location": "/v2/app/blobs/sha256:final"}
    )
    fake.server.expect_request("/v2/app/blobs/sha256:final").respond_with_data(blob)
    client, host = fake.client(credentials=BasicCredentials(USER, PASSWORD))
    resp = client.transport.request("GET", host, "/v2/app/blobs/sha256:abc", repository="app")
    assert resp.content == blob
    (first,) = fake.requests_to("/v2/app/blobs/sha256:abc")
    assert first.headers["Authorization"] == basic_value()
    ((elsewhere, _),) = other_server.log
    assert "Authorization" not in elsewhere.headers
    # A redirect on the same host keeps the credentials.
    resp = client.transport.request("GET", host, "/v2/app/blobs/sha256:same", repository="app")
    assert resp.content == blob
    (final,) = fake.requests_to("/v2/app/blobs/sha256:final")
    assert final.headers["Authorization"] == basic_value()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[HTTPServer, str]]:
    import ssl

    from tests.fixtures.pki import make_ca, make_server_cert

    ca = make_ca()
    ca_path, _ = ca.write(tmp_path, "ca")
    cert_path, key_path = make_server_cert(ca).write(tmp_path, "server")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_path), str(key_path))
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    yield server, str(ca_path)
    server.clear()
    if server.is_running():
        server.stop()


def test_https_to_http_redirect_is_refused(
    tls_server: tuple[HTTPServer, str], other_server: HTTPServer
) -> None:
    server, ca = tls_server
    server.expect_request("/v2/").respond_with_json({})
    server.expect_request("/v2/app/blobs/sha256:abc").respond_with_data(
        "", status=307, headers={"Location": other_server.url_for("/blob")}
    )
    other_server.expect_request("/blob").respond_with_data("plain")
    host = f"127.0.0.1:{server.port}"
    sleeps: list[float] = []
    with Client(load_entrypoints=False, ca_cert=ca) as client:
        client.transport._sleep = sleeps.append
        assert client.ping(host).url == f"https://{host}"
        with pytest.raises(TransportError) as info:
            client.transport.request("GET", host, "/v2/app/blobs/sha256:abc")
    assert "https to http" in str(info.value)
    assert other_server.log == []
    # A refused redirect is not a network hiccup: no retries.
    assert sleeps == []
    assert len([r for r, _ in server.log if r.path == "/v2/app/blobs/sha256:abc"]) == 1


# -- plain http, realms, endpoints -------------------------------------------------------------


def manual_transport(base_url: str, challenge: Challenge, **options: Any) -> Transport:
    transport = Transport(
        credentials_for=lambda registry, repo: BasicCredentials(USER, PASSWORD),
        token_cache=TokenCache(),  # never the process-wide one: tests replace its methods
        **options,
    )
    registry = base_url.split("://", 1)[1]
    transport._states[registry] = RegistryState(base_url, challenge, pinged=True)
    return transport


@pytest.mark.parametrize(
    ("base_url", "insecure", "allowed"),
    [
        ("http://registry.example", (), False),
        ("http://registry.example:5000", (), False),
        ("http://10.1.2.3:5000", (), False),
        ("http://registry.example", ("registry.example",), True),
        ("http://127.0.0.1:5000", (), True),
        ("http://localhost:5000", (), True),
        ("http://[::1]:5000", (), True),
        ("https://registry.example", (), True),
    ],
    ids=[
        "name",
        "name-port",
        "private-ip",
        "insecure",
        "ipv4-loopback",
        "localhost",
        "ipv6",
        "https",
    ],
)
def test_basic_credentials_over_plain_http(
    base_url: str, insecure: tuple[str, ...], allowed: bool
) -> None:
    transport = manual_transport(
        base_url, Challenge("basic", {"realm": "r"}), insecure_registries=insecure
    )
    registry = base_url.split("://", 1)[1]
    state = transport._states[registry]
    headers: dict[str, str] = {}
    if allowed:
        transport.authorizer.check_plain_http(registry, state.base_url)
        transport.authorizer.authorize(
            registry, "app", state.challenge, state.base_url, (), headers
        )
        assert headers["Authorization"] == basic_value()
    else:
        with pytest.raises(AuthenticationError) as info:
            transport.authorizer.authorize(
                registry, "app", state.challenge, state.base_url, (), headers
            )
        assert "plain http" in str(info.value)
        assert PASSWORD not in str(info.value)
        assert headers == {}


SCOPES = ("repository:app:pull",)


def test_credentials_never_sent_to_a_plain_http_realm_elsewhere() -> None:
    challenge = Challenge("bearer", {"realm": "http://registry.example/token", "service": "s"})
    transport = manual_transport("https://registry.example", challenge)
    fetched: list[Any] = []

    def no_fetch(key: Any, scopes: tuple[str, ...], fetch: Any) -> Token:
        fetched.append(key)
        raise AssertionError("no token may be asked for")

    transport.tokens.get = no_fetch  # type: ignore[method-assign]
    state = transport._states["registry.example"]
    with pytest.raises(AuthenticationError) as info:
        transport.authorizer.authorize(
            "registry.example", "app", state.challenge, state.base_url, SCOPES, {}
        )
    assert "plain-http token realm" in str(info.value)
    assert fetched == []
    # Named insecure, it is the user's call.
    transport.insecure.add("registry.example")
    transport.tokens.get = lambda key, scopes, fetch: Token("t", 1e12, scopes)  # type: ignore[method-assign]
    headers: dict[str, str] = {}
    transport.authorizer.authorize(
        "registry.example", "app", state.challenge, state.base_url, SCOPES, headers
    )
    assert headers["Authorization"] == "Bearer t"


@pytest.mark.parametrize(
    ("realm", "registry_url", "ok"),
    [
        ("https://auth.docker.io/token", "https://registry-1.docker.io", True),
        ("http://auth.example/token", "https://registry.example", False),
        ("http://registry.example/token", "https://registry.example", True),
        ("http://auth.example/token", "http://registry.example", True),
        ("https://127.0.0.1/token", "https://registry.example", False),
        ("https://localhost:5001/token", "https://registry.example", False),
        ("http://127.0.0.1:5001/token", "http://127.0.0.1:5000", True),
        ("ftp://auth.example/token", "https://registry.example", False),
        ("/token", "https://registry.example", False),
        ("", "https://registry.example", False),
    ],
    ids=[
        "hub",
        "http-elsewhere",
        "http-same-host",
        "http-registry",
        "loopback-ip",
        "localhost",
        "both-loopback",
        "ftp",
        "relative",
        "empty",
    ],
)
def test_check_realm(realm: str, registry_url: str, ok: bool) -> None:
    if ok:
        check_realm(realm, registry_url)
    else:
        with pytest.raises(AuthenticationError):
            check_realm(realm, registry_url)


def test_https_registry_refuses_http_realm_on_another_host_end_to_end(
    tls_server: tuple[HTTPServer, str],
) -> None:
    server, ca = tls_server
    server.expect_request("/v2/").respond_with_json(
        {}, status=401, headers={"WWW-Authenticate": 'Bearer realm="http://auth.invalid/token"'}
    )
    host = f"127.0.0.1:{server.port}"
    with Client(load_entrypoints=False, ca_cert=ca) as client:
        client.transport.tokens = TokenCache()
        with pytest.raises(AuthenticationError) as info:
            client.tags(f"{host}/app")
    assert "plain-http token realm" in str(info.value)


@pytest.mark.parametrize(
    ("name", "endpoint"),
    [
        ("docker.io", "registry-1.docker.io"),
        ("index.docker.io", "registry-1.docker.io"),
        ("Docker.IO", "registry-1.docker.io"),
        ("registry-1.docker.io", "registry-1.docker.io"),
        ("ghcr.io", "ghcr.io"),
        ("localhost:5000", "localhost:5000"),
    ],
)
def test_endpoint_for(name: str, endpoint: str) -> None:
    assert endpoint_for(name) == endpoint


@pytest.mark.parametrize(
    ("registry", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("foo.localhost:5000", True),
        ("127.0.0.1", True),
        ("127.1.2.3:5000", True),
        ("[::1]:5000", True),
        ("::1", True),
        ("10.0.0.1:5000", False),
        ("registry.example", False),
        ("localhost.example.com", False),
    ],
)
def test_is_loopback(registry: str, loopback: bool) -> None:
    assert is_loopback(registry) is loopback


@pytest.mark.parametrize(
    ("registry", "insecure", "tried"),
    [
        ("registry.example", (), ["https"]),
        ("registry.example:5000", ("registry.example:5000",), ["https", "http"]),
        ("localhost:5000", (), ["https", "http"]),
        ("docker.io", (), ["https"]),
    ],
    ids=["default-https-only", "insecure", "loopback", "hub"],
)
def test_plain_http_only_for_loopback_and_insecure(
    registry: str, insecure: tuple[str, ...], tried: list[str]
) -> None:
    transport = Transport(
        credentials_for=lambda r, p: None, insecure_registries=insecure, token_cache=TokenCache()
    )
    urls: list[str] = []

    def send_once(method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        urls.append(url)
        raise TransportError("unreachable")

    transport._send_once = send_once  # type: ignore[method-assign]
    with pytest.raises(TransportError):
        transport.state(registry)
    endpoint = endpoint_for(registry)
    assert urls == [f"{scheme}://{endpoint}/v2/" for scheme in tried]


# -- warnings and rate limits ------------------------------------------------------------------


def test_warning_299_logged_once_and_rate_limits_captured(
    fake: Fake, caplog: pytest.LogCaptureFixture
) -> None:
    fake.v2()
    headers = {
        "Warning": '299 - "this repository is deprecated, use other/app", 299 - "also \\"this\\""',
        "RateLimit-Limit": "100;w=21600",
        "RateLimit-Remaining": "76;w=21600",
        "Docker-RateLimit-Source": "203.0.113.9",
    }
    fake.server.expect_request("/v2/app/tags/list").respond_with_response(
        Response(json.dumps({"tags": ["v1"]}), headers=headers, content_type="application/json")
    )
    caplog.set_level(logging.WARNING, logger="ocireg")
    client, host = fake.client()
    for _ in range(3):
        assert client.tags(f"{host}/app") == ["v1"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"registry {host}: this repository is deprecated, use other/app",
        f'registry {host}: also "this"',
    ]
    limits = client.transport.rate_limits[host]
    assert limits["RateLimit-Limit"] == "100;w=21600"
    assert limits["RateLimit-Remaining"] == "76;w=21600"


def test_other_warning_codes_are_ignored(fake: Fake, caplog: pytest.LogCaptureFixture) -> None:
    fake.v2()
    fake.server.expect_request("/v2/app/tags/list").respond_with_response(
        Response(
            json.dumps({"tags": []}),
            headers={"Warning": '199 - "misc"'},
            content_type="application/json",
        )
    )
    caplog.set_level(logging.WARNING, logger="ocireg")
    client, host = fake.client()
    client.tags(f"{host}/app")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert host not in client.transport.rate_limits


# -- redaction and logs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://r.example/v2/", "https://r.example/v2/"),
        ("https://u:p@r.example/v2/", "https://***@r.example/v2/"),
        (
            "https://s3.example/b?X-Amz-Signature=abc&sig=def&x=1",
            "https://s3.example/b?X-Amz-Signature=***&sig=***&x=1",
        ),
        (
            "https://auth.example/token?service=s&scope=repository:a:pull&access_token=T",
            "https://auth.example/token?service=s&scope=repository:a:pull&access_token=***",
        ),
        ("https://a.example/t?password=pw&token=t", "https://a.example/t?password=***&token=***"),
        ("https://a.example/t?refresh_token=r", "https://a.example/t?refresh_token=***"),
    ],
    ids=["plain", "userinfo", "sig", "access-token", "password", "refresh"],
)
def test_redact_url(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


def test_redact_headers() -> None:
    headers = {
        "Authorization": basic_value(),
        "Proxy-Authorization": "Bearer " + TOKEN,
        "Cookie": "session=abc",
        "Accept": "application/json",
        "WWW-Authenticate": 'Bearer realm="x"',
    }
    out = redact_headers(headers)
    assert out == {
        "Authorization": "Basic ***",
        "Proxy-Authorization": "Bearer ***",
        "Cookie": "***",
        "Accept": "application/json",
        "WWW-Authenticate": 'Bearer realm="x"',
    }


def test_debug_logs_of_a_basic_run_hold_no_password(
    fake: Fake, caplog: pytest.LogCaptureFixture
) -> None:
    fake.basic_protected()
    fake.server.expect_request("/v2/app/tags/list").respond_with_response(tags_page(["v1"]))
    caplog.set_level(logging.DEBUG, logger="ocireg")
    client, host = fake.client(credentials=(USER, PASSWORD))
    client.ping(host)
    client.tags(f"{host}/app")
    text = caplog.text
    assert f"GET http://{host}/v2/app/tags/list -> 200" in text
    assert "ms)" in text
    assert "Basic ***" in text  # headers are logged, redacted
    assert PASSWORD not in text
    assert basic_value().split()[1] not in text


def test_debug_logs_of_a_token_run_hold_no_token(
    fake: Fake, caplog: pytest.LogCaptureFixture
) -> None:
    realm = TokenRealm(fake, {"token": TOKEN, "refresh_token": "R" * 30, "expires_in": 300})
    realm.protect("/v2/app/tags/list", lambda _: tags_page(["v1"]))
    caplog.set_level(logging.DEBUG, logger="ocireg")
    client, host = fake.client(credentials=(USER, PASSWORD))
    assert client.tags(f"{host}/app") == ["v1"]
    text = caplog.text
    assert "Bearer ***" in text
    assert "token from" in text
    for secret in (TOKEN, TOKEN.split(".")[0], PASSWORD, "R" * 30):
        assert secret not in text
    assert basic_value().split()[1] not in text


# -- manifests -------------------------------------------------------------------------------


def test_manifest_over_4_mib_is_refused_unread(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.v2()
    size = 5 * 1024 * 1024
    fake.server.expect_request("/v2/app/manifests/big").respond_with_data(
        b"{" + b" " * (size - 2) + b"}",
        content_type=OCI_MANIFEST,
        headers={"Docker-Content-Digest": sha256(b"x")},
    )

    def never(*args: Any) -> bytes:
        raise AssertionError("the body was read")

    monkeypatch.setattr("ocireg.remote.manifest_calls.read_bounded", never)
    client, host = fake.client()
    with pytest.raises(ManifestError) as info:
        client.get_manifest(f"{host}/app:big")
    assert "4 MiB" in str(info.value)
    assert str(size) in str(info.value)


def test_chunked_manifest_over_4_mib_stops_reading(fake: Fake) -> None:
    fake.v2()
    chunk = b" " * 65536

    def handler(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield b"{"
            for _ in range(160):  # 10 MiB, no Content-Length
                yield chunk
            yield b"}"

        return Response(body(), content_type=OCI_MANIFEST)

    fake.server.expect_request("/v2/app/manifests/big").respond_with_handler(handler)
    client, host = fake.client()
    with pytest.raises(ManifestError) as info:
        client.get_manifest(f"{host}/app:big")
    assert f"over the {4 * 1024 * 1024}-byte limit" in str(info.value)


def test_docker_content_digest_disagreeing_with_bytes(fake: Fake) -> None:
    fake.v2()
    raw = manifest_bytes()
    fake.server.expect_request("/v2/app/manifests/v1").respond_with_data(
        raw,
        content_type=OCI_MANIFEST,
        headers={"Docker-Content-Digest": sha256(manifest_bytes("other"))},
    )
    client, host = fake.client()
    with pytest.raises(DigestMismatchError) as info:
        client.get_manifest(f"{host}/app:v1")
    assert info.value.expected == sha256(manifest_bytes("other"))
    assert info.value.actual == sha256(raw)
    assert "Docker-Content-Digest" in str(info.value)


def test_manifest_by_digest_with_tampered_bytes(fake: Fake) -> None:
    fake.v2()
    wanted = manifest_bytes("original")
    tampered = manifest_bytes("tampered")
    digest = sha256(wanted)
    fake.server.expect_request(f"/v2/app/manifests/{digest}").respond_with_data(
        tampered, content_type=OCI_MANIFEST
    )
    client, host = fake.client()
    with pytest.raises(DigestMismatchError) as info:
        client.get_manifest(f"{host}/app@{digest}")
    assert (info.value.expected, info.value.actual) == (digest, sha256(tampered))
    assert "requested" in str(info.value)


def test_manifest_by_digest_with_tampered_body_that_is_not_json(fake: Fake) -> None:
    fake.v2()
    digest = sha256(manifest_bytes())
    fake.server.expect_request(f"/v2/app/manifests/{digest}").respond_with_data(
        b"<html>captive portal</html>", content_type=OCI_MANIFEST
    )
    client, host = fake.client()
    with pytest.raises(DigestMismatchError):
        client.get_manifest(f"{host}/app@{digest}")


def test_manifest_by_sha512_digest(fake: Fake) -> None:
    fake.v2()
    raw = manifest_bytes()
    digest = "sha512:" + hashlib.sha512(raw).hexdigest()
    fake.server.expect_request(f"/v2/app/manifests/{digest}").respond_with_data(
        raw, content_type=OCI_MANIFEST, headers={"Docker-Content-Digest": digest}
    )
    client, host = fake.client()
    manifest = client.get_manifest(f"{host}/app@{digest}")
    assert manifest.raw == raw


def test_manifest_without_docker_content_digest_is_accepted(fake: Fake) -> None:
    fake.v2()
    raw = manifest_bytes()
    fake.server.expect_request("/v2/app/manifests/v1").respond_with_data(
        raw, content_type=OCI_MANIFEST + "; charset=utf-8"
    )
    client, host = fake.client()
    manifest = client.get_manifest(f"{host}/app:v1")
    assert str(manifest.digest) == sha256(raw)
    assert manifest.media_type == OCI_MANIFEST


def test_get_manifest_accept_lists_every_type(fake: Fake) -> None:
    fake.v2()
    raw = manifest_bytes()
    fake.server.expect_request("/v2/app/manifests/v1").respond_with_data(
        raw, content_type=OCI_MANIFEST
    )
    client, host = fake.client()
    client.get_manifest(f"{host}/app:v1")
    (req,) = fake.requests_to("/v2/app/manifests/v1")
    accept = req.headers["Accept"]
    for media_type in (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ):
        assert media_type in accept


def test_head_manifest_by_digest_with_other_digest(fake: Fake) -> None:
    fake.v2()
    raw = manifest_bytes()
    asked = sha256(b"something else")
    fake.server.expect_request(f"/v2/app/manifests/{asked}", method="HEAD").respond_with_data(
        "",
        content_type=OCI_MANIFEST,
        headers={"Docker-Content-Digest": sha256(raw), "Content-Length": str(len(raw))},
    )
    client, host = fake.client()
    with pytest.raises(DigestMismatchError):
        client.head_manifest(f"{host}/app@{asked}")


def test_added_query_keeps_the_location_verbatim() -> None:
    location = "http://r/v2/a/blobs/uploads/u?_state=ab%2Bc%3D%3D&x=1"
    assert add_query(location, {"digest": "sha256:00"}) == location + "&digest=sha256%3A00"
    assert add_query("http://r/p", [("n", "1")]) == "http://r/p?n=1"
