"""The placeholders of untag: unique tiny manifests a tag is moved to before it is deleted.

A run killed between moving a tag and deleting the placeholder leaves the tag on one; the
next run recognises it (:func:`is_placeholder`) and finishes the job.
"""

from __future__ import annotations

import time
import uuid

from ..manifests import EMPTY_DESCRIPTOR, ImageManifest, Manifest, build_image_manifest

__all__ = [
    "PLACEHOLDER_ARTIFACT_TYPE",
    "PLACEHOLDER_ID",
    "PLACEHOLDER_OF",
    "PLACEHOLDER_SIZES",
    "is_placeholder",
    "placeholder",
]

#: ``artifactType`` of the tiny manifests a tag is moved to before it is deleted; if one is
#: ever left behind (a run killed mid-untag), this says what it is.
PLACEHOLDER_ARTIFACT_TYPE = "application/vnd.ocireg.placeholder.v1"
#: The annotation holding each placeholder's random id (so no two are the same manifest).
PLACEHOLDER_ID = "io.ocireg.placeholder.id"
#: The annotation naming the manifest the tag pointed at before it was moved.
PLACEHOLDER_OF = "io.ocireg.placeholder.of"


def is_placeholder(manifest: Manifest) -> bool:
    """Whether ``manifest`` is one of our placeholders."""
    return (
        isinstance(manifest, ImageManifest)
        and manifest.artifact_type == PLACEHOLDER_ARTIFACT_TYPE
        and PLACEHOLDER_ID in (manifest.annotations or {})
    )


def placeholder(original: str | None = None) -> bytes:
    """A manifest no one else can have pushed (it holds a random id), so deleting it by
    digest can take no other tag along. Its config is the empty blob; it is annotated so
    that a placeholder left visible explains itself, and names the manifest the tag was on
    (``original``) for whoever finds it after a crash."""
    annotations = {
        "org.opencontainers.image.created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "org.opencontainers.image.description": "placeholder of ocireg tag deletion",
        PLACEHOLDER_ID: uuid.uuid4().hex,
    }
    if original is not None:
        annotations[PLACEHOLDER_OF] = original
    return build_image_manifest(
        EMPTY_DESCRIPTOR, [], annotations=annotations, artifact_type=PLACEHOLDER_ARTIFACT_TYPE
    )


#: Every size a placeholder can have (its fields have fixed lengths; ``original`` is absent
#: or a digest of one of the three algorithms): a tag whose manifest has another size is no
#: placeholder, so a survey fetches almost nothing to look for them.
PLACEHOLDER_SIZES = frozenset(
    len(placeholder(original))
    for original in (None, "sha256:" + "0" * 64, "sha384:" + "0" * 96, "sha512:" + "0" * 128)
)
