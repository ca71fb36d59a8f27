"""``ocireg.summary``: the one image summary of the CLI and the Ansible modules, against a
real registry (open and token modes: the summary must not depend on how auth works)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from ocireg import Client, Descriptor, ManifestError, NotFoundError, Platform, Reference
from ocireg.summary import ImageSummary, is_attestation, summarize, summarize_tags
from tests.fixtures.images import OCI_INDEX, OCI_MANIFEST, Pushed, Pusher, sha256
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live

ATTESTATION = {"vnd.docker.reference.type": "attestation-manifest"}


def _repo() -> str:
    return f"summary/{uuid.uuid4().hex[:10]}"


def _index(
    pusher: Pusher,
    repository: str,
    tag: str,
    children: list[tuple[Pushed, dict[str, Any] | None, dict[str, str] | None]],
) -> Pushed:
    """An OCI index of already pushed manifests, each with a platform and annotations."""
    entries = []
    for child, platform, notes in children:
        entry: dict[str, Any] = {
            "mediaType": child.media_type,
            "digest": child.digest,
            "size": child.size,
        }
        if platform is not None:
            entry["platform"] = platform
        if notes:
            entry["annotations"] = notes
        entries.append(entry)
    raw = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    digest = pusher.manifest(repository, tag, raw, OCI_INDEX)
    return Pushed(repository, digest, OCI_INDEX, raw, children=[c for c, _, _ in children])


def _buildkit_index(pusher: Pusher, repository: str, tag: str) -> tuple[Pushed, list[Pushed]]:
    """An index as BuildKit pushes it: arm64 first (so that picking linux/amd64 is not just
    picking the first), amd64, and one attestation manifest per image."""
    arm = pusher.image(
        repository, architecture="arm64", variant="v8", created="2024-02-02T00:00:00Z"
    )
    amd = pusher.image(repository, architecture="amd64", created="2024-03-03T00:00:00Z")
    att1 = pusher.image(repository, os_name="unknown", architecture="unknown", created="")
    att2 = pusher.image(repository, os_name="unknown", architecture="unknown", created="")
    unknown = {"os": "unknown", "architecture": "unknown"}
    index = _index(
        pusher,
        repository,
        tag,
        [
            (arm, {"os": "linux", "architecture": "arm64", "variant": "v8"}, None),
            (amd, {"os": "linux", "architecture": "amd64"}, None),
            (att1, unknown, {**ATTESTATION, "vnd.docker.reference.digest": arm.digest}),
            (att2, unknown, {**ATTESTATION, "vnd.docker.reference.digest": amd.digest}),
        ],
    )
    return index, [arm, amd, att1, att2]


def test_a_single_image(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    name = _repo()
    image = pusher.image(name, "1.0", labels={"team": "platform"}, created="2023-05-06T07:08:09Z")
    ref = f"{registry.host}/{name}:1.0"

    summary = summarize(client, ref)

    assert summary.reference == ref
    assert summary.digest == image.digest
    assert summary.media_type == OCI_MANIFEST
    assert summary.size == image.size
    assert summary.created == "2023-05-06T07:08:09Z"
    assert summary.platforms == () and summary.attestations == ()
    assert summary.platform_names() == ["linux/amd64"]
    assert summary.index_digest is None and not summary.is_index
    assert summary.config is not None
    config = summary.config.to_dict()
    assert config["labels"] == {"team": "platform"}
    assert config["os"] == "linux" and config["architecture"] == "amd64"
    assert config["env"] == ["PATH=/usr/bin"] and config["cmd"] == ["/bin/sh"]
    assert config["entrypoint"] is None
    assert [layer.digest for layer in summary.layers] == list(image.blobs)[1:]
    data = summary.to_dict()
    assert list(data) == [
        "reference", "digest", "media_type", "size", "artifact_type", "index_digest",
        "created", "platforms", "attestations", "config", "layers",
    ]  # fmt: skip
    assert json.loads(json.dumps(data)) == data  # plain values only
    # The same image asked for by its platform; another platform is an error.
    assert summarize(client, ref, platform="linux/amd64").digest == image.digest
    with pytest.raises(
        ManifestError, match="single-platform image for linux/amd64, not linux/arm64"
    ):
        summarize(client, ref, platform="linux/arm64")


def test_attestations_are_not_platforms(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    name = _repo()
    index, (arm, amd, att1, att2) = _buildkit_index(pusher, name, "multi")
    ref = f"{registry.host}/{name}:multi"

    summary = summarize(client, ref)

    assert summary.is_index and summary.digest == index.digest
    assert [e.digest for e in summary.platforms] == [arm.digest, amd.digest]
    assert [e.digest for e in summary.attestations] == [att1.digest, att2.digest]
    assert summary.platform_names() == ["linux/arm64/v8", "linux/amd64"]
    assert summary.created == "2024-03-03T00:00:00Z"  # the linux/amd64 image's, not the first
    assert summary.config is None and summary.layers == ()
    data = summary.to_dict()
    assert data["platforms"][0] == {
        "os": "linux",
        "architecture": "arm64",
        "variant": "v8",
        "platform": "linux/arm64/v8",
        "digest": arm.digest,
        "media_type": OCI_MANIFEST,
        "size": arm.size,
    }
    assert data["attestations"][1]["platform"] == "unknown/unknown"

    chosen = summarize(client, ref, platform="linux/arm64")
    assert chosen.digest == arm.digest and chosen.index_digest == index.digest
    assert chosen.config is not None and chosen.config.architecture == "arm64"
    assert chosen.created == "2024-02-02T00:00:00Z"
    with pytest.raises(ManifestError, match="available: linux/arm64/v8, linux/amd64"):
        summarize(client, ref, platform="linux/s390x")


def test_an_index_without_amd64_takes_its_first_image_not_an_attestation(
    registry: Registry, client: Client
) -> None:
    pusher = Pusher(registry)
    name = _repo()
    att = pusher.image(
        name, os_name="unknown", architecture="unknown", created="2020-01-01T00:00:00Z"
    )
    arm = pusher.image(name, architecture="arm64", created="2024-02-02T00:00:00Z")
    unknown = {"os": "unknown", "architecture": "unknown"}
    _index(
        pusher,
        name,
        "arm",
        [(att, unknown, None), (arm, {"os": "linux", "architecture": "arm64"}, None)],
    )

    summary = summarize(client, f"{registry.host}/{name}:arm")

    assert summary.created == "2024-02-02T00:00:00Z"
    assert summary.platform_names() == ["linux/arm64"]
    assert [e.digest for e in summary.attestations] == [att.digest]


def test_an_artifact_whose_config_is_not_json(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    name = _repo()
    config = b"not json at all"
    layer = b"payload"
    for blob in (config, layer):
        pusher.blob(name, blob)
    config_type = "application/vnd.example.config"
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.thing",
        "config": {"mediaType": config_type, "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": "text/plain", "digest": sha256(layer), "size": len(layer)}],
    }
    raw = json.dumps(manifest).encode()
    digest = pusher.manifest(name, "thing", raw, OCI_MANIFEST)

    summary = summarize(client, Reference.parse(f"{registry.host}/{name}:thing"))

    assert summary.digest == digest
    assert summary.artifact_type == "application/vnd.example.thing"
    assert summary.created is None and summary.platform_names() == []
    assert summary.config is not None
    assert summary.config.to_dict() == {
        "digest": sha256(config),
        "media_type": "application/vnd.example.config",
        "size": len(config),
        "created": None,
        "os": None,
        "architecture": None,
        "variant": None,
        "labels": {},
        "env": [],
        "entrypoint": None,
        "cmd": None,
    }
    assert [d.digest for d in summary.layers] == [sha256(layer)]


def test_summarize_tags_once_per_digest(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    name = _repo()
    image = pusher.image(name, "a", created="2024-01-01T00:00:00Z")
    pusher.tag(image, "b")
    index = pusher.index(name, "multi")
    repo = f"{registry.host}/{name}"

    found = summarize_tags(client, repo, ["multi", "a", "gone", "b"])

    assert list(found) == ["multi", "a", "b"]  # the order asked, a missing tag left out
    assert found["a"] is found["b"]  # one summary per digest
    assert found["a"].digest == image.digest and found["multi"].digest == index.digest
    assert found["a"].reference == f"{repo}@{image.digest}"
    assert isinstance(found["multi"], ImageSummary)
    assert found["multi"].platform_names() == ["linux/amd64", "linux/arm64/v8"]
    assert sorted(summarize_tags(client, repo)) == ["a", "b", "multi"]  # all tags by default


def test_a_missing_manifest_is_not_found(registry: Registry, client: Client) -> None:
    with pytest.raises(NotFoundError):
        summarize(client, f"{registry.host}/{_repo()}:nope")


def test_is_attestation() -> None:
    base: dict[str, Any] = {"media_type": OCI_MANIFEST, "digest": "sha256:" + "0" * 64, "size": 1}
    image = Descriptor(**base, platform=Platform("linux", "amd64"))
    unknown = Descriptor(**base, platform=Platform("unknown", "unknown"))
    annotated = Descriptor(**base, annotations=ATTESTATION)
    bare = Descriptor(**base)
    assert [is_attestation(d) for d in (image, unknown, annotated, bare)] == [
        False,
        True,
        True,
        False,
    ]
