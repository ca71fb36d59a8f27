"""The registry client core against real distribution 2.8 registries (open, Basic, token, TLS).

Images are pushed with :class:`tests.fixtures.images.Pusher` (plain ``requests``), so what is
checked here is only the client's reading, auth and transport. Repository names are unique
per test because the session registries are shared with other test modules.
"""

from __future__ import annotations

import http.client
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

import ocireg.wire
from ocireg import (
    AuthenticationError,
    DeniedError,
    ManifestError,
    NotFoundError,
    TransportError,
)
from ocireg.auth.credentials import BasicCredentials, IdentityToken, RegistryToken
from ocireg.auth.token import TOKENS, TokenCache
from ocireg.client import Client
from ocireg.manifests import ImageIndex, ImageManifest
from tests.fixtures.images import OCI_CONFIG, OCI_MANIFEST, Pusher, sha256
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live

MODES = ["open", "basic", "token", "tls"]
TIMEOUT = 10


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture(params=MODES)
def registry(request: pytest.FixtureRequest) -> Registry:
    """Each session registry in turn."""
    reg: Registry = request.getfixturevalue(f"registry_{request.param}")
    return reg


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    # The token cache is process-wide: tests counting token requests need it empty, and no
    # test should lean on a token another one fetched.
    TOKENS.clear()
    yield
    TOKENS.clear()


def client_for(registry: Registry, user: str | None = "alice", **options: Any) -> Client:
    creds = BasicCredentials(*registry.credentials(user)) if user in registry.users else None
    return Client(
        credentials=creds,
        ca_cert=str(registry.ca_cert) if registry.ca_cert else None,
        load_entrypoints=False,
        **options,
    )


def pusher_for(registry: Registry) -> Pusher:
    pusher = Pusher(registry)
    # requests lets REQUESTS_CA_BUNDLE from the environment override ``session.verify``;
    # the fixture CA must win for the TLS registry.
    pusher.session.trust_env = False
    return pusher


def unique(name: str) -> str:
    return f"core/{name}-{uuid.uuid4().hex[:10]}"


def raw_get(registry: Registry, path: str, **headers: str) -> requests.Response:
    """A GET with full rights, bypassing the client (to show what the registry really says)."""
    pusher = pusher_for(registry)
    repository = path.split("/v2/", 1)[1].rsplit("/", 2)[0]
    return pusher._request("GET", f"{registry.url}{path}", repository, headers=headers)


def push_tiny(pusher: Pusher, repository: str, tag: str, config: bytes = b"{}") -> str:
    """A zero-layer OCI image: one blob and one manifest (cheap enough for hundreds)."""
    config_digest = pusher.blob(repository, config)
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [],
        }
    ).encode()
    return pusher.manifest(repository, tag, raw, OCI_MANIFEST)


# -- ping --------------------------------------------------------------------------------------


EXPECTED_PING = {
    "open": (None, False, "http"),
    "basic": ("basic", True, "http"),
    "token": ("bearer", True, "http"),
    "tls": (None, False, "https"),
}


def test_ping(registry: Registry) -> None:
    scheme, authenticated, url_scheme = EXPECTED_PING[registry.mode]
    with client_for(registry) as client:
        info = client.ping(registry.host)
    assert info.registry == registry.host
    assert info.status == 200
    assert info.auth_scheme == scheme
    assert info.authenticated is authenticated
    assert info.url == f"{url_scheme}://{registry.host}"
    assert info.api_version == "registry/2.0"


def test_ping_anonymous_token_is_not_authenticated(registry_token: Registry) -> None:
    # distribution asks even for /v2/; the token server hands anonymous users a token
    # without access, which is not being authenticated.
    with client_for(registry_token, user=None) as client:
        info = client.ping(registry_token.host)
    assert (info.auth_scheme, info.authenticated) == ("bearer", False)


def test_ping_basic_without_credentials_fails(registry_basic: Registry) -> None:
    with client_for(registry_basic, user=None) as client, pytest.raises(AuthenticationError):
        client.ping(registry_basic.host)


