"""Handlers for the OCI image manifest and index, and builders for new ones.

The builders write compact JSON with a fixed key order: the order of the Go structs in
opencontainers/image-spec ``specs-go/v1`` (``schemaVersion``, ``mediaType``,
``artifactType``, ``config``, ``layers``, ``subject``, ``annotations``), with map keys
(annotations) sorted, as Go's encoder writes them. We chose that over ``sort_keys=True``
because it reads naturally and comes out like what Go tools write; either way the same
input always gives the same bytes, hence the same digest, which the "unique tiny
manifest" of safe tag deletion and the copy tests rely on. Non-ASCII text is written as
UTF-8, not ``\\u`` escapes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from ..errors import ManifestError
from ..mediatypes import OCI_EMPTY, OCI_INDEX, OCI_MANIFEST
from .descriptor import Descriptor, sorted_map
from .image import ImageIndex, ImageManifest

__all__ = [
    "OciIndexHandler",
    "OciManifestHandler",
    "build_image_index",
    "build_image_manifest",
    "canonical_json",
]


class OciManifestHandler:
    """``application/vnd.oci.image.manifest.v1+json`` -> :class:`ImageManifest`."""

    media_types: ClassVar[tuple[str, ...]] = (OCI_MANIFEST,)

    def parse(self, raw: bytes, media_type: str) -> ImageManifest:
        return ImageManifest.from_bytes(raw, media_type)


class OciIndexHandler:
    """``application/vnd.oci.image.index.v1+json`` -> :class:`ImageIndex`."""

    media_types: ClassVar[tuple[str, ...]] = (OCI_INDEX,)

    def parse(self, raw: bytes, media_type: str) -> ImageIndex:
        return ImageIndex.from_bytes(raw, media_type)


def canonical_json(doc: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, keys in the order given (see the module docstring)."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _tail(
    doc: dict[str, Any],
    subject: Descriptor | None,
    annotations: Mapping[str, str] | None,
) -> bytes:
    if subject is not None:
        doc["subject"] = subject.to_dict()
    if annotations:
        doc["annotations"] = sorted_map(annotations)
    return canonical_json(doc)


def build_image_manifest(
    config: Descriptor,
    layers: Iterable[Descriptor],
    *,
    annotations: Mapping[str, str] | None = None,
    subject: Descriptor | None = None,
    artifact_type: str | None = None,
) -> bytes:
    """The bytes of a new OCI image manifest (image-spec 1.1 ``manifest.md``).

    :raises ManifestError: when the config is the empty descriptor but no ``artifact_type``
        is given, which the spec forbids ("This MUST be set when config.mediaType is set to
        the empty value").
    """
    if config.media_type == OCI_EMPTY and not artifact_type:
        raise ManifestError("an OCI manifest with the empty config needs an artifact_type")
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
    if artifact_type:
        doc["artifactType"] = artifact_type
    doc["config"] = config.to_dict()
    doc["layers"] = [layer.to_dict() for layer in layers]
    return _tail(doc, subject, annotations)


def build_image_index(
    manifests: Iterable[Descriptor],
    *,
    annotations: Mapping[str, str] | None = None,
    subject: Descriptor | None = None,
    artifact_type: str | None = None,
) -> bytes:
    """The bytes of a new OCI image index (image-spec 1.1 ``image-index.md``); also the shape
    of a referrers fallback index (distribution spec, "Referrers Tag Schema")."""
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX}
    if artifact_type:
        doc["artifactType"] = artifact_type
    doc["manifests"] = [m.to_dict() for m in manifests]
    return _tail(doc, subject, annotations)
