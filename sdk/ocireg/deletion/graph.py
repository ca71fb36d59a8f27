"""The repository graph deletion decides on: every tag's digest, every tagged index.

A tag "needs" a manifest when it points at it, or when its index (or an index nested in it)
lists it. The rules in :mod:`ocireg.deletion.plan` only ask this graph; :func:`snapshot`
reads it from the registry once (the tag list, one ``HEAD`` per tag, or a registry-native
listing instead (:mod:`.listing`), every distinct index fetched once, concurrently per
nesting level).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..errors import NotFoundError, SurveyError
from ..manifests import Descriptor, ImageIndex, Manifest
from ..mediatypes import OCI_MANIFEST, is_generic, is_index
from ..reference import TAG_PATTERN, Reference
from ..registry_api import TagRecord
from ..remote import Remote
from .listing import from_listing, records_for
from .placeholder import PLACEHOLDER_SIZES, is_placeholder

__all__ = [
    "NOT_FOUND_RETRIES",
    "RepositoryGraph",
    "index_reach",
    "repository_of",
    "snapshot",
]


@dataclass(frozen=True, slots=True)
class RepositoryGraph:
    """What a repository held when :func:`snapshot` looked.

    :ivar repository: the repository (no tag, no digest).
    :ivar tags: every tag's descriptor (from ``HEAD``, or from a native listing: then its
        size is 0, unknown).
    :ivar manifests: every tagged index, and every index nested in one, by digest (also
        tags of a generic content type, fetched to learn what they are, and small OCI
        manifests, fetched to learn whether they are placeholders).
    :ivar records: with a native listing, its record of each tag whose digest the survey
        settled on (push times and sizes, for retention).
    :ivar listing: the ``via`` of the native listing used, else None.
    """

    repository: Reference
    tags: Mapping[str, Descriptor]
    manifests: Mapping[str, Manifest] = field(default_factory=dict)
    records: Mapping[str, TagRecord] = field(default_factory=dict)
    listing: str | None = None
    _reach: dict[str, frozenset[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _on: dict[str, tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _roots: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_digest: dict[str, list[str]] = {}
        for tag, desc in sorted(self.tags.items()):
            by_digest.setdefault(desc.digest, []).append(tag)
            if is_index(desc.media_type) or is_generic(desc.media_type):
                self._roots[tag] = desc.digest
        self._on.update((d, tuple(tags)) for d, tags in by_digest.items())

    def placeholders(self) -> dict[str, str]:
        """Tag -> digest of the tags left on one of our placeholders (a killed run)."""
        return {
            tag: desc.digest
            for tag, desc in sorted(self.tags.items())
            if (m := self.manifests.get(desc.digest)) is not None and is_placeholder(m)
        }

    def tags_on(self, digest: str) -> tuple[str, ...]:
        """The tags on ``digest``, sorted."""
        return self._on.get(digest, ())

    def roots(self) -> Mapping[str, str]:
        """Tag -> digest of the tags that may list manifests (indexes, generic types)."""
        return self._roots

    def reach(self, digest: str) -> frozenset[str]:
        """Every digest the index ``digest`` lists, directly or through nested indexes."""
        found = self._reach.get(digest)
        if found is None:
            found = self._reach[digest] = index_reach(digest, self.manifests.get)
        return found

    def needers(
        self, digest: str, *, exclude: str | None = None, ignore: Iterable[str] = ()
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """``(shared_with, reached_by)`` of ``digest`` as ``delete_tag`` surveys them: the
        tags on it (besides ``exclude``), and the tags whose index graph lists it (besides
        ``ignore``, the fallback tag of its own subject)."""
        shared = tuple(t for t in self.tags_on(digest) if t != exclude)
        skip = set(ignore)
        reached = tuple(
            sorted(
                t
                for t, root in self.roots().items()
                if root != digest and t not in skip and digest in self.reach(root)
            )
        )
        return shared, reached


def index_reach(root: str, manifest_of: Callable[[str], Manifest | None]) -> frozenset[str]:
    """Every digest the index ``root`` lists, directly or through nested indexes (children
    whose media type is an index's, a generic one, or missing); ``manifest_of`` gives a
    manifest by digest (``None``: unknown, it lists nothing)."""
    seen: set[str] = set()
    out: set[str] = set()
    stack = [root]
    while stack:
        d = stack.pop()
        if d in seen:
            continue
        seen.add(d)
        index = manifest_of(d)
        if not isinstance(index, ImageIndex):
            continue
        out.update(c.digest for c in index.manifests)
        stack.extend(
            c.digest
            for c in index.manifests
            if not c.media_type or is_index(c.media_type) or is_generic(c.media_type)
        )
    return frozenset(out)


def repository_of(ref: Reference) -> Reference:
    return dataclasses.replace(ref, tag=None, digest=None)


#: How often a 404 for something the registry itself just named (a listed tag, a manifest a
#: tag or index points at) is asked again before the survey gives up, and the pause between.
NOT_FOUND_RETRIES = 2
RETRY_PAUSE = 0.25


def snapshot(
    remote: Remote,
    repository: Reference,
    tags: Iterable[str] | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> RepositoryGraph:
    """Read the graph of ``repository`` once: its tag list, one ``HEAD`` per tag (or per tag
    of ``tags`` that the list names), every distinct index fetched once, concurrently per
    nesting level, and the manifests of a placeholder's size (left by a killed run). Where
    a plugin's native API lists tags, that listing replaces the ``HEAD`` of every tag it
    agrees on with the tag list (:mod:`.listing`).

    Fails closed (:class:`~ocireg.errors.SurveyError`, before anything changes): a listed
    tag whose ``HEAD`` answers 404 is asked again, and believed gone only if the tag list no
    longer names it either; a manifest a tag or index points at that stays 404 stops the
    survey; so does a listed name that is not a tag. Other errors (5xx after the transport's
    retries, timeouts) propagate and stop it too.
    """
    repo = repository_of(repository)
    listed = remote.tags(repo)
    bad = [t for t in listed if not TAG_PATTERN.fullmatch(t)]
    if bad:
        raise SurveyError(
            f"{repo.repository}: the tag list holds names that are no tags: {bad[:3]!r}"
        )
    present = set(listed)
    names = listed if tags is None else [t for t in dict.fromkeys(tags) if t in present]
    api = remote.native_api(repo.domain)
    listing = api.listing if api is not None else None
    records: dict[str, TagRecord] = {}
    descriptors: dict[str, Descriptor] = {}
    ask = names
    if api is not None and listing:
        only = None if tags is None else set(tags)
        descriptors, records, ask = from_listing(api, repo, names, present, only)
    descriptors.update(remote.tag_descriptors(repo, ask))
    missing = [t for t in ask if t not in descriptors]
    for _ in range(NOT_FOUND_RETRIES):
        if not missing:
            break
        sleep(RETRY_PAUSE)
        descriptors.update(remote.tag_descriptors(repo, missing))
        missing = [t for t in missing if t not in descriptors]
    if missing:
        still = sorted(set(missing) & set(remote.tags(repo)))
        if still:
            raise SurveyError(
                f"{repo.repository}: tags {', '.join(still[:5])} are listed but their manifests"
                f" answer 404 ({NOT_FOUND_RETRIES + 1} tries); nothing was changed"
            )
    manifests = _fetch_graph(remote, repo, descriptors, sleep)
    return RepositoryGraph(repo, descriptors, manifests, records_for(records, descriptors), listing)


def _fetch_graph(
    remote: Remote,
    repo: Reference,
    descriptors: Mapping[str, Descriptor],
    sleep: Callable[[float], None],
) -> dict[str, Manifest]:
    """Every index a tag reaches (and those of a placeholder's size)."""
    manifests: dict[str, Manifest] = {}
    frontier = {d.digest for d in descriptors.values() if is_index(d.media_type)}
    frontier |= {d.digest for d in descriptors.values() if is_generic(d.media_type)}
    frontier |= {
        d.digest
        for d in descriptors.values()
        if d.media_type == OCI_MANIFEST and d.size in PLACEHOLDER_SIZES
    }
    seen: set[str] = set()

    def fetch(digest: str) -> tuple[str, Manifest]:
        for attempt in range(NOT_FOUND_RETRIES + 1):
            try:
                return digest, remote.get_manifest(repo.with_digest(digest))
            except NotFoundError:
                if attempt == NOT_FOUND_RETRIES:
                    raise SurveyError(
                        f"{repo.repository}: {digest}, which a tag or an index points at,"
                        f" answers 404 ({NOT_FOUND_RETRIES + 1} tries); nothing was changed"
                    ) from None
                sleep(RETRY_PAUSE)
        raise AssertionError("unreachable")

    while frontier:
        seen |= frontier
        workers = max(1, min(remote.max_workers, len(frontier)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            fetched = list(pool.map(fetch, sorted(frontier)))
        deeper: set[str] = set()
        for digest, manifest in fetched:
            manifests[digest] = manifest
            if isinstance(manifest, ImageIndex):
                deeper.update(
                    c.digest
                    for c in manifest.manifests
                    if is_index(c.media_type) or not c.media_type
                )
        frontier = deeper - seen
    return manifests