# -- catalog and tags --------------------------------------------------------------------------


def test_catalog_lists_pushed_repository(registry: Registry) -> None:
    repo = unique("catalog")
    push_tiny(pusher_for(registry), repo, "v1")
    with client_for(registry) as client:
        assert repo in client.catalog(registry.host)


def test_catalog_follows_relative_link_over_pages(
    registry_factory: Callable[..., Registry],
) -> None:
    registry = registry_factory(mode="open")
    pusher = pusher_for(registry)
    config = b"{}"
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [],
        }
    ).encode()
    names = [f"many/repo-{i:03d}" for i in range(105)]
    for name in names:
        pusher.blob(name, config)
        pusher.manifest(name, "v1", raw, OCI_MANIFEST)

    # The registry really pages (100 per page) with a relative Link.
    first = requests.get(f"{registry.url}/v2/_catalog", timeout=TIMEOUT)
    assert len(first.json()["repositories"]) == 100
    assert first.headers["Link"].startswith("</v2/_catalog?")

    with client_for(registry) as client:
        assert client.catalog(registry.host) == names


def test_tags_are_sorted(registry: Registry) -> None:
    repo = unique("sorted")
    pusher = pusher_for(registry)
    image = pusher.image(repo, "zeta", layers=1, layer_size=16)
    for tag in ["b", "A", "10", "9", "latest", "_x", "a.1", "a-1"]:
        pusher.tag(image, tag)
    with client_for(registry) as client:
        tags = client.tags(f"{registry.host}/{repo}")
    assert tags == sorted(["zeta", "b", "A", "10", "9", "latest", "_x", "a.1", "a-1"])
    assert tags[0] == "10"  # ASCII order, not numeric or case-folded


def test_tags_of_repository_whose_tags_were_all_deleted_is_empty(registry: Registry) -> None:
    repo = unique("emptied")
    pusher = pusher_for(registry)
    image = pusher.image(repo, "one", layers=1, layer_size=16)
    pusher.tag(image, "two")
    with client_for(registry) as client:
        client.delete_manifest(f"{registry.host}/{repo}", image.digest)
        # What the registry says: "tags": null, not [].
        assert raw_get(registry, f"/v2/{repo}/tags/list").json()["tags"] is None
        assert client.tags(f"{registry.host}/{repo}") == []


def test_tags_of_unknown_repository_is_not_found(registry_open: Registry) -> None:
    with client_for(registry_open) as client, pytest.raises(NotFoundError) as info:
        client.tags(f"{registry_open.host}/{unique('never')}")
    assert info.value.code == "NAME_UNKNOWN"
    assert "//" not in str(info.value).replace("://", "")


def test_tag_descriptors_match_sequential_heads(registry: Registry) -> None:
    repo = unique("descriptors")
    pusher = pusher_for(registry)
    images = [
        pusher.image(repo, "i0", layers=1, layer_size=16),
        pusher.image(repo, "i1", layers=1, layer_size=16, docker=True),
        pusher.index(repo, "i2"),
    ]
    for n in range(30):
        pusher.tag(images[n % 3], f"t{n:02d}")
    with client_for(registry, max_workers=6) as client:
        ref = f"{registry.host}/{repo}"
        found = client.tag_descriptors(ref)
        expected = {tag: client.head_manifest(f"{ref}:{tag}") for tag in client.tags(ref)}
        subset = client.tag_descriptors(ref, ["t00", "gone"])
    assert len(found) == 33
    assert found == expected
    assert found["t01"].digest == images[1].digest
    assert found["t02"].media_type == images[2].media_type
    assert set(subset) == {"t00"}  # an unknown tag is left out


