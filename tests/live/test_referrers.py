"""Referrers on distribution 2.8, which has no referrers API: the fallback tag scheme.

Also a fake registry that has the API, to check pagination and client-side filtering.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from ocireg import Client, Descriptor, ManifestError
from ocireg.digest import Digest
from ocireg.manifests import EMPTY_BLOB, EMPTY_DESCRIPTOR, build_image_manifest
from ocireg.referrers import fallback_tag
from tests.fixtures.images import OCI_INDEX, OCI_MANIFEST, Pushed, Pusher
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live

SIGNATURE = "application/vnd.example.signature.v1"
SBOM = "application/spdx+json"
_COUNTER = itertools.count()


@pytest.fixture(params=["registry_open", "registry_token"])
def registry(request: pytest.FixtureRequest) -> Registry:
    value: Registry = request.getfixturevalue(request.param)
    return value


@pytest.fixture
def client(registry: Registry) -> Iterator[Client]:
    creds = registry.credentials("alice") if registry.users else None
    with Client(credentials=creds, load_entrypoints=False) as c:
        yield c


def _artifact(
    pusher: Pusher, subject: Pushed, artifact_type: str, note: str
) -> tuple[bytes, Digest]:
    """An artifact manifest (empty config, one layer) whose subject is ``subject``."""
    pusher.blob(subject.repository, EMPTY_BLOB)
    layer = note.encode()
    pusher.blob(subject.repository, layer)
    raw = build_image_manifest(
        EMPTY_DESCRIPTOR,
        [Descriptor.of(layer, "text/plain")],
        subject=Descriptor(media_type=subject.media_type, digest=subject.digest, size=subject.size),
        artifact_type=artifact_type,
        annotations={"org.example.note": note},
    )
    return raw, Digest.of(raw)


def test_two_artifacts_are_listed_and_filtered(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    repo = f"ref/app-{next(_COUNTER)}"
    image = pusher.image(repo, "v1")
    subject = f"{registry.host}/{repo}:v1"
    assert client.referrers(subject) == []

    sig_raw, sig_digest = _artifact(pusher, image, SIGNATURE, "signed")
    sbom_raw, sbom_digest = _artifact(pusher, image, SBOM, "bill")
    sig = client.attach_referrer(subject, sig_raw, OCI_MANIFEST)
    sbom = client.attach_referrer(subject, sbom_raw, OCI_MANIFEST)
    # Attaching again must not list it twice.
    assert client.attach_referrer(subject, sig_raw, OCI_MANIFEST) == sig

    assert sig.digest == str(sig_digest) and sig.artifact_type == SIGNATURE
    assert dict(sbom.annotations) == {"org.example.note": "bill"}
    tag = fallback_tag(image.digest)
    assert pusher.tags(repo) == sorted(["v1", tag])
    assert pusher.exists(repo, str(sbom_digest))

    found = client.referrers(subject)
    assert [d.digest for d in found] == [str(sig_digest), str(sbom_digest)]
    assert [d.artifact_type for d in found] == [SIGNATURE, SBOM]
    assert client.referrers(subject, artifact_type=SBOM) == [sbom]
    assert client.referrers(f"{registry.host}/{repo}@{image.digest}", SIGNATURE) == [sig]
    assert client.referrers(subject, artifact_type="application/none") == []

    # Deleting a referrer by digest: its subject's fallback tag lists it only as
    # bookkeeping, so the delete goes ahead and the entry is removed.
    plan = client.delete_tag(f"{registry.host}/{repo}@{sig_digest}")
    assert (plan.action, plan.reached_by, plan.executed) == ("delete-digest", (), True)
    assert client.referrers(subject) == [sbom]


def test_attach_checks_the_subject(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    repo = f"ref/check-{next(_COUNTER)}"
    image = pusher.image(repo, "v1")
    other = pusher.image(repo, "v2")
    raw, _ = _artifact(pusher, image, SIGNATURE, "x")
    with pytest.raises(ManifestError, match="subject"):
        client.attach_referrer(f"{registry.host}/{repo}:v2", raw, OCI_MANIFEST)
    plain = other.raw
    with pytest.raises(ManifestError, match="no subject"):
        client.attach_referrer(f"{registry.host}/{repo}:v2", plain, OCI_MANIFEST)


def test_fallback_tag_holding_no_index_means_no_referrers(
    registry: Registry, client: Client
) -> None:
    pusher = Pusher(registry)
    repo = f"ref/odd-{next(_COUNTER)}"
    image = pusher.image(repo, "v1")
    squatter = pusher.image(repo, fallback_tag(image.digest))
    assert client.referrers(f"{registry.host}/{repo}:v1") == []
    raw, _ = _artifact(pusher, image, SIGNATURE, "x")
    with pytest.raises(ManifestError, match="not a referrers index"):
        client.attach_referrer(f"{registry.host}/{repo}:v1", raw, OCI_MANIFEST)
    assert pusher.exists(repo, squatter.digest)


def test_fallback_tag_shape() -> None:
    hex64 = "a" * 64
    assert fallback_tag(f"sha256:{hex64}") == f"sha256-{hex64}"
    assert fallback_tag("sha512:" + "b" * 128) == "sha512-" + "b" * 64
    assert fallback_tag("x" * 40 + "+y:" + hex64) == "x" * 32 + "-" + hex64
    assert fallback_tag("my+alg:" + hex64) == "my-alg-" + hex64


# -- a registry with the referrers API (fake) ----------------------------------------------


def _entry(n: int, artifact_type: str) -> dict[str, object]:
    return {
        "mediaType": OCI_MANIFEST,
        "digest": str(Digest.of(str(n).encode())),
        "size": n,
        "artifactType": artifact_type,
    }


def test_referrers_api_pages_and_filters_when_the_registry_did_not(
    httpserver: HTTPServer,
) -> None:
    subject = str(Digest.of(b"subject"))
    path = f"/v2/app/referrers/{subject}"
    page1 = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [_entry(1, SIGNATURE)]}
    page2 = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [_entry(2, SBOM)]}
    httpserver.expect_request("/v2/").respond_with_data("{}")
    httpserver.expect_request(path, query_string={"n": "2"}).respond_with_json(page2)
    httpserver.expect_request(path).respond_with_json(
        page1, headers={"Link": f'<{path}?n=2>; rel="next"', "Content-Type": OCI_INDEX}
    )
    ref = f"http://localhost:{httpserver.port}/app@{subject}"
    with Client(load_entrypoints=False) as client:
        found = client.referrers(ref)
        assert [d.artifact_type for d in found] == [SIGNATURE, SBOM]
        # No OCI-Filters-Applied header: the client filters.
        assert [d.artifact_type for d in client.referrers(ref, SBOM)] == [SBOM]


def test_referrers_api_filter_applied_by_the_registry_is_trusted(
    httpserver: HTTPServer,
) -> None:
    subject = str(Digest.of(b"subject"))
    body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [_entry(1, SIGNATURE)]}
    httpserver.expect_request("/v2/").respond_with_data("{}")
    httpserver.expect_request(
        f"/v2/app/referrers/{subject}", query_string={"artifactType": SBOM}
    ).respond_with_data(
        json.dumps(body), headers={"OCI-Filters-Applied": "artifactType"}, content_type=OCI_INDEX
    )
    with Client(load_entrypoints=False) as client:
        found = client.referrers(f"http://localhost:{httpserver.port}/app@{subject}", SBOM)
    assert [d.artifact_type for d in found] == [SIGNATURE]  # as the registry said
