"""Manifests: typed views of the bytes a registry serves, and the handlers that make them.

* :class:`Platform`, :class:`Descriptor`: value types of image-spec.
* :class:`Manifest` and its kinds :class:`ImageManifest`, :class:`ImageIndex`,
  :class:`Schema1Manifest`.
* :class:`ManifestHandler` (the plugin-facing interface), the built-in handlers and
  :class:`HandlerRegistry`, which builds the ``Accept`` header and parses responses.
* :func:`build_image_manifest`, :func:`build_image_index`: bytes for new manifests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: Where each name lives: imported when first asked for (PEP 562), so that a client that
#: needs only a Descriptor (``ocireg digest``) does not import every manifest type.
_WHERE = {
    "ArtifactManifest": "artifact",
    "ArtifactManifestHandler": "artifact",
    "Manifest": "base",
    "ManifestHandler": "base",
    "EMPTY_BLOB": "descriptor",
    "EMPTY_DESCRIPTOR": "descriptor",
    "Descriptor": "descriptor",
    "DockerManifestHandler": "docker",
    "DockerManifestListHandler": "docker",
    "HandlerRegistry": "handlers",
    "builtin_handlers": "handlers",
    "detect_media_type": "handlers",
    "ImageIndex": "image",
    "ImageManifest": "image",
    "OciIndexHandler": "oci",
    "OciManifestHandler": "oci",
    "build_image_index": "oci",
    "build_image_manifest": "oci",
    "canonical_json": "oci",
    "InvalidPlatformError": "platform",
    "Platform": "platform",
    "Schema1Handler": "schema1",
    "Schema1Manifest": "schema1",
    "schema1_payload": "schema1",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


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
