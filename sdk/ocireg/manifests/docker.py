"""Handlers for Docker Image Manifest V2, Schema 2 and the Docker manifest list.

Both have the same shape as their OCI counterparts (distribution/distribution
``docs/spec/manifest-v2-2.md``), so they produce :class:`ImageManifest` and
:class:`ImageIndex`; ``media_type`` tells them apart.
"""

from __future__ import annotations

from typing import ClassVar

from ..mediatypes import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST
from .image import ImageIndex, ImageManifest

__all__ = ["DockerManifestHandler", "DockerManifestListHandler"]


class DockerManifestHandler:
    """``application/vnd.docker.distribution.manifest.v2+json`` -> :class:`ImageManifest`."""

    media_types: ClassVar[tuple[str, ...]] = (DOCKER_MANIFEST,)

    def parse(self, raw: bytes, media_type: str) -> ImageManifest:
        return ImageManifest.from_bytes(raw, media_type)


class DockerManifestListHandler:
    """``application/vnd.docker.distribution.manifest.list.v2+json`` -> :class:`ImageIndex`."""

    media_types: ClassVar[tuple[str, ...]] = (DOCKER_MANIFEST_LIST,)

    def parse(self, raw: bytes, media_type: str) -> ImageIndex:
        return ImageIndex.from_bytes(raw, media_type)
