"""Referrers: the manifests whose ``subject`` is a given manifest (signatures, SBOMs...).

Registries come in two kinds (distribution spec, "Listing Referrers" and "Referrers Tag
Schema"):

* those with the referrers API answer ``GET /v2/<name>/referrers/<digest>`` with an image
  index (never 404), and reply ``OCI-Subject`` when a manifest with ``subject`` is pushed;
* the others (distribution 2.8, most registries before 2023) answer 404. There the *client*
  keeps the list itself, as an image index stored under the tag ``<alg>-<hex>`` of the
  subject digest, and every client that pushes a referrer must update it.

:func:`referrers` reads whichever exists; :func:`attach_referrer` pushes a referrer and
maintains the fallback index when the registry does not; :func:`detach_referrer` removes an
entry again (the deletion code calls it when a referrer is deleted by digest).

The fallback index is read, changed and written back; distribution 2.8 has no conditional
``PUT`` (``If-Match``), so two processes attaching to one subject at the same moment can
lose an entry. Within one process the updates are serialised.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .digest import Digest
from .errors import ManifestError, NotFoundError
from .manifests import Descriptor, ImageIndex, Manifest, canonical_json
from .mediatypes import OCI_INDEX
from .reference import Reference

if TYPE_CHECKING:
    from .remote import Remote

__all__ = [
    "FALLBACK_TAG",
    "attach_referrer",
    "detach_referrer",
    "fallback_tag",
    "from_api",
    "is_fallback_tag",
    "referrers",
    "update_fallback",
]

#: What a referrers fallback tag looks like (``<alg>-<hex>``, see :func:`fallback_tag`): the
#: algorithm cut to 32 characters, the hex digits of sha256 or sha512 cut to 64. Only a shape:
#: a tag of this shape may still hold anything.
FALLBACK_TAG = re.compile(r"[a-z0-9._-]{1,32}-[0-9a-f]{32,64}")
_NOT_TAG_CHARS = re.compile(r"[^a-zA-Z0-9_.-]")
_LOCKS: dict[tuple[str, str, str], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def fallback_tag(digest: str | Digest) -> str:
    """The referrers fallback tag of ``digest``: ``sha256:abc...`` -> ``sha256-abc...``.

    The algorithm is cut to 32 characters and the hex to 64, and any character a tag may
    not hold becomes ``-`` (distribution spec, "Referrers Tag Schema"), so a sha512 subject
    gets a tag of the first 64 hex digits.
    """
    algorithm, _, encoded = str(digest).partition(":")
    return _NOT_TAG_CHARS.sub("-", f"{algorithm[:32]}-{encoded[:64]}")


def is_fallback_tag(tag: str) -> bool:
    """Whether ``tag`` has the shape of a referrers fallback tag."""
    return FALLBACK_TAG.fullmatch(tag) is not None


def referrers(
    remote: Remote, ref: Reference, *, artifact_type: str | None = None
) -> list[Descriptor]:
    """The descriptors of the manifests whose ``subject`` is ``ref``.

    Uses the referrers API when the registry has it (following ``Link`` pages), else the
    fallback tag. ``artifact_type`` filters the result; when the registry did not say it
    filtered (``OCI-Filters-Applied: artifactType``) we filter here, so the answer is the
    same on every registry.

    :raises NotFoundError: when the subject itself does not exist.
    """
    subject = ref.digest or remote.head_manifest(ref).digest
    found = from_api(remote, ref, subject, artifact_type)
    if found is None:
        index = _fallback_index(remote, ref, subject, strict=False)
        entries = list(index.manifests) if index is not None else []
        found = (entries, False)
    entries, filtered = found
    if artifact_type and not filtered:
        entries = [d for d in entries if d.artifact_type == artifact_type]
    return entries


def from_api(
    remote: Remote, ref: Reference, subject: str, artifact_type: str | None
) -> tuple[list[Descriptor], bool] | None:
    """The referrers API's answer and whether the registry filtered it; ``None`` when the
    registry has no referrers API (404 on the first page)."""
    out: list[Descriptor] = []
    filtered = bool(artifact_type)
    answered = False
    for page in remote.referrer_pages(ref, Digest.parse(subject), artifact_type, OCI_INDEX):
        answered = True
        applied = page.headers.get("OCI-Filters-Applied", "")
        filtered = filtered and "artifacttype" in {v.strip().lower() for v in applied.split(",")}
        items = page.body.get("manifests")
        if not isinstance(items, list):
            raise ManifestError(f"referrers of {ref.repository}@{subject}: not an image index")
        out.extend(
            Descriptor.from_dict(d, where=f"referrers.manifests[{i}]") for i, d in enumerate(items)
        )
    if not answered:
        return None  # no referrers API: the spec says use the fallback tag
    return out, filtered


def _fallback_index(
    remote: Remote, ref: Reference, subject: str, *, strict: bool
) -> ImageIndex | None:
    """The fallback index of ``subject``, ``None`` when there is none.

    Reading (``strict=False``), something else under the tag means "no referrers", as the
    spec says. Writing (``strict=True``), it is an error: overwriting a manifest we did not
    make would lose it.
    """
    tag_ref = ref.with_tag(fallback_tag(subject))
    try:
        manifest = remote.get_manifest(tag_ref)
    except NotFoundError:
        return None
    except ManifestError:
        if strict:
            raise
        return None
    if isinstance(manifest, ImageIndex):
        return manifest
    if strict:
        raise ManifestError(
            f"{tag_ref} is a {manifest.media_type}, not a referrers index; not overwriting it"
        )
    return None


def attach_referrer(
    remote: Remote, subject: Reference | str, raw: bytes, media_type: str
) -> Descriptor:
    """Push ``raw`` (a manifest whose ``subject`` is ``subject``) and list it as a referrer.

    The manifest is pushed by digest, untagged. When the registry answers without
    ``OCI-Subject`` it has no referrers API, so the fallback index is updated: pulled (none
    yet = empty), left alone when it already lists the digest, else extended with the
    manifest's descriptor, its ``artifactType`` (else the config media type) and its
    annotations, and pushed back. Existing entries are kept byte for byte.

    :returns: the descriptor the referrers list now holds for the manifest.
    :raises ManifestError: when ``raw`` has no ``subject``, or one other than ``subject``.
    """
    ref = subject if isinstance(subject, Reference) else Reference.parse(subject)
    manifest = remote.handlers.parse(raw, media_type)
    if manifest.subject is None:
        raise ManifestError("the manifest to attach has no subject")
    want = ref.digest or remote.head_manifest(ref).digest
    if manifest.subject.digest != want:
        raise ManifestError(
            f"the manifest's subject is {manifest.subject.digest}, but {ref} is {want}"
        )
    target = dataclasses.replace(ref, tag=None, digest=str(manifest.digest))
    _, headers = remote.put_manifest(target, raw, media_type)
    registry_tracks_it = bool(headers.get("OCI-Subject"))
    entry = manifest.referrer_descriptor()
    if not registry_tracks_it:
        update_fallback(remote, ref, want, add=entry)
    return entry


def detach_referrer(remote: Remote, ref: Reference, referrer: Manifest) -> bool:
    """Remove ``referrer`` from its subject's fallback index; ``True`` if it was listed.

    Call it after deleting a manifest with ``subject`` from a registry without the referrers
    API, or the deleted manifest would still be listed (and the index would keep naming a
    manifest that is gone). An index left empty stays, as an empty list.
    """
    if referrer.subject is None:
        return False
    return update_fallback(remote, ref, referrer.subject.digest, remove=str(referrer.digest))


def update_fallback(
    remote: Remote,
    ref: Reference,
    subject: str,
    *,
    add: Descriptor | None = None,
    remove: str | None = None,
) -> bool:
    """Read-modify-write the fallback index; ``True`` when it was written."""
    tag = fallback_tag(subject)
    with _lock_for(ref.domain, ref.path, tag):
        current = _fallback_index(remote, ref, subject, strict=add is not None)
        if current is None and add is None:
            return False
        entries: list[Any] = list(current.json.get("manifests") or []) if current else []
        digests = [e.get("digest") if isinstance(e, Mapping) else None for e in entries]
        if add is not None:
            if add.digest in digests:
                return False
            entries.append(add.to_dict())
        if remove is not None:
            if remove not in digests:
                return False
            entries = [e for e, d in zip(entries, digests, strict=True) if d != remove]
        doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        if current is not None and current.annotations:
            doc["annotations"] = dict(current.annotations)
        remote.put_manifest(ref.with_tag(tag), canonical_json(doc), OCI_INDEX)
        return True


def _lock_for(domain: str, path: str, tag: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault((domain, path, tag), threading.Lock())
