"""Prove the live-test harness with plain ``requests``: each registry mode behaves as
REGISTRY-FACTS section 1 says, so later failures point at the client, not the fixtures."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
import requests

from tests.fixtures.pki import libtrust_key_id
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live

REPO = "t/harness"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
TIMEOUT = 10


# -- helpers ---------------------------------------------------------------------------------


def _digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64json(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Decode (without verifying) a JWT's header and claims."""
    header, claims, _ = token.split(".")
    return _b64json(header), _b64json(claims)


def _fetch_token(registry: Registry, user: str, *scopes: str) -> str:
    server = registry.token_server
    assert server is not None
    response = requests.get(
        server.realm,
        params={"service": server.service, "scope": list(scopes), "account": user},
        auth=registry.credentials(user),
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


def _push_blob(registry: Registry, repo: str, data: bytes, headers: dict[str, str]) -> str:
    """Monolithic upload: POST opens a session, PUT to its Location with ``?digest=``."""
    digest = _digest(data)
    started = requests.post(
        f"{registry.url}/v2/{repo}/blobs/uploads/", headers=headers, timeout=TIMEOUT
    )
    assert started.status_code == 202, started.text
    location = requests.compat.urljoin(f"{registry.url}/", started.headers["Location"])
    finished = requests.put(
        location,
        params={"digest": digest},
        data=data,
        headers={**headers, "Content-Type": "application/octet-stream"},
        timeout=TIMEOUT,
    )
    assert finished.status_code == 201, finished.text
    return digest


def _push_image(registry: Registry, repo: str, tag: str, headers: dict[str, str]) -> str:
    """Push an empty-config, zero-layer OCI manifest; return its digest."""
    config = b"{}"
    config_digest = _push_blob(registry, repo, config, headers)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [],
        }
    ).encode()
    response = requests.put(
        f"{registry.url}/v2/{repo}/manifests/{tag}",
        data=manifest,
        headers={**headers, "Content-Type": OCI_MANIFEST},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    assert response.headers["Docker-Content-Digest"] == _digest(manifest)
    return _digest(manifest)


# -- open, basic, TLS ------------------------------------------------------------------------


def test_open_registry_answers_v2(registry_open: Registry) -> None:
    response = requests.get(f"{registry_open.url}/v2/", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert registry_open.host.startswith("127.0.0.1:")
    assert registry_open.users == {}


def test_basic_registry_challenges_and_checks_password(registry_basic: Registry) -> None:
    url = f"{registry_basic.url}/v2/"
    anonymous = requests.get(url, timeout=TIMEOUT)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic realm=")

    assert requests.get(url, auth=registry_basic.credentials("alice"), timeout=TIMEOUT).ok
    wrong = requests.get(url, auth=("alice", registry_basic.users["alice"] + "x"), timeout=TIMEOUT)
    assert wrong.status_code == 401


def test_tls_registry_is_verified_against_fixture_ca(registry_tls: Registry) -> None:
    assert registry_tls.url.startswith("https://")
    assert registry_tls.ca_cert is not None and registry_tls.ca_cert.is_file()
    url = f"{registry_tls.url}/v2/"
    assert requests.get(url, verify=str(registry_tls.ca_cert), timeout=TIMEOUT).status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, timeout=TIMEOUT)


def test_no_delete_registry_refuses_manifest_delete(registry_no_delete: Registry) -> None:
    digest = _push_image(registry_no_delete, "t/nodelete", "v1", {})
    response = requests.delete(
        f"{registry_no_delete.url}/v2/t/nodelete/manifests/{digest}", timeout=TIMEOUT
    )
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED"
    assert not registry_no_delete.delete_enabled


# -- token -----------------------------------------------------------------------------------


def test_token_registry_sends_bearer_challenge(registry_token: Registry) -> None:
    server = registry_token.token_server
    assert server is not None
    response = requests.get(f"{registry_token.url}/v2/", timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{server.realm}",service="{server.service}"'
    )


def test_token_has_libtrust_kid_and_granted_actions_only(registry_token: Registry) -> None:
    server = registry_token.token_server
    assert server is not None
    scope = f"repository:{REPO}:pull,push"
    server.reset_requests()

    token = _fetch_token(registry_token, "puller", scope)

    header, claims = _jwt_parts(token)
    assert header == {"typ": "JWT", "alg": "RS256", "kid": server.signing_key.kid}
    assert header["kid"] == libtrust_key_id(server.signing_key.cert.public_key())
    assert claims["aud"] == server.service and claims["sub"] == "puller"
    assert claims["access"] == [{"type": "repository", "name": REPO, "actions": ["pull"]}]
    assert [(r.method, r.username) for r in server.requests_for(scope)] == [("GET", "puller")]


def test_puller_token_reads_but_cannot_push(registry_token: Registry) -> None:
    scope = f"repository:{REPO}:pull,push"
    alice = _bearer(_fetch_token(registry_token, "alice", scope))
    _push_image(registry_token, REPO, "v1", alice)
    puller = _bearer(_fetch_token(registry_token, "puller", scope))

    tags = requests.get(
        f"{registry_token.url}/v2/{REPO}/tags/list", headers=puller, timeout=TIMEOUT
    )
    assert tags.status_code == 200
    assert "v1" in tags.json()["tags"]

    upload = requests.post(
        f"{registry_token.url}/v2/{REPO}/blobs/uploads/", headers=puller, timeout=TIMEOUT
    )
    assert upload.status_code == 401
    assert 'error="insufficient_scope"' in upload.headers["WWW-Authenticate"]


def test_token_server_oauth2_password_and_refresh_grants(registry_token: Registry) -> None:
    server = registry_token.token_server
    assert server is not None
    user, password = registry_token.credentials("pusher")
    form = {
        "grant_type": "password",
        "username": user,
        "password": password,
        "service": server.service,
        "scope": f"repository:{REPO}:pull,push,delete registry:catalog:*",
        "client_id": "ocireg-tests",
        "access_type": "offline",
    }
    body = requests.post(server.realm, data=form, timeout=TIMEOUT).json()
    assert body["expires_in"] == server.token_lifetime and body["access_token"] == body["token"]
    assert _jwt_parts(body["token"])[1]["access"] == [
        {"type": "repository", "name": REPO, "actions": ["pull", "push"]},
        {"type": "registry", "name": "catalog", "actions": []},
    ]

    refreshed = requests.post(
        server.realm,
        data={
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "service": server.service,
            "scope": f"repository:{REPO}:pull",
        },
        timeout=TIMEOUT,
    )
    assert refreshed.status_code == 200
    tags = requests.get(
        f"{registry_token.url}/v2/{REPO}/tags/list",
        headers=_bearer(refreshed.json()["token"]),
        timeout=TIMEOUT,
    )
    assert tags.status_code in (200, 404)  # 404 NAME_UNKNOWN if nothing was pushed yet

    bad = requests.post(server.realm, data={**form, "password": "nope"}, timeout=TIMEOUT)
    assert bad.status_code == 401
    assert bad.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_token_server_omits_expires_in_when_asked(registry_factory: Any) -> None:
    registry: Registry = registry_factory(mode="token")
    server = registry.token_server
    assert server is not None
    server.omit_expires_in = True
    server.token_lifetime = 5
    body = requests.get(
        server.realm,
        params={"service": server.service},
        auth=registry.credentials("alice"),
        timeout=TIMEOUT,
    ).json()
    assert "expires_in" not in body
    claims = _jwt_parts(body["token"])[1]
    assert claims["exp"] - claims["iat"] == 5
