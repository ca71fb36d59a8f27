"""Deleting many tags of one repository: one look at the graph, one plan, few requests.

:func:`~ocireg.delete.delete_tag` surveys the repository on every call (every tag's
digest, every tagged index), so deleting k of n tags with it costs about k x n requests.
Here the graph is read once (:func:`snapshot`: the tag list, one ``HEAD`` per tag, every
distinct index fetched once, concurrently), the whole set is decided on it
(:func:`plan_tag_deletes`, no request that changes anything), and :func:`execute` carries
the plan out with about one request per tag.

The rules are ``delete_tag``'s, applied to the set as a whole:

1. Tags that do not exist are reported in :attr:`BatchPlan.not_found`.
2. ``shared_digest`` decides about a chosen tag whose manifest is still needed by a tag that
   *stays* (same digest, or listed by the index of a kept tag); a tag deleted in the same
   run does not count. ``untag`` deletes the tag only; ``skip`` leaves it (repeated until
   no skipped tag changes the answer: a skipped tag stays, and may need another chosen
   tag's manifest); ``fail`` makes :func:`execute` raise :class:`SharedDigestError` before
   anything changes. Skipped tags are in :attr:`BatchPlan.skipped`.
3. Order: an index tag before the tags of the manifests it lists (so deleting both removes
   both manifests), otherwise by name.
4. At its turn each tag gets the action ``delete_tag`` would choose at that moment, in a
   :class:`~ocireg.delete.DeletePlan` whose ``shared_with``/``reached_by`` name the tags
   still there then: ``tag-delete`` where the registry deletes tags by name; else
   ``delete-digest`` when no tag left needs the manifest (it goes with its last tag, and is
   listed in :attr:`BatchPlan.deleted_manifests`), else ``untag``.
5. With ``delete_referrers``, the referrers (signatures, SBOMs) of the removed manifests
   that nothing else needs, recursively, and then their emptied referrers fallback tags.
6. A registry with deletes disabled is detected while planning (``delete.py``'s probes,
   cached per client), so every step is ``refuse`` and :func:`execute` raises
   :class:`~ocireg.errors.UnsupportedError` before any change.

The plan is as fresh as its snapshot: a tag pushed in between is not seen. Check mode is
the plan itself (:func:`preview`); the real run carries out exactly that order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from .delete import (
    DeletePlan,
    _by_digest,
    _delete_digest,
    _deletes_disabled,
    _ensure_deletable,
    _ensure_empty_blob,
    _needed_by,
    _placeholder,
    _run_tag_delete,
    _tag_delete_supported,
    _unsupported,
    capabilities,
)
from .errors import NotFoundError, OciregError, SharedDigestError
from .manifests import Descriptor, ImageIndex, Manifest
from .mediatypes import OCI_MANIFEST, is_generic, is_index
from .reference import Reference
from .referrers import _from_api, _update_fallback, detach_referrer, fallback_tag

if TYPE_CHECKING:
    from .client import Client

__all__ = [
    "BatchPlan",
    "BatchResult",
    "ReferrerDelete",
    "RepositoryGraph",
    "SharedDigest",
    "SharedDigestError",
    "delete_tags",
    "execute",
    "plan_tag_deletes",
    "preview",
    "snapshot",
]

SharedDigest = Literal["untag", "skip", "fail"]
_POLICIES: tuple[str, ...] = get_args(SharedDigest)
#: Tags that may be referrers fallback tags (``<alg>-<hex>``); only a pre-filter.
_FALLBACK_SHAPE = re.compile(r"[a-zA-Z0-9_.-]{1,32}-[0-9a-f]{32,64}")


# -- the graph -----------------------------------------------------------------------------


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


def _repository_of(ref: Reference) -> Reference:
    return dataclasses.replace(ref, tag=None, digest=None)


def snapshot(
    client: Client, repository: Reference, tags: Iterable[str] | None = None
) -> RepositoryGraph:
    """Read the graph of ``repository`` once: its tags (or just ``tags``), one ``HEAD`` per
    tag, and every distinct index fetched once, concurrently per nesting level."""
    repo = _repository_of(repository)
    descriptors = client.tag_descriptors(repo, tags)
    manifests: dict[str, Manifest] = {}
    frontier = {d.digest for d in descriptors.values() if is_index(d.media_type)}
    frontier |= {d.digest for d in descriptors.values() if is_generic(d.media_type)}
    seen: set[str] = set()

    def fetch(digest: str) -> tuple[str, Manifest | None]:
        try:
            return digest, client.get_manifest(repo.with_digest(digest))
        except NotFoundError:  # deleted meanwhile: it lists nothing any more
            return digest, None

    while frontier:
        seen |= frontier
        workers = max(1, min(client.max_workers, len(frontier)))
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


# -- the plan ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReferrerDelete:
    """A referrer deleted with its removed subject."""

    subject: str
    digest: str
    artifact_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """What :func:`plan_tag_deletes` decided (see the module docstring).

    :ivar repository: the repository.
    :ivar shared_digest: the policy the plan was made with.
    :ivar deletes: the chosen tags to delete, in the order they are deleted, each with the
        action of its turn (``refuse`` everywhere when deletes are disabled).
    :ivar skipped: chosen tags left because a tag that stays needs their manifest
        (``skip``; ``refuse`` with ``shared_digest="fail"``); the reason names those tags.
    :ivar not_found: chosen tags that do not exist, in the order given.
    :ivar deleted_manifests: the manifests that go with their last tag, in order.
    :ivar referrers: with ``delete_referrers``, the referrers deleted with them.
    :ivar fallback_tags: referrers fallback tags left empty, deleted last.
    :ivar refused: why nothing can be deleted (deletes disabled), else ``None``.
    :ivar disabled_status: the registry's ``(status, error code)`` that said so.
    :ivar subjects: manifests with ``subject`` among those deleted by digest, for the
        referrers bookkeeping (not compared).
    """

    repository: Reference
    shared_digest: SharedDigest = "untag"
    deletes: tuple[DeletePlan, ...] = ()
    skipped: tuple[DeletePlan, ...] = ()
    not_found: tuple[str, ...] = ()
    deleted_manifests: tuple[str, ...] = ()
    referrers: tuple[ReferrerDelete, ...] = ()
    fallback_tags: tuple[DeletePlan, ...] = ()
    refused: str | None = None
    disabled_status: tuple[int, str] | None = None
    subjects: Mapping[str, Manifest] = field(default_factory=dict, compare=False, repr=False)

    @property
    def tags(self) -> list[str]:
        """The chosen tags that are deleted, sorted."""
        return sorted(p.tag for p in self.deletes if p.tag is not None)

    @property
    def fails(self) -> bool:
        """Whether :func:`execute` refuses: deletes disabled, or ``shared_digest="fail"``
        with a tag whose manifest a staying tag needs."""
        return self.refused is not None or (self.shared_digest == "fail" and bool(self.skipped))

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON output."""
        return {
            "repository": self.repository.repository,
            "shared_digest": self.shared_digest,
            "deletes": [p.to_dict() for p in self.deletes],
            "skipped": [p.to_dict() for p in self.skipped],
            "not_found": list(self.not_found),
            "deleted_manifests": list(self.deleted_manifests),
            "referrers": [r.to_dict() for r in self.referrers],
            "fallback_tags": [p.to_dict() for p in self.fallback_tags],
            "refused": self.refused,
        }