# -- manifests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("docker", [False, True], ids=["oci", "docker"])
def test_head_and_get_manifest_agree(registry: Registry, docker: bool) -> None:
    repo = unique("headget")
    image = pusher_for(registry).image(repo, "v1", docker=docker)
    with client_for(registry) as client:
        ref = f"{registry.host}/{repo}:v1"
        head = client.head_manifest(ref)
        manifest = client.get_manifest(ref)
        by_digest = client.get_manifest(f"{registry.host}/{repo}@{image.digest}")
        head_by_digest = client.head_manifest(f"{registry.host}/{repo}@{image.digest}")
    assert head.digest == str(manifest.digest) == image.digest == head_by_digest.digest
    assert head.media_type == manifest.media_type == image.media_type
    assert head.size == image.size
    assert manifest.raw == by_digest.raw == image.raw
    assert isinstance(manifest, ImageManifest)
    assert [str(layer.digest) for layer in manifest.layers] == list(image.blobs)[1:]


@pytest.mark.parametrize("docker", [False, True], ids=["oci-index", "docker-list"])
@pytest.mark.parametrize("platform", ["linux/arm64/v8", "linux/arm64", "linux/aarch64"])
def test_get_manifest_selects_platform(registry: Registry, docker: bool, platform: str) -> None:
    repo = unique("platform")
    index = pusher_for(registry).index(repo, "multi", docker=docker)
    amd64, arm64 = index.children
    with client_for(registry) as client:
        ref = f"{registry.host}/{repo}:multi"
        whole = client.get_manifest(ref)
        chosen = client.get_manifest(ref, platform=platform)
        chosen_amd64 = client.get_manifest(ref, platform="linux/amd64")
    assert isinstance(whole, ImageIndex)
    assert str(whole.digest) == index.digest
    assert whole.media_type == index.media_type
    assert str(chosen.digest) == arm64.digest
    assert chosen.raw == arm64.raw
    assert str(chosen_amd64.digest) == amd64.digest


def test_missing_platform_lists_available_ones(registry_open: Registry) -> None:
    repo = unique("noplatform")
    pusher_for(registry_open).index(repo, "multi")
    with client_for(registry_open) as client, pytest.raises(ManifestError) as info:
        client.get_manifest(f"{registry_open.host}/{repo}:multi", platform="linux/s390x")
    message = str(info.value)
    assert "linux/s390x" in message
    assert "linux/amd64" in message and "linux/arm64/v8" in message


def test_image_config(registry: Registry) -> None:
    repo = unique("config")
    pusher = pusher_for(registry)
    image = pusher.image(
        repo, "v1", created="2023-05-06T07:08:09Z", architecture="amd64", labels={"a": "b"}
    )
    index = pusher.index(repo, "multi", created="2022-02-02T00:00:00Z")
    with client_for(registry) as client:
        config = client.image_config(f"{registry.host}/{repo}:v1")
        arm = client.image_config(f"{registry.host}/{repo}:multi", platform="linux/arm64")
        default = client.image_config(f"{registry.host}/{repo}:multi")
    assert config == image.config
    assert config["created"] == "2023-05-06T07:08:09Z"
    assert config["architecture"] == "amd64"
    assert config["config"]["Labels"] == {"a": "b"}
    assert (arm["architecture"], arm.get("variant")) == ("arm64", "v8")
    assert arm["created"] == "2022-02-02T00:00:00Z"
    assert default == index.children[0].config  # linux/amd64, as docker pull on amd64


def test_put_manifest_round_trip_keeps_bytes(registry: Registry) -> None:
    repo = unique("put")
    pusher = pusher_for(registry)
    source = pusher.image(repo, "src", layers=1, layer_size=32)
    # Odd but valid formatting: the registry and the client must keep the bytes as sent.
    doc = json.loads(source.raw)
    doc["annotations"] = {"org.example.note": "round trip"}
    raw = (json.dumps(doc, indent=3, sort_keys=True) + "\n").encode()
    with client_for(registry) as client:
        digest = client.put_manifest(f"{registry.host}/{repo}:copy", raw, OCI_MANIFEST)
        fetched = client.get_manifest(f"{registry.host}/{repo}:copy")
        by_digest = client.put_manifest(f"{registry.host}/{repo}@{digest}", raw, OCI_MANIFEST)
    assert str(digest) == sha256(raw) == str(by_digest)
    assert fetched.raw == raw
    assert raw_get(registry, f"/v2/{repo}/manifests/copy", Accept=OCI_MANIFEST).content == raw


