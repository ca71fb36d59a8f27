"""The repository graph deletion decides on: every tag's digest, every tagged index.

A tag "needs" a manifest when it points at it, or when its index (or an index nested in it)
lists it. The rules in :mod:`ocireg.deletion.plan` only ask this graph; :func:`snapshot`
reads it from the registry once (the tag list, one ``HEAD`` per tag, every distinct index
fetched once, concurrently per nesting level).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..errors import NotFoundError
from ..manifests import Descriptor, ImageIndex, Manifest
from ..mediatypes import is_generic, is_index
from ..reference import Reference
from ..remote import Remote

__all__ = ["RepositoryGraph", "repository_of", "snapshot"]


@dataclass(frozen=True, slots=True)
class RepositoryGraph:
    """What a repository held when :func:`snapshot` looked.

    :ivar repository: the repository (no tag, no digest).
    :ivar tags: every tag's descriptor (from ``HEAD``).
    :ivar manifests: every tagged index, and every index nested in one, by digest (also
        tags of a generic content type, fetched to learn what they are).
    """

    repository: Reference
    tags: Mapping[str, Descriptor]
    manifests: Mapping[str, Manifest] = field(default_factory=dict)
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
            seen: set[str] = set()
            out: set[str] = set()
            stack = [digest]
            while stack:
                d = stack.pop()
                if d in seen:
                    continue
                seen.add(d)
                index = self.manifests.get(d)
                if not isinstance(index, ImageIndex):
                    continue
                out.update(c.digest for c in index.manifests)
                stack.extend(
                    c.digest for c in index.manifests if is_index(c.media_type) or not c.media_type
                )
            found = self._reach[digest] = frozenset(out)
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


def repository_of(ref: Reference) -> Reference:
    return dataclasses.replace(ref, tag=None, digest=None)


def snapshot(
    remote: Remote, repository: Reference, tags: Iterable[str] | None = None
) -> RepositoryGraph:
    """Read the graph of ``repository`` once: its tags (or just ``tags``), one ``HEAD`` per
    tag, and every distinct index fetched once, concurrently per nesting level."""
    repo = repository_of(repository)
    descriptors = remote.tag_descriptors(repo, tags)
    manifests: dict[str, Manifest] = {}
    frontier = {d.digest for d in descriptors.values() if is_index(d.media_type)}
    frontier |= {d.digest for d in descriptors.values() if is_generic(d.media_type)}
    seen: set[str] = set()

    def fetch(digest: str) -> tuple[str, Manifest | None]:
        try:
            return digest, remote.get_manifest(repo.with_digest(digest))
        except NotFoundError:  # deleted meanwhile: it lists nothing any more
            return digest, None

    while frontier:
        seen |= frontier
        workers = max(1, min(remote.max_workers, len(frontier)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            fetched = list(pool.map(fetch, sorted(frontier)))
        deeper: set[str] = set()
        for digest, manifest in fetched:
            if manifest is None:
                continue
            manifests[digest] = manifest
            if isinstance(manifest, ImageIndex):
                deeper.update(
                    c.digest
                    for c in manifest.manifests
                    if is_index(c.media_type) or not c.media_type
                )
        frontier = deeper - seen
    return RepositoryGraph(repo, dict(descriptors), manifests)