def plan_tag_deletes(
    client: Client,
    repository: Reference,
    tags: Iterable[str],
    *,
    shared_digest: SharedDigest = "untag",
    delete_referrers: bool = False,
    graph: RepositoryGraph | None = None,
) -> BatchPlan:
    """Decide how to delete ``tags`` of ``repository``; changes nothing.

    Requests: the :func:`snapshot` (unless ``graph`` is given), ``delete_tag``'s two probes
    (a ``DELETE`` of a tag and of a digest that do not exist; cached per client when they
    tell something lasting), a ``GET`` of the rare chosen manifest a referrers fallback
    index lists (to learn its subject), and with ``delete_referrers`` the referrers of each
    removed manifest plus a ``HEAD`` per referrer.

    :raises ValueError: an unknown ``shared_digest``, or a ``graph`` of another repository.
    """
    if shared_digest not in _POLICIES:
        raise ValueError(f"shared_digest must be one of {', '.join(_POLICIES)}: {shared_digest!r}")
    if isinstance(tags, str):
        raise TypeError("tags must be an iterable of tag names, not one string")
    repo = _repository_of(repository)
    chosen = list(dict.fromkeys(tags))
    if not chosen:
        return BatchPlan(repo, shared_digest)  # nothing to look at
    if graph is None:
        graph = snapshot(client, repo)
    elif graph.repository.repository != repo.repository:
        raise ValueError(f"the graph is of {graph.repository.repository}, not {repo.repository}")
    return _Planner(client, repo, graph).plan(chosen, shared_digest, delete_referrers)