def test_delete_manifest(registry: Registry) -> None:
    repo = unique("delete")
    pusher = pusher_for(registry)
    keep = pusher.image(repo, "keep", layers=1, layer_size=16)
    gone = pusher.image(repo, "gone", layers=1, layer_size=16)
    pusher.tag(gone, "gone-too")
    with client_for(registry) as client:
        ref = f"{registry.host}/{repo}"
        client.delete_manifest(ref, gone.digest)
        assert client.tags(ref) == ["keep"]
        with pytest.raises(NotFoundError):
            client.head_manifest(f"{ref}@{gone.digest}")
        with pytest.raises(NotFoundError):
            client.delete_manifest(ref, gone.digest)
        assert client.head_manifest(f"{ref}:keep").digest == keep.digest


def test_oci_manifest_without_media_type_field(registry_open: Registry) -> None:
    repo = unique("umoci")
    pusher = pusher_for(registry_open)
    image = pusher.image(repo, "with-type", layers=1, layer_size=16)
    doc = json.loads(image.raw)
    del doc["mediaType"]
    raw = json.dumps(doc).encode()
    pusher.manifest(repo, "umoci", raw, OCI_MANIFEST)
    served = raw_get(registry_open, f"/v2/{repo}/manifests/umoci", Accept=OCI_MANIFEST)
    assert served.headers["Content-Type"] == OCI_MANIFEST  # the type given at PUT
    with client_for(registry_open) as client:
        manifest = client.get_manifest(f"{registry_open.host}/{repo}:umoci")
        head = client.head_manifest(f"{registry_open.host}/{repo}:umoci")
    assert isinstance(manifest, ImageManifest)
    assert manifest.media_type == OCI_MANIFEST == head.media_type
    assert manifest.raw == raw
    assert str(manifest.config.digest) == str(json.loads(image.raw)["config"]["digest"])


def test_unknown_tag_is_not_found_with_code(registry: Registry) -> None:
    repo = unique("unknown")
    pusher_for(registry).image(repo, "v1", layers=1, layer_size=16)
    with client_for(registry) as client:
        with pytest.raises(NotFoundError) as info:
            client.get_manifest(f"{registry.host}/{repo}:missing")
        assert "MANIFEST_UNKNOWN" in str(info.value)
        assert info.value.code == "MANIFEST_UNKNOWN"
        assert info.value.status == 404
        assert f"{registry.host}/{repo}:missing" in str(info.value)
        with pytest.raises(NotFoundError):
            client.head_manifest(f"{registry.host}/{repo}:missing")


# -- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["basic", "token"])
def test_wrong_password_is_authentication_error(request: pytest.FixtureRequest, mode: str) -> None:
    registry: Registry = request.getfixturevalue(f"registry_{mode}")
    repo = unique("wrongpw")
    pusher_for(registry).image(repo, "v1", layers=1, layer_size=16)
    wrong = f"not-{secrets.token_hex(8)}"
    client = Client(credentials=BasicCredentials("alice", wrong), load_entrypoints=False)
    for call in (
        lambda: client.tags(f"{registry.host}/{repo}"),
        lambda: client.get_manifest(f"{registry.host}/{repo}:v1"),
        lambda: client.ping(registry.host),
    ):
        with pytest.raises(AuthenticationError) as info:
            call()
        text = f"{info.value} {info.value!r} {info.value.__cause__!r}"
        assert wrong not in text
        assert registry.users["alice"] not in text
        assert "alice" in str(info.value) or registry.host in str(info.value)
        # The registry's 401 (basic) or the token server's (token), with a code to act on.
        assert (info.value.status, info.value.code) == (401, "UNAUTHORIZED")


