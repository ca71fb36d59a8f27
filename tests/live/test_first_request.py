"""The first request to a registry goes straight out: no ``GET /v2/`` ping when the scheme is
settled, the challenge learnt from the request's own 401, concurrent first requests waiting
for that answer instead of each collecting a 401, and a ping still before the first body."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ocireg import Client
from tests.fixtures.clients import count_requests
from tests.fixtures.images import Pusher
from tests.fixtures.registry import Registry


def _pushed(registry: Registry, repo: str) -> str:
    Pusher(registry).image(repo, "v1", layers=1, layer_size=64)
    return f"{registry.host}/{repo}:v1"


def test_one_shot_read_of_an_open_registry_is_one_request(registry_open: Registry) -> None:
    ref = _pushed(registry_open, "first/open")
    with Client(load_entrypoints=False) as client:
        calls = count_requests(client)
        assert client.head_manifest(ref).digest.startswith("sha256:")
        assert client.tags(ref.rsplit(":", 1)[0]) == ["v1"]
    base = f"{registry_open.url}/v2/first/open"
    assert calls == [("HEAD", f"{base}/manifests/v1"), ("GET", f"{base}/tags/list")]


def test_ping_is_one_request(registry_open: Registry) -> None:
    with Client(load_entrypoints=False) as client:
        calls = count_requests(client)
        info = client.ping(registry_open.host)
    assert (info.status, info.auth_scheme) == (200, None)
    assert calls == [("GET", f"{registry_open.url}/v2/")]


def test_the_first_401_teaches_the_challenge_to_every_thread(registry_token: Registry) -> None:
    ref = _pushed(registry_token, "first/token")
    with Client(credentials=registry_token.credentials("alice"), load_entrypoints=False) as c:
        calls = count_requests(c)
        with ThreadPoolExecutor(8) as pool:
            digests = set(pool.map(lambda _: c.head_manifest(ref).digest, range(8)))
    assert len(digests) == 1
    kinds = Counter(
        "token" if not url.startswith(registry_token.url) else f"{method} {url.split('/')[3]}"
        for method, url in calls
    )
    # One anonymous HEAD meets the 401; one token serves all; then 8 HEADs with it. No ping.
    assert kinds == {"HEAD v2": 9, "token": 1}


def test_a_first_request_with_a_body_pings_first(registry_basic: Registry) -> None:
    manifest = Pusher(registry_basic).image("first/basic", "v1", layers=1, layer_size=64)
    with Client(credentials=registry_basic.credentials("alice"), load_entrypoints=False) as c:
        calls = count_requests(c)
        resp = c.transport.request(
            "PUT",
            registry_basic.host,
            "/v2/first/basic/manifests/v2",
            headers={"Content-Type": manifest.media_type},
            data=manifest.raw,
            repository="first/basic",
        )
        assert resp.status_code == 201, resp.status_code
    url = f"{registry_basic.url}/v2"
    # The ping learns Basic; the manifest then travels once, with the credentials.
    assert calls == [("GET", f"{url}/"), ("PUT", f"{url}/first/basic/manifests/v2")]


def test_a_push_opens_its_upload_without_a_ping(registry_open: Registry, tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(b"x" * 4096)
    with Client(load_entrypoints=False) as client:
        calls = count_requests(client)
        client.push_blob(f"{registry_open.host}/first/push", blob)
    methods = [method for method, _ in calls]
    # The POST has no body, so it goes first and learns that no credentials are asked for.
    assert methods[0] == "POST" and ("GET", f"{registry_open.url}/v2/") not in calls