class _Planner:
    def __init__(self, client: Client, repo: Reference, graph: RepositoryGraph) -> None:
        self.client, self.repo, self.graph = client, repo, graph
        self.subjects: dict[str, Manifest] = {}
        self.ignored: dict[str, set[str]] = {}  # digest -> its own fallback tag, if any
        self.referrers_api: bool | None = None

    def plan(self, chosen: list[str], policy: SharedDigest, delete_referrers: bool) -> BatchPlan:
        graph, repo = self.graph, self.repo
        present = [t for t in chosen if t in graph.tags]
        not_found = tuple(t for t in chosen if t not in graph.tags)
        full = {t: self.needers(t) for t in present}
        going, needers = _apply_policy(present, full, policy)
        action: Literal["skip", "refuse"] = "refuse" if policy == "fail" else "skip"
        skipped = tuple(
            DeletePlan(
                repo.with_tag(t),
                t,
                graph.tags[t].digest,
                action,
                tuple(u for u in full[t][0] if u not in going),
                tuple(u for u in full[t][1] if u not in going),
                reason="its manifest is still needed by " + ", ".join(needers[t]),
            )
            for t in sorted(needers)
        )
        tag_delete, disabled = False, None
        if present:
            tag_delete = _tag_delete_supported(self.client, repo)
            if not tag_delete:
                disabled = _deletes_disabled(self.client, repo)
        turns = _Turns(graph, tag_delete)
        deletes = [turns.take(t, full[t]) for t in _ordered(going, full)]
        removed = tuple(dict.fromkeys(p.digest for p in deletes if p.action == "delete-digest"))
        plan = BatchPlan(repo, policy, skipped=skipped, not_found=not_found)
        if disabled is not None:
            reason = f"delete is disabled on {repo.domain} ({disabled[0]} {disabled[1]})"
            refused = tuple(dataclasses.replace(p, action="refuse", reason=reason) for p in deletes)
            return dataclasses.replace(
                plan, deletes=refused, refused=reason, disabled_status=disabled
            )
        referrers: list[ReferrerDelete] = []
        fallbacks: list[DeletePlan] = []
        if delete_referrers and removed:
            kept = set(graph.tags) - {p.tag for p in deletes}
            referrers, fallback_tags = self.referrers(removed, kept)
            fallbacks = [turns.take(t, self.needers(t)) for t in fallback_tags]
        return dataclasses.replace(
            plan,
            deletes=tuple(deletes),
            deleted_manifests=removed,
            referrers=tuple(referrers),
            fallback_tags=tuple(fallbacks),
            subjects=dict(self.subjects),
        )

    def needers(self, tag: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        digest = self.graph.tags[tag].digest
        return self.graph.needers(digest, exclude=tag, ignore=self.own_fallback(digest))

    def own_fallback(self, digest: str) -> set[str]:
        """The fallback tag of the manifest's subject, which lists it only as bookkeeping
        (``delete_tag`` ignores it too). Fetched only when a fallback-shaped tag lists it."""
        found = self.ignored.get(digest)
        if found is None:
            found = self.ignored[digest] = self._own_fallback(digest)
        return found

    def _own_fallback(self, digest: str) -> set[str]:
        roots = self.graph.roots()
        if not any(
            _FALLBACK_SHAPE.fullmatch(t) and r != digest and digest in self.graph.reach(r)
            for t, r in roots.items()
        ):
            return set()
        manifest = self.graph.manifests.get(digest)
        if manifest is None:
            try:
                manifest = self.client.get_manifest(self.repo.with_digest(digest))
            except NotFoundError:  # deleted meanwhile: nothing to keep track of
                return set()
        if manifest.subject is None:
            return set()
        self.subjects[digest] = manifest
        return {fallback_tag(manifest.subject.digest)}

    def referrers(
        self, removed: Iterable[str], kept: set[str]
    ) -> tuple[list[ReferrerDelete], list[str]]:
        """Referrers of the removed manifests that nothing else needs (recursively), and
        the fallback tags that all of a subject's referrers leave empty."""
        queue = list(removed)
        seen = set(queue)
        out: list[ReferrerDelete] = []
        fallbacks: list[str] = []
        while queue:
            subject = queue.pop(0)
            all_go = True
            for desc in self.referrers_of(subject):
                if desc.digest in seen:
                    continue
                try:
                    self.client.head_manifest(self.repo.with_digest(desc.digest))
                except NotFoundError:
                    continue  # a stale listing: nothing to delete
                shared, reached = self.graph.needers(desc.digest, ignore={fallback_tag(subject)})
                if shared or reached:
                    all_go = False  # still tagged, or listed by a tagged index: it stays
                    continue
                seen.add(desc.digest)
                out.append(ReferrerDelete(subject, desc.digest, desc.artifact_type))
                queue.append(desc.digest)
            tag = fallback_tag(subject)
            if all_go and tag in kept and tag not in fallbacks:
                fallbacks.append(tag)
        return out, fallbacks

    def referrers_of(self, subject: str) -> list[Descriptor]:
        """The referrers API's answer; once the registry showed it has none, the fallback
        index from the snapshot (no request)."""
        if self.referrers_api is not False:
            try:
                found = _from_api(self.client, self.repo.with_digest(subject), subject, None)
            except NotFoundError:
                return []
            if found is not None:
                self.referrers_api = True
                return found[0]
            self.referrers_api = False
        desc = self.graph.tags.get(fallback_tag(subject))
        index = self.graph.manifests.get(desc.digest) if desc is not None else None
        return list(index.manifests) if isinstance(index, ImageIndex) else []


def _apply_policy(
    present: list[str],
    full: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]],
    policy: SharedDigest,
) -> tuple[set[str], dict[str, list[str]]]:
    """``(tags to delete, {skipped tag: the staying tags that need its manifest})``."""
    going = set(present)
    needers: dict[str, list[str]] = {}
    while policy != "untag":
        staying = {}
        for tag in sorted(going):
            shared, reached = full[tag]
            users = sorted({t for t in shared + reached if t not in going})
            if users:
                staying[tag] = users
        needers.update(staying)
        going.difference_update(staying)
        # A skipped tag stays, and may need the manifest of another chosen tag.
        if not staying or policy == "fail":
            break
    return going, needers