def test_puller_cannot_push(registry_token: Registry) -> None:
    repo = unique("puller")
    image = pusher_for(registry_token).image(repo, "v1", layers=1, layer_size=16)
    with client_for(registry_token, user="puller") as client:
        assert client.tags(f"{registry_token.host}/{repo}") == ["v1"]  # pulling is fine
        with pytest.raises((DeniedError, AuthenticationError)) as info:
            client.put_manifest(f"{registry_token.host}/{repo}:v2", image.raw, image.media_type)
    assert "insufficient scope" in str(info.value) or "insufficient_scope" in str(info.value)
    assert registry_token.users["puller"] not in str(info.value)


def test_anonymous_on_token_registry_is_denied(registry_token: Registry) -> None:
    repo = unique("anon")
    pusher_for(registry_token).image(repo, "v1", layers=1, layer_size=16)
    with (
        client_for(registry_token, user=None) as client,
        pytest.raises((DeniedError, AuthenticationError)),
    ):
        client.tags(f"{registry_token.host}/{repo}")


def test_one_token_request_per_scope(registry_token: Registry) -> None:
    server = registry_token.token_server
    assert server is not None
    repo = unique("onetoken")
    image = pusher_for(registry_token).image(repo, "v1", layers=1, layer_size=16)
    TOKENS.clear()
    server.reset_requests()
    with client_for(registry_token) as client:
        ref = f"{registry_token.host}/{repo}"
        for _ in range(20):
            assert client.tags(ref) == ["v1"]
        for _ in range(20):
            assert client.head_manifest(f"{ref}:v1").digest == image.digest
    scope = f"repository:{repo}:pull"
    assert len(server.requests_for(scope)) == 1
    assert [r.scopes for r in server.requests] == [(scope,)]
    (only,) = server.requests
    assert (only.method, only.username, only.service) == ("GET", "alice", server.service)
    # A second client in the same process reuses the cached token.
    with client_for(registry_token) as again:
        again.tags(f"{registry_token.host}/{repo}")
    assert len(server.requests) == 1


def test_push_scope_token_then_wider_for_delete(registry_token: Registry) -> None:
    server = registry_token.token_server
    assert server is not None
    repo = unique("scopes")
    image = pusher_for(registry_token).image(repo, "v1", layers=1, layer_size=16)
    server.reset_requests()
    with client_for(registry_token) as client:
        ref = f"{registry_token.host}/{repo}"
        client.put_manifest(f"{ref}:v2", image.raw, image.media_type)
        client.tags(ref)  # pull is covered by the pull,push token: no new request
        client.delete_manifest(ref, image.digest)
        assert client.tags(ref) == []
    assert [r.scopes for r in server.requests] == [
        (f"repository:{repo}:pull,push",),
        (f"repository:{repo}:pull,delete",),
    ]


def test_token_without_expires_in(registry_factory: Callable[..., Registry]) -> None:
    registry = registry_factory(mode="token")
    server = registry.token_server
    assert server is not None
    server.omit_expires_in = True
    repo = unique("noexpiry")
    image = pusher_for(registry).image(repo, "v1", layers=1, layer_size=16)
    with client_for(registry) as client:
        cache = client.transport.tokens = TokenCache()
        before = time.monotonic()
        assert client.head_manifest(f"{registry.host}/{repo}:v1").digest == image.digest
        assert client.tags(f"{registry.host}/{repo}") == ["v1"]
    (tokens,) = cache._tokens.values()
    (token,) = tokens
    assert before + 59 <= token.expires_at <= time.monotonic() + 60
    assert cache.fetches == 1


def test_identity_token_uses_oauth2_refresh(registry_token: Registry) -> None:
    server = registry_token.token_server
    assert server is not None
    repo = unique("identity")
    image = pusher_for(registry_token).image(repo, "v1", layers=1, layer_size=16)
    answer = requests.post(
        server.realm,
        data={
            "grant_type": "password",
            "username": "alice",
            "password": registry_token.users["alice"],
            "service": server.service,
            "client_id": "ocireg-tests",
            "access_type": "offline",
            "scope": "",
        },
        timeout=TIMEOUT,
    )
    answer.raise_for_status()
    refresh = answer.json()["refresh_token"]
    server.reset_requests()
    client = Client(credentials=IdentityToken(refresh), load_entrypoints=False)
    with client:
        assert client.head_manifest(f"{registry_token.host}/{repo}:v1").digest == image.digest
        assert client.tags(f"{registry_token.host}/{repo}") == ["v1"]
    (req,) = server.requests
    assert (req.method, req.grant_type, req.username) == ("POST", "refresh_token", "alice")
    assert req.scopes == (f"repository:{repo}:pull",)
    assert req.service == server.service
    assert req.client_id == "ocireg"


