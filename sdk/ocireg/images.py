"""Images as a user names them: a manifest resolved to a platform, and an image's config.

An index (OCI image index, Docker manifest list) is resolved the way ``docker pull`` does:
to the child whose platform matches (containerd's normalisation, see
:class:`~ocireg.manifests.Platform`), and without a wanted platform to linux/amd64 when the
index has it, else its first image that is not an attestation (``unknown/unknown``).
"""

from __future__ import annotations

import json
from typing import Any

from .blobs import read_blob
from .errors import ManifestError
from .manifests import Descriptor, ImageIndex, ImageManifest, Manifest, Platform
from .reference import Reference
from .remote import MAX_MANIFEST_SIZE, Remote

__all__ = ["default_child", "get_manifest", "image_config"]


def get_manifest(
    remote: Remote, ref: Reference, platform: str | Platform | None = None
) -> Manifest:
    """The verified manifest of ``ref``; with ``platform``, an index resolved to the child
    for that platform (``"linux/arm64/v8"``)."""
    manifest = remote.get_manifest(ref)
    if platform is not None and isinstance(manifest, ImageIndex):
        want = Platform.parse(platform) if isinstance(platform, str) else platform
        child = manifest.select(want)
        manifest = remote.get_manifest(ref.with_digest(child.digest))
    return manifest


def image_config(
    remote: Remote, ref: Reference, platform: str | Platform | None = None
) -> dict[str, Any]:
    """The image config JSON of ``ref`` (an index resolves as the module docstring says)."""
    manifest = get_manifest(remote, ref, platform)
    if isinstance(manifest, ImageIndex):
        child = default_child(manifest)
        manifest = remote.get_manifest(ref.with_digest(child.digest))
    if not isinstance(manifest, ImageManifest):
        raise ManifestError(f"{ref} is a {manifest.media_type}, which has no image config")
    data = read_blob(remote, ref, manifest.config, limit=MAX_MANIFEST_SIZE * 4)
    try:
        config = json.loads(data)
    except ValueError:
        raise ManifestError(f"image config {manifest.config.digest} is not JSON") from None
    if not isinstance(config, dict):
        raise ManifestError(f"image config {manifest.config.digest} is not a JSON object")
    return config


def default_child(index: ImageIndex) -> Descriptor:
    """linux/amd64 when the index has it, else its first image that is not an attestation."""
    try:
        return index.select(Platform("linux", "amd64"))
    except ManifestError:
        images = [d for d in index.manifests if d.platform is None or d.platform.os != "unknown"]
        if not images:
            raise
        return images[0]