def _ordered(
    going: set[str], full: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]
) -> list[str]:
    """Index tags before the tags of manifests they list; otherwise by name."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(tag: str) -> None:
        if tag in seen:
            return
        seen.add(tag)
        for parent in sorted(full[tag][1]):
            if parent in going:
                visit(parent)
        order.append(tag)

    for tag in sorted(going):
        visit(tag)
    return order


class _Turns:
    """The tags still there as the plan goes, and the action each tag gets at its turn."""

    def __init__(self, graph: RepositoryGraph, tag_delete: bool) -> None:
        self.graph = graph
        self.tag_delete = tag_delete
        self.remaining = set(graph.tags)

    def take(self, tag: str, needers: tuple[tuple[str, ...], tuple[str, ...]]) -> DeletePlan:
        shared = tuple(t for t in needers[0] if t in self.remaining)
        reached = tuple(t for t in needers[1] if t in self.remaining)
        self.remaining.discard(tag)
        base = DeletePlan(
            self.graph.repository.with_tag(tag),
            tag,
            self.graph.tags[tag].digest,
            "tag-delete",
            shared,
            reached,
        )
        return _decide(base, tag_delete=self.tag_delete)


def _decide(plan: DeletePlan, *, tag_delete: bool) -> DeletePlan:
    """The action and reason ``delete_tag`` gives a tag with these needers."""
    needed = _needed_by(plan.shared_with, plan.reached_by)
    if tag_delete:
        stays = f"; the manifest stays for {needed}" if needed else ""
        reason = f"the registry deletes tags by name{stays}"
        return dataclasses.replace(plan, action="tag-delete", reason=reason)
    if not needed:
        reason = f"no other tag is on {plan.digest} or lists it; deleting it removes {plan.tag}"
        return dataclasses.replace(plan, action="delete-digest", reason=reason)
    reason = (
        f"the manifest stays for {needed}; the registry cannot delete a tag by name, so the"
        " tag is moved to a unique placeholder manifest, which is then deleted"
    )
    return dataclasses.replace(plan, action="untag", reason=reason)


# -- carrying it out -----------------------------------------------------------------------


@dataclass
class BatchResult:
    """What was done (or, from :func:`preview`, what would be).

    Pass your own to :func:`execute` to see how far it got when it raises.

    :ivar deleted: the chosen tags' plans as carried out, in order.
    :ivar not_found: the plan's, plus tags found gone while deleting.
    :ivar deleted_manifests: manifests removed with their last chosen tag.
    :ivar deleted_referrers: referrers removed with their subject.
    :ivar deleted_fallback_tags: emptied referrers fallback tags removed.
    """

    plan: BatchPlan
    executed: bool = False
    deleted: list[DeletePlan] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    deleted_manifests: list[str] = field(default_factory=list)
    deleted_referrers: list[ReferrerDelete] = field(default_factory=list)
    deleted_fallback_tags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for tag in self.plan.not_found:
            if tag not in self.not_found:
                self.not_found.append(tag)

    @property
    def tags(self) -> list[str]:
        """The chosen tags deleted, sorted."""
        return sorted(p.tag for p in self.deleted if p.tag is not None)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON output."""
        return {
            "repository": self.plan.repository.repository,
            "executed": self.executed,
            "deleted": [p.to_dict() for p in self.deleted],
            "skipped": [p.to_dict() for p in self.plan.skipped],
            "not_found": list(self.not_found),
            "deleted_manifests": list(self.deleted_manifests),
            "deleted_referrers": [r.to_dict() for r in self.deleted_referrers],
            "deleted_fallback_tags": list(self.deleted_fallback_tags),
        }


