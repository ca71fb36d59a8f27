"""Image manifests and indexes, shared by the OCI and Docker schema 2 handlers.

The OCI image manifest and the Docker schema 2 manifest have the same shape (``config`` +
``layers``), as do the OCI index and the Docker manifest list (``manifests``); OCI adds
``subject``, ``artifactType`` and ``annotations`` (image-spec 1.1, ``manifest.md`` and
``image-index.md``). One class per shape, with the media type telling them apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..digest import Digest
from ..errors import ManifestError
from ._fields import load_object, opt_int, opt_str, opt_str_map, req_list, req_object
from .base import Manifest
from .descriptor import Descriptor, descriptors
from .platform import Platform

__all__ = ["ImageIndex", "ImageManifest"]


def _common(raw: bytes, media_type: str, what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Decode, check ``schemaVersion`` and ``mediaType``, read the OCI 1.1 common fields."""
    doc = load_object(raw, what)
    version = opt_int(doc, "schemaVersion")
    if version is not None and version != 2:
        raise ManifestError(f"{what}: schemaVersion must be 2, got {version}")
    body_type = opt_str(doc, "mediaType")
    if body_type and body_type.lower() != media_type.lower():
        raise ManifestError(
            f"{what}: body says mediaType {body_type!r} but it was served as {media_type!r}"
        )
    subject = doc.get("subject")
    common: dict[str, Any] = {
        "raw": bytes(raw),
        "media_type": media_type,
        "digest": Digest.of(raw),
        "payload": bytes(raw),
        "json": doc,
        "subject": None if subject is None else Descriptor.from_dict(subject, where="subject"),
        "annotations": opt_str_map(doc, "annotations"),
        "artifact_type": opt_str(doc, "artifactType") or None,
    }
    return doc, common


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageManifest(Manifest):
    """An OCI image manifest or Docker schema 2 manifest: one config and ordered layers.

    OCI artifacts (Helm charts, signatures, SBOMs) are image manifests too, usually with
    ``artifact_type`` set and the empty descriptor as config.
    """

    config: Descriptor = field(compare=False)
    layers: tuple[Descriptor, ...] = field(compare=False)

    @classmethod
    def from_bytes(cls, raw: bytes, media_type: str) -> ImageManifest:
        """Parse; ``config`` and ``layers`` are required (``layers`` may be empty)."""
        doc, common = _common(raw, media_type, "image manifest")
        return cls(
            config=Descriptor.from_dict(req_object(doc, "config"), where="config"),
            layers=descriptors(req_list(doc, "layers"), where="layers"),
            **common,
        )

    @property
    def effective_artifact_type(self) -> str | None:
        return self.artifact_type or self.config.media_type or None

    def blobs(self) -> tuple[Descriptor, ...]:
        """The config then the layers: every blob the image needs, in push order."""
        return (self.config, *self.layers)

    def references(self) -> tuple[Descriptor, ...]:
        return self.blobs()


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageIndex(Manifest):
    """An OCI image index or Docker manifest list: child manifests, usually per platform.

    Children may themselves be indexes (an "index of index", which the OCI conformance
    suite pushes) or platform-less entries such as BuildKit attestation manifests.
    """

    manifests: tuple[Descriptor, ...] = field(compare=False)

    @classmethod
    def from_bytes(cls, raw: bytes, media_type: str) -> ImageIndex:
        """Parse; ``manifests`` is required and may be empty."""
        doc, common = _common(raw, media_type, "image index")
        return cls(manifests=descriptors(req_list(doc, "manifests"), where="manifests"), **common)

    def references(self) -> tuple[Descriptor, ...]:
        return self.manifests

    def platforms(self) -> tuple[Platform, ...]:
        """The platforms of the children that declare one, in index order."""
        return tuple(d.platform for d in self.manifests if d.platform is not None)

    def select(self, platform: Platform | str) -> Descriptor:
        """The first child whose platform matches ``platform`` (see :meth:`Platform.matches`).

        Index order decides between several matches, as it does for containerd and docker.
        Children without a platform are never chosen.

        :raises ManifestError: when no child matches; the message lists what is available.
        """
        want = Platform.parse(platform) if isinstance(platform, str) else platform
        for child in self.manifests:
            if child.platform is not None and child.platform.matches(want):
                return child
        available = ", ".join(str(p) for p in self.platforms()) or "none"
        raise ManifestError(
            f"no manifest for platform {want} in index {self.digest}; available: {available}"
        )

    def find(self, digest: Digest | str) -> Descriptor | None:
        """The child with this digest, if listed."""
        text = str(digest)
        return next((d for d in self.manifests if d.digest == text), None)
