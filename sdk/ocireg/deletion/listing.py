"""Tag -> digest from a registry-native listing (:meth:`RegistryAPI.list_tags
<ocireg.registry_api.RegistryAPI.list_tags>`) instead of one ``HEAD`` per tag, checked
against the Registry HTTP API's tag list.

The listing is untrusted input like any answer: every name must be a tag and every digest
must parse as a digest of a known algorithm, or the survey stops
(:class:`~ocireg.errors.SurveyError`). A tag is taken from the listing only when /v2/ lists
it too, the listing names it once (or always with the same digest) and says enough to
decide about it; every other tag is asked by ``HEAD`` as without a listing:

* a tag /v2/ lists and the listing does not, or the other way round;
* a record without a media type, or with one that is neither an image manifest's nor an
  index's (an index must be known as one: what it lists is needed);
* an OCI image manifest whose image the listing says is small, or does not size: an
  interrupted run's placeholders are tiny OCI manifests, and are recognised by their
  manifest's size (:data:`~ocireg.deletion.placeholder.PLACEHOLDER_SIZES`), which no
  listing gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..digest import Digest
from ..errors import InvalidDigestError, NotFoundError, SurveyError
from ..manifests import Descriptor
from ..mediatypes import OCI_MANIFEST, is_image_manifest, is_index, strip_params
from ..reference import TAG_PATTERN, Reference
from ..registry_api import RegistryAPI, TagRecord

__all__ = ["SMALL_IMAGE", "Listed", "from_listing", "records_for"]

#: Images a listing sizes at or below this many bytes may be placeholders (whose layers
#: are none and whose config is ``{}``): their tags are asked by ``HEAD``.
SMALL_IMAGE = 4096

#: ``(descriptors from the listing, the listing's records by tag, tags to ask by HEAD)``;
#: a descriptor from a listing has size 0 (a listing gives no manifest size).
Listed = tuple[dict[str, Descriptor], dict[str, TagRecord], list[str]]


def from_listing(
    api: RegistryAPI, repo: Reference, names: Iterable[str], listed: set[str], only: set[str] | None
) -> Listed:
    """Read the listing of ``repo``: ``names`` are the tags wanted that /v2/ ``listed``;
    ``only`` restricts the tags the listing adds (None: all)."""
    try:
        records = api.list_tags(repo)
    except NotFoundError:
        records = []  # /v2/ listed the repository: every tag is asked by HEAD
    by_tag: dict[str, TagRecord] = {}
    disputed: set[str] = set()
    for raw in records:
        record = _checked(raw, repo)
        seen = by_tag.get(record.tag)
        if seen is not None and seen.digest != record.digest:
            disputed.add(record.tag)
        by_tag[record.tag] = record
    descriptors: dict[str, Descriptor] = {}
    ask: list[str] = []
    for tag in names:
        found = by_tag.get(tag)
        kind = _media_type(found) if found is not None and tag not in disputed else None
        if found is None or kind is None:
            ask.append(tag)
            continue
        descriptors[tag] = Descriptor(media_type=kind, digest=found.digest, size=0)
    # Tags only the listing names: /v2/ decides whether they exist (HEAD).
    ask.extend(t for t in sorted(by_tag) if t not in listed and (only is None or t in only))
    return descriptors, by_tag, ask


def records_for(
    records: Mapping[str, TagRecord], descriptors: Mapping[str, Descriptor]
) -> dict[str, TagRecord]:
    """The records whose digest is the one the survey settled on (for push times)."""
    return {
        t: r for t, r in records.items() if t in descriptors and descriptors[t].digest == r.digest
    }


def _checked(record: object, repo: Reference) -> TagRecord:
    if not isinstance(record, TagRecord):
        raise SurveyError(f"{repo.repository}: the native listing returned {type(record)!r}")
    if not isinstance(record.tag, str) or not TAG_PATTERN.fullmatch(record.tag):
        raise SurveyError(
            f"{repo.repository}: the native listing holds a name that is no tag:"
            f" {str(record.tag)[:80]!r}"
        )
    try:
        digest = Digest.parse(record.digest)
    except (InvalidDigestError, TypeError, ValueError):
        digest = None
    if digest is None or not digest.verifiable:
        raise SurveyError(
            f"{repo.repository}: the native listing gives {record.tag} an invalid digest"
            f" {str(record.digest)[:80]!r}; nothing was changed"
        )
    if str(digest) == record.digest:
        return record
    return TagRecord(record.tag, str(digest), record.pushed_at, record.size, record.media_type)


def _media_type(record: TagRecord) -> str | None:
    """The record's media type when it is one the rules know (an index, or an image
    manifest that cannot be a placeholder), else None."""
    kind = strip_params(record.media_type)
    if is_index(kind):
        return kind
    if kind == OCI_MANIFEST:
        big = record.size is not None and record.size > SMALL_IMAGE
        return kind if big else None
    return kind if is_image_manifest(kind) else None