def preview(plan: BatchPlan) -> BatchResult:
    """The result the real run of ``plan`` would report (check mode); sends nothing."""
    if plan.fails:
        return BatchResult(plan)
    return BatchResult(
        plan,
        deleted=list(plan.deletes),
        deleted_manifests=list(plan.deleted_manifests),
        deleted_referrers=list(plan.referrers),
        deleted_fallback_tags=[p.tag for p in plan.fallback_tags if p.tag is not None],
    )


def execute(client: Client, plan: BatchPlan, *, result: BatchResult | None = None) -> BatchResult:
    """Carry ``plan`` out in its order; ``result`` (new by default) is kept up to date.

    A tag, referrer or fallback tag found gone meanwhile is skipped (tags are added to
    ``not_found``).

    :raises UnsupportedError: deletes are disabled; nothing was changed.
    :raises SharedDigestError: ``shared_digest="fail"`` and tags stay that need a chosen
        tag's manifest; nothing was changed.
    :raises DeniedError: the credentials may not delete (or push, for ``untag``).
    """
    if result is None:
        result = BatchResult(plan)
    if plan.disabled_status is not None:
        raise _unsupported(plan.repository, *plan.disabled_status)
    if plan.fails:
        raise SharedDigestError(plan)
    run = _Runner(client, plan)
    for step in plan.deletes:
        try:
            done = run.delete(step)
        except NotFoundError:
            assert step.tag is not None
            result.not_found.append(step.tag)  # deleted meanwhile by someone else
            continue
        result.deleted.append(done)
        if done.action == "delete-digest" and done.digest not in result.deleted_manifests:
            result.deleted_manifests.append(done.digest)
    for referrer in plan.referrers:
        try:
            run.delete_referrer(referrer)
        except NotFoundError:
            continue
        result.deleted_referrers.append(referrer)
    for step in plan.fallback_tags:
        try:
            run.delete(step)
        except NotFoundError:
            continue
        assert step.tag is not None
        result.deleted_fallback_tags.append(step.tag)
    result.executed = True
    return result