def test_registry_token_is_sent_as_is(registry_token: Registry) -> None:
    server = registry_token.token_server
    assert server is not None
    repo = unique("regtoken")
    image = pusher_for(registry_token).image(repo, "v1", layers=1, layer_size=16)
    token = server.issue_token("alice", [f"repository:{repo}:pull"])
    server.reset_requests()
    with Client(credentials=RegistryToken(token), load_entrypoints=False) as client:
        assert client.tags(f"{registry_token.host}/{repo}") == ["v1"]
        assert client.get_manifest(f"{registry_token.host}/{repo}:v1").raw == image.raw
        # A token without push rights is not swapped for another one.
        with pytest.raises((DeniedError, AuthenticationError)):
            client.put_manifest(f"{registry_token.host}/{repo}:v2", image.raw, image.media_type)
    assert server.requests == []


# -- TLS and connections ------------------------------------------------------------------------


def test_tls_with_ca(registry_tls: Registry) -> None:
    repo = unique("tls")
    image = pusher_for(registry_tls).image(repo, "v1", layers=1, layer_size=16)
    with client_for(registry_tls) as client:
        assert client.head_manifest(f"{registry_tls.host}/{repo}:v1").digest == image.digest
        assert client.transport.base_url(registry_tls.host).startswith("https://")


def test_tls_without_ca_is_a_clear_transport_error(registry_tls: Registry) -> None:
    with Client(load_entrypoints=False) as client:
        with pytest.raises(TransportError) as info:
            client.tags(f"{registry_tls.host}/{unique('tls')}")
        with pytest.raises(TransportError):
            client.ping(f"https://{registry_tls.host}")
    assert "TLS" in str(info.value)
    assert "certificate is not trusted" in str(info.value)
    assert info.value.kind == "tls"
    assert isinstance(info.value.__cause__, ocireg.wire.SSLError)


@pytest.mark.parametrize("mode", ["open", "tls", "token"])
def test_sequential_calls_reuse_one_connection(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    registry: Registry = request.getfixturevalue(f"registry_{mode}")
    repo = unique("reuse")
    pusher = pusher_for(registry)
    index = pusher.index(repo, "multi")
    pusher.tag(index.children[0], "single")
    # Count sockets opened, not connection objects: an idle connection the server closed is
    # opened again by the same object.
    opened: list[tuple[str, int]] = []
    original = http.client.HTTPConnection.connect

    def connect(self: http.client.HTTPConnection) -> None:
        scheme = "https" if isinstance(self, http.client.HTTPSConnection) else "http"
        opened.append((scheme, self.port))
        original(self)

    monkeypatch.setattr(http.client.HTTPConnection, "connect", connect)
    with client_for(registry) as client:
        ref = f"{registry.host}/{repo}"
        client.ping(registry.host)
        for _ in range(3):
            client.tags(ref)
            client.head_manifest(f"{ref}:multi")
            client.get_manifest(f"{ref}:multi", platform="linux/arm64")
            client.get_manifest(f"{ref}:single")
            with pytest.raises(NotFoundError):
                client.head_manifest(f"{ref}:missing")
            with pytest.raises(NotFoundError):
                client.get_manifest(f"{ref}:missing")
    scheme = "https" if mode == "tls" else "http"
    to_registry = [c for c in opened if c == (scheme, registry.port)]
    assert len(to_registry) == 1, opened
    if mode == "token":  # and one to the token server
        assert [c for c in opened if c[1] != registry.port] == [
            ("http", registry.token_server.port)  # type: ignore[union-attr]
        ]
