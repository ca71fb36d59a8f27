"""What registries really serve: a signed schema 1 manifest fetched by digest, and the
withdrawn OCI artifact manifest, read through the client against a fake registry
(distribution 2.8 stores neither the way these tests need)."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer

from ocireg import Client, DigestMismatchError
from ocireg import mediatypes as mt
from ocireg.digest import Digest
from ocireg.manifests import ArtifactManifest, Schema1Manifest
from tests.unit.test_manifests import V2S1_DIGEST, V2S1_SIGNED

SUBJECT = "sha256:" + "5" * 64
BLOB = "sha256:" + "6" * 64


def _serve(httpserver: HTTPServer, ref: str, raw: bytes, media_type: str, digest: str) -> str:
    httpserver.expect_request("/v2/").respond_with_data("{}")
    httpserver.expect_request(f"/v2/app/manifests/{ref}").respond_with_data(
        raw, headers={"Content-Type": media_type, "Docker-Content-Digest": digest}
    )
    return f"localhost:{httpserver.port}"


@pytest.mark.parametrize("served_as", [mt.DOCKER_SCHEMA1_SIGNED, "application/json"])
def test_signed_schema1_fetched_by_digest_verifies_against_its_payload(
    httpserver: HTTPServer, served_as: str
) -> None:
    """Its digest covers the body without the JWS signatures (what the registry reports and
    what ``image@sha256:...`` names), not the raw bytes."""
    assert str(Digest.of(V2S1_SIGNED)) != V2S1_DIGEST
    host = _serve(httpserver, V2S1_DIGEST, V2S1_SIGNED, served_as, V2S1_DIGEST)
    with Client(load_entrypoints=False, plain_http=[host]) as client:
        manifest = client.get_manifest(f"{host}/app@{V2S1_DIGEST}")
    assert isinstance(manifest, Schema1Manifest) and manifest.signed
    assert str(manifest.digest) == V2S1_DIGEST


def test_a_tampered_schema1_payload_is_still_a_digest_error(httpserver: HTTPServer) -> None:
    tampered = V2S1_SIGNED.replace(b'"tag": "latest"', b'"tag": "lat3st"', 1)
    assert tampered != V2S1_SIGNED
    host = _serve(httpserver, V2S1_DIGEST, tampered, mt.DOCKER_SCHEMA1_SIGNED, V2S1_DIGEST)
    with (
        Client(load_entrypoints=False, plain_http=[host]) as client,
        pytest.raises(DigestMismatchError),
    ):
        client.get_manifest(f"{host}/app@{V2S1_DIGEST}")


def test_raw_bytes_still_decide_for_every_other_type(httpserver: HTTPServer) -> None:
    """A schema 2 body served with a schema 1 payload's digest does not pass."""
    raw = json.dumps({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []}).encode()
    host = _serve(httpserver, V2S1_DIGEST, raw, mt.OCI_INDEX, V2S1_DIGEST)
    with (
        Client(load_entrypoints=False, plain_http=[host]) as client,
        pytest.raises(DigestMismatchError),
    ):
        client.get_manifest(f"{host}/app@{V2S1_DIGEST}")


def test_the_withdrawn_artifact_manifest_is_read(httpserver: HTTPServer) -> None:
    doc = {
        "mediaType": mt.OCI_ARTIFACT_MANIFEST,
        "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
        "blobs": [{"mediaType": "application/octet-stream", "digest": BLOB, "size": 3}],
        "subject": {"mediaType": mt.OCI_MANIFEST, "digest": SUBJECT, "size": 7},
        "annotations": {"org.example": "yes"},
    }
    raw = json.dumps(doc).encode()
    digest = str(Digest.of(raw))
    host = _serve(httpserver, "sig", raw, mt.OCI_ARTIFACT_MANIFEST, digest)
    with Client(load_entrypoints=False, plain_http=[host]) as client:
        manifest = client.get_manifest(f"{host}/app:sig")
        accept = client.remote.handlers.accept_header()
    assert isinstance(manifest, ArtifactManifest)
    assert [b.digest for b in manifest.references()] == [BLOB]
    assert manifest.subject is not None and manifest.subject.digest == SUBJECT
    assert manifest.referrer_descriptor().artifact_type == doc["artifactType"]
    assert mt.OCI_ARTIFACT_MANIFEST in accept
    sent = [r.headers.get("Accept", "") for r, _ in httpserver.log if "manifests" in r.path]
    assert all(mt.OCI_ARTIFACT_MANIFEST in a for a in sent)


def test_an_artifact_manifest_of_the_wrong_shape_is_refused() -> None:
    from ocireg import ManifestError
    from ocireg.manifests import ArtifactManifestHandler

    handler = ArtifactManifestHandler()
    with pytest.raises(ManifestError, match="mediaType"):
        handler.parse(b'{"blobs": []}', mt.OCI_ARTIFACT_MANIFEST)
    with pytest.raises(ManifestError, match="blobs"):
        handler.parse(
            json.dumps({"mediaType": mt.OCI_ARTIFACT_MANIFEST, "blobs": {}}).encode(),
            mt.OCI_ARTIFACT_MANIFEST,
        )