def delete_tags(
    client: Client,
    repository: Reference,
    tags: Iterable[str],
    *,
    shared_digest: SharedDigest = "untag",
    delete_referrers: bool = False,
    dry_run: bool = False,
) -> BatchResult:
    """:func:`plan_tag_deletes`, then :func:`execute` it (or :func:`preview`, dry run)."""
    plan = plan_tag_deletes(
        client, repository, tags, shared_digest=shared_digest, delete_referrers=delete_referrers
    )
    return preview(plan) if dry_run else execute(client, plan)


class _Runner:
    def __init__(self, client: Client, plan: BatchPlan) -> None:
        self.client = client
        self.plan = plan
        self.repo = plan.repository
        self.gone = {p.tag for p in (*plan.deletes, *plan.fallback_tags)}
        self.ready = False  # deletability proven and the placeholder's config blob there

    def delete(self, step: DeletePlan) -> DeletePlan:
        client, repo = self.client, self.repo
        if step.action == "tag-delete":
            if capabilities(client).tag_delete.get(repo.domain, True):
                # delete.py's path, which checks that the manifest survived the tag.
                manifest = client.get_manifest(_by_digest(repo, step.digest))
                return _run_tag_delete(client, step, manifest)
            step = _decide(step, tag_delete=False)  # the registry stopped deleting by name
        if step.action == "delete-digest":
            _delete_digest(client, repo, step.digest)
            self._detach(step.digest)
            return dataclasses.replace(step, executed=True)
        if step.action == "untag":
            return self._untag(step)
        raise AssertionError(f"cannot carry out {step.action}")

    def _untag(self, step: DeletePlan) -> DeletePlan:
        """``delete.py``'s untag: move the tag to a unique tiny manifest, delete that by
        digest, and put the tag back if that fails; deletability proven once per run."""
        client, repo = self.client, self.repo
        assert step.tag is not None
        tag_ref = repo.with_tag(step.tag)
        if not self.ready:
            if (repo.domain, repo.path) in capabilities(client).verified:
                _ensure_empty_blob(client, repo)
            else:
                # The plan already asked whether deletes are disabled. The proof (push the
                # empty blob and a probe manifest, delete the probe) still runs, and raises
                # before any tag is moved if deletes were refused after all.
                _ensure_deletable(client, repo, probed=True)
            self.ready = True
        placeholder = str(client.put_manifest(tag_ref, _placeholder(), OCI_MANIFEST))
        try:
            _delete_digest(client, tag_ref, placeholder)
        except NotFoundError:
            pass  # a retried DELETE whose first try worked: the unique placeholder is gone
        except BaseException:
            with contextlib.suppress(OciregError):
                original = client.get_manifest(_by_digest(repo, step.digest))
                client.put_manifest(tag_ref, original.raw, original.media_type)
            raise
        return dataclasses.replace(step, executed=True, placeholder=placeholder)

    def _detach(self, digest: str) -> None:
        """Take a deleted referrer out of its subject's fallback index, unless that tag is
        deleted in this run anyway."""
        manifest = self.plan.subjects.get(digest)
        if manifest is None or manifest.subject is None:
            return
        if fallback_tag(manifest.subject.digest) in self.gone:
            return
        with contextlib.suppress(OciregError):  # the delete itself succeeded; bookkeeping only
            detach_referrer(self.client, self.repo, manifest)

    def delete_referrer(self, referrer: ReferrerDelete) -> None:
        _delete_digest(self.client, self.repo, referrer.digest)
        if fallback_tag(referrer.subject) in self.gone:
            return
        with contextlib.suppress(OciregError):
            _update_fallback(self.client, self.repo, referrer.subject, remove=referrer.digest)
