"""The withdrawn OCI artifact manifest, read only.

``application/vnd.oci.artifact.manifest.v1+json`` (image-spec 1.1.0-rc1/rc2, withdrawn
before 1.1.0) has ``blobs`` instead of ``config``/``layers``, plus ``artifactType``,
``subject`` and ``annotations``. Registries that ORAS 1.0-era tools wrote to still hold such
manifests (signatures, SBOMs), so ocireg reads them: their references (``blobs``), subject
and artifact type. It never builds one; new artifacts are image manifests with
``artifactType`` (image-spec 1.1 "Guidelines for Artifact Usage").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ..digest import Digest
from ..errors import ManifestError
from ..mediatypes import OCI_ARTIFACT_MANIFEST
from ._fields import load_object, opt_str, opt_str_map
from .base import Manifest
from .descriptor import Descriptor, descriptors

__all__ = ["ArtifactManifest", "ArtifactManifestHandler"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactManifest(Manifest):
    """An OCI artifact manifest: ``blobs`` (possibly empty), usually with ``subject``."""

    blobs: tuple[Descriptor, ...] = field(compare=False)

    @classmethod
    def from_bytes(cls, raw: bytes, media_type: str) -> ArtifactManifest:
        what = "artifact manifest"
        doc = load_object(raw, what)
        body_type = opt_str(doc, "mediaType")
        if body_type != OCI_ARTIFACT_MANIFEST:
            raise ManifestError(f"{what}: mediaType must be {OCI_ARTIFACT_MANIFEST}")
        subject = doc.get("subject")
        blobs = doc.get("blobs")
        if blobs is not None and not isinstance(blobs, list):
            raise ManifestError(f"{what}: blobs: expected a list")
        return cls(
            raw=bytes(raw),
            media_type=media_type,
            digest=Digest.of(raw),
            payload=bytes(raw),
            json=doc,
            subject=None if subject is None else Descriptor.from_dict(subject, where="subject"),
            annotations=opt_str_map(doc, "annotations"),
            artifact_type=opt_str(doc, "artifactType") or None,
            blobs=descriptors(blobs, where="blobs") if blobs is not None else (),
        )

    def references(self) -> tuple[Descriptor, ...]:
        return self.blobs


class ArtifactManifestHandler:
    """``application/vnd.oci.artifact.manifest.v1+json`` -> :class:`ArtifactManifest`."""

    media_types: ClassVar[tuple[str, ...]] = (OCI_ARTIFACT_MANIFEST,)

    def parse(self, raw: bytes, media_type: str) -> ArtifactManifest:
        return ArtifactManifest.from_bytes(raw, media_type)
