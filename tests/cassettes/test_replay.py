"""Recorded exchanges with a real distribution 2.8 registry in token mode, replayed offline.

By default the cassettes under ``cassettes/test_replay/`` are replayed (vcrpy
``record_mode="none"``): no registry, no network. With ``OCIREG_RECORD=1`` a token-mode
registry and its token server are started, the fixture images pushed, and every cassette
recorded again (``record_mode="all"``).

What is stored is scrubbed before it is written: ``Authorization`` and cookie headers are
dropped, token values in token-server answers become ``<redacted>``, and ``account`` and
secret-looking query values are replaced. The random loopback ports are rewritten to fixed
names (``registry.test:5000`` for the registry, ``auth.test:5001`` for the token realm), and
the replaying client is pointed at those names with an explicit ``http://`` scheme (so it
never probes https) and with the registry named insecure (so credentials may go over plain
http to a name that is not loopback).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import vcr  # type: ignore[import-untyped]

from ocireg.auth.credentials import BasicCredentials
from ocireg.auth.token import TOKENS
from ocireg.client import Client
from ocireg.manifests import ImageIndex, ImageManifest

RECORD = os.environ.get("OCIREG_RECORD") == "1"
CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "test_replay"
REGISTRY = "registry.test:5000"
AUTH = "auth.test:5001"
REPO = "replay/app"
REDACTED = "<redacted>"
LABELS = {"org.opencontainers.image.title": "replay", "org.example.team": "core"}
CREATED = "2024-03-04T05:06:07Z"
_SECRET_QUERY = {"account", "password", "access_token", "refresh_token", "token", "sig"}
_TOKEN_FIELDS = ("token", "access_token", "refresh_token", "id_token")

if RECORD:
    pytestmark = pytest.mark.live


@dataclass
class Target:
    """Where the client talks to, and how recorded hosts are renamed."""

    host: str
    credentials: BasicCredentials
    renames: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()

    def ref(self, tail: str = "") -> str:
        return f"http://{self.host}/{REPO}{tail}"

    def client(self) -> Client:
        return Client(
            credentials=self.credentials,
            insecure_registries=[self.host],
            load_entrypoints=False,
            # The recorded names are not real hosts: answer the realm check here, so that
            # replaying never asks a name server (tests talk to loopback only).
            resolver=_loopback_resolver,
            allow_private_realms=True,
        )


def _loopback_resolver(host: str, *args: object, **kwargs: object) -> list[tuple[Any, ...]]:
    import socket

    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]


# -- scrubbing -------------------------------------------------------------------------------


def _rename(text: str, renames: dict[str, str]) -> str:
    for old, new in renames.items():
        text = text.replace(old, new)
    return text


def _scrub_query(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [
        (k, REDACTED if k.lower() in _SECRET_QUERY else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def scrub_request(request: Any, renames: dict[str, str]) -> Any:
    """Applied by vcrpy to a copy of every request, when recording and when matching."""
    request.uri = _scrub_query(_rename(request.uri, renames))
    for name in list(request.headers):
        if name.lower() in ("authorization", "cookie", "proxy-authorization"):
            del request.headers[name]
        elif name.lower() == "host":
            request.headers[name] = _rename(request.headers[name], renames)
    if isinstance(request.body, bytes) and request.body:
        # OAuth2 token forms carry passwords and refresh tokens.
        form = parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        if any(k in ("password", "refresh_token") for k, _ in form):
            request.body = urlencode(
                [(k, REDACTED if k in ("password", "refresh_token") else v) for k, v in form]
            ).encode()
    return request


def scrub_response(response: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    headers = response["headers"]
    for name in list(headers):
        if name.lower() in ("set-cookie", "www-authenticate", "location", "link"):
            if name.lower() == "set-cookie":
                del headers[name]
                continue
            headers[name] = [_rename(value, renames) for value in headers[name]]
    body = response["body"].get("string") or b""
    if body:
        text = _rename(body.decode("utf-8"), renames) if isinstance(body, bytes) else body
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and any(k in doc for k in _TOKEN_FIELDS):
            for key in _TOKEN_FIELDS:
                if key in doc:
                    doc[key] = REDACTED
            text = json.dumps(doc)
        response["body"]["string"] = text.encode("utf-8")
        for name in list(headers):
            if name.lower() == "content-length":
                headers[name] = [str(len(response["body"]["string"]))]
    return response


def make_vcr(target: Target) -> vcr.VCR:
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if RECORD else "none",
        match_on=["method", "scheme", "host", "port", "path", "query"],
        before_record_request=lambda r: scrub_request(r, target.renames),
        before_record_response=lambda r: scrub_response(r, target.renames),
        decode_compressed_response=True,
    )


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    if not RECORD:
        # The password is never in a cassette, so any will do on replay.
        yield Target(REGISTRY, BasicCredentials("alice", "replay-password"))
        return
    from tests.conftest import _require_registry_binary
    from tests.fixtures.images import Pusher
    from tests.fixtures.registry import start_registry

    _require_registry_binary()
    registry = start_registry(tmp_path_factory.mktemp("replay"), mode="token")
    try:
        server = registry.token_server
        assert server is not None
        pusher = Pusher(registry)
        image = pusher.image(REPO, "v1", created=CREATED, labels=LABELS, layers=1)
        for tag in ("latest", "2.0", "1.10", "1.9"):
            pusher.tag(image, tag)
        pusher.index(REPO, "multi", created=CREATED)
        yield Target(
            registry.host,
            BasicCredentials(*registry.credentials("alice")),
            renames={registry.host: REGISTRY, f"127.0.0.1:{server.port}": AUTH},
            secrets=tuple(registry.users.values()),
        )
    finally:
        registry.stop()


@pytest.fixture
def cassette(target: Target, request: pytest.FixtureRequest) -> Iterator[None]:
    TOKENS.clear()  # process-wide: a cached token would change what is (re)played
    path = f"{request.node.name}.yaml"
    if not RECORD and not (CASSETTES / path).is_file():
        pytest.fail(f"missing cassette {CASSETTES / path}; record with OCIREG_RECORD=1")
    with make_vcr(target).use_cassette(path):
        yield
    TOKENS.clear()


# -- replayed operations ----------------------------------------------------------------------


def test_ping(target: Target, cassette: None) -> None:
    with target.client() as client:
        info = client.ping(f"http://{target.host}")
    assert (info.status, info.auth_scheme, info.authenticated) == (200, "bearer", True)
    assert info.url == f"http://{target.host}"


def test_tags(target: Target, cassette: None) -> None:
    with target.client() as client:
        assert client.tags(target.ref()) == ["1.10", "1.9", "2.0", "latest", "multi", "v1"]


def test_head_manifest(target: Target, cassette: None) -> None:
    with target.client() as client:
        head = client.head_manifest(target.ref(":v1"))
        latest = client.head_manifest(target.ref(":latest"))
        manifest = client.get_manifest(target.ref(":v1"))
    assert head == latest
    assert head.digest == str(manifest.digest)
    assert head.size == len(manifest.raw)
    assert head.media_type == "application/vnd.oci.image.manifest.v1+json"


def test_get_manifest_index_with_platform(target: Target, cassette: None) -> None:
    with target.client() as client:
        index = client.get_manifest(target.ref(":multi"))
        arm = client.get_manifest(target.ref(":multi"), platform="linux/arm64")
    assert isinstance(index, ImageIndex)
    assert [str(p) for p in index.platforms()] == ["linux/amd64", "linux/arm64/v8"]
    assert isinstance(arm, ImageManifest)
    assert str(arm.digest) == index.select("linux/arm64/v8").digest


def test_image_config(target: Target, cassette: None) -> None:
    with target.client() as client:
        config = client.image_config(target.ref(":v1"))
        arm = client.image_config(target.ref(":multi"), platform="linux/arm64/v8")
    assert config["created"] == CREATED
    assert (config["os"], config["architecture"]) == ("linux", "amd64")
    assert config["config"]["Labels"] == LABELS
    assert (arm["architecture"], arm["variant"]) == ("arm64", "v8")


# -- the cassettes themselves ------------------------------------------------------------------


_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}")


def test_cassettes_hold_no_secrets(target: Target) -> None:
    files = sorted(CASSETTES.glob("*.yaml"))
    assert {f.stem for f in files} >= {
        "test_ping",
        "test_tags",
        "test_head_manifest",
        "test_get_manifest_index_with_platform",
        "test_image_config",
    }
    for path in files:
        text = path.read_text()
        assert "Basic " not in text, path
        assert not _JWT.search(text), path
        assert "wonderland-" not in text, path  # the fixture passwords' prefix
        assert "account=alice" not in text, path
        assert "127.0.0.1" not in text, path  # ports rewritten to fixed names
        assert "Authorization" not in text and "authorization" not in text, path
        for secret in target.secrets:
            assert secret not in text, path
        assert REGISTRY in text, path
