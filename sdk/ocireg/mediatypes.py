"""Media types of manifests, configs and layers, and the predicates the client needs.

The strings are those of the OCI image spec (``media-types.md``, v1.1) and of the Docker
"Image Manifest V2, Schema 2" and "Schema 1" documents in distribution/distribution. Media
types are case-insensitive (RFC 6838 section 4.2), so every predicate compares lower-cased
types with their parameters removed (:func:`strip_params`).

The client never switches on these strings itself: it asks the manifest handler registry
(:mod:`ocireg.manifests.handlers`). The predicates are for callers that hold a bare
descriptor, such as an index entry they have not fetched yet.
"""

from __future__ import annotations

__all__ = [
    "BLOB_MEDIA_TYPE",
    "DOCKER_CONFIG",
    "DOCKER_FOREIGN_LAYER",
    "DOCKER_LAYER",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "DOCKER_SCHEMA1",
    "DOCKER_SCHEMA1_LAYER",
    "DOCKER_SCHEMA1_SIGNED",
    "GENERIC_CONTENT_TYPES",
    "IMAGE_MANIFEST_TYPES",
    "INDEX_TYPES",
    "OCI_ARTIFACT_MANIFEST",
    "OCI_CONFIG",
    "OCI_EMPTY",
    "OCI_INDEX",
    "OCI_LAYER_NONDISTRIBUTABLE_TAR",
    "OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP",
    "OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD",
    "OCI_LAYER_TAR",
    "OCI_LAYER_TAR_GZIP",
    "OCI_LAYER_TAR_ZSTD",
    "OCI_MANIFEST",
    "SCHEMA1_TYPES",
    "is_generic",
    "is_image_manifest",
    "is_index",
    "is_schema1",
    "strip_params",
]

# --- OCI image spec v1.1, media-types.md ---------------------------------------------------
#: Registries keep no media type for blobs (it lives in the manifest's descriptor).
BLOB_MEDIA_TYPE = "application/octet-stream"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
#: The withdrawn OCI artifact manifest (image-spec 1.1 release candidates): read only.
OCI_ARTIFACT_MANIFEST = "application/vnd.oci.artifact.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
#: Non-distributable layers are deprecated in image-spec 1.1 but still found in the wild
#: (Windows base images); clients must not push them unless told to.
OCI_LAYER_NONDISTRIBUTABLE_TAR = "application/vnd.oci.image.layer.nondistributable.v1.tar"
OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
#: The empty descriptor's type (image-spec 1.1 "Guidance for an Empty Descriptor"): the
#: two-byte blob ``{}``, used as the config of artifacts that have none.
OCI_EMPTY = "application/vnd.oci.empty.v1+json"

# --- Docker Image Manifest V2, Schema 2 ----------------------------------------------------
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
#: Layers with ``urls`` that registries do not store (Windows base layers).
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

# --- Docker Image Manifest V2, Schema 1 (deprecated since 2015; read only) ----------------
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
DOCKER_SCHEMA1_LAYER = "application/vnd.docker.container.image.rootfs.diff+x-gtar"

INDEX_TYPES: frozenset[str] = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
IMAGE_MANIFEST_TYPES: frozenset[str] = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
SCHEMA1_TYPES: frozenset[str] = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED})

#: Content types that say nothing about the manifest kind. Old registries serve schema 1 as
#: ``application/json`` (distribution registers it for that type), and static file servers
#: or proxies send ``application/octet-stream`` or ``text/plain``; then the body decides.
GENERIC_CONTENT_TYPES: frozenset[str] = frozenset(
    {"", "application/json", "application/octet-stream", "text/plain"}
)


def strip_params(content_type: str | None) -> str:
    """The bare, lower-cased media type of a ``Content-Type`` value.

    ``"application/vnd.oci.image.index.v1+json; charset=utf-8"`` gives
    ``"application/vnd.oci.image.index.v1+json"``; ``None`` gives ``""``. The distribution
    spec says clients ignore parameters on ``Content-Type`` when pulling manifests.
    """
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def is_generic(media_type: str | None) -> bool:
    """True when the type is missing or one that does not name a manifest kind."""
    return strip_params(media_type) in GENERIC_CONTENT_TYPES


def is_index(media_type: str | None) -> bool:
    """True for an OCI image index or a Docker manifest list (a list of manifests)."""
    return strip_params(media_type) in INDEX_TYPES


def is_image_manifest(media_type: str | None) -> bool:
    """True for an OCI image manifest or a Docker schema 2 manifest (config + layers)."""
    return strip_params(media_type) in IMAGE_MANIFEST_TYPES


def is_schema1(media_type: str | None) -> bool:
    """True for a Docker schema 1 manifest, signed (``+prettyjws``) or not."""
    return strip_params(media_type) in SCHEMA1_TYPES
