"""Manifests: typed views of the bytes a registry serves, and the handlers that make them.

* :class:`Platform`, :class:`Descriptor`: value types of image-spec.
* :class:`Manifest` and its kinds :class:`ImageManifest`, :class:`ImageIndex`,
  :class:`Schema1Manifest`.
* :class:`ManifestHandler` (the plugin-facing interface), the built-in handlers and
  :class:`HandlerRegistry`, which builds the ``Accept`` header and parses responses.
* :func:`build_image_manifest`, :func:`build_image_index`: bytes for new manifests.
"""

from __future__ import annotations

from .artifact import ArtifactManifest, ArtifactManifestHandler
from .base import Manifest, ManifestHandler
from .descriptor import EMPTY_BLOB, EMPTY_DESCRIPTOR, Descriptor
from .docker import DockerManifestHandler, DockerManifestListHandler
from .handlers import HandlerRegistry, builtin_handlers, detect_media_type
from .image import ImageIndex, ImageManifest
from .oci import (
    OciIndexHandler,
    OciManifestHandler,
    build_image_index,
    build_image_manifest,
    canonical_json,
)
from .platform import InvalidPlatformError, Platform
from .schema1 import Schema1Handler, Schema1Manifest, schema1_payload

__all__ = [
    "EMPTY_BLOB",
    "EMPTY_DESCRIPTOR",
    "ArtifactManifest",
    "ArtifactManifestHandler",
    "Descriptor",
    "DockerManifestHandler",
    "DockerManifestListHandler",
    "HandlerRegistry",
    "ImageIndex",
    "ImageManifest",
    "InvalidPlatformError",
    "Manifest",
    "ManifestHandler",
    "OciIndexHandler",
    "OciManifestHandler",
    "Platform",
    "Schema1Handler",
    "Schema1Manifest",
    "build_image_index",
    "build_image_manifest",
    "builtin_handlers",
    "canonical_json",
    "detect_media_type",
    "schema1_payload",
]
