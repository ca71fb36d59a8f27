"""The deletion rules, once: what each chosen tag gets, in which order, and why.

The rules (``delete_tag`` of one tag is this with one tag):

1. Tags that do not exist are reported in :attr:`BatchPlan.not_found`.
2. ``shared_digest`` decides about a chosen tag whose manifest is still needed by a tag that
   *stays* (same digest, or listed by the index of a kept tag); a tag deleted in the same
   run does not count. ``untag`` deletes the tag only; ``skip`` leaves it (repeated until
   no skipped tag changes the answer: a skipped tag stays, and may need another chosen
   tag's manifest); ``fail`` makes execution raise :class:`SharedDigestError` before
   anything changes. Skipped tags are in :attr:`BatchPlan.skipped`.
3. Order: an index tag before the tags of the manifests it lists (so deleting both removes
   both manifests), otherwise by name.
4. At its turn each tag gets an action (:func:`decide`) whose ``shared_with``/``reached_by``
   name the tags still there then: ``tag-delete`` where the registry deletes tags by name
   (the OCI ``DELETE`` by tag removes exactly the tag); else ``delete-digest`` when no tag
   left needs the manifest (it goes with its last tag, and is listed in
   :attr:`BatchPlan.deleted_manifests`), else ``untag`` (the tag is moved to a unique tiny
   placeholder manifest, which is then deleted by digest: regclient's trick).
5. With ``delete_referrers``, the referrers (signatures, SBOMs) of the removed manifests
   that nothing else needs, recursively, and then their emptied referrers fallback tags.
6. A registry with deletes disabled is detected while planning (:mod:`.probe`, cached per
   client), so every step is ``refuse`` and execution raises
   :class:`~ocireg.errors.UnsupportedError` before any change.
7. Where a plugin offers a registry-native API (:mod:`.native`) that deletes, no probe is
   sent: with ``tag_delete`` every tag gets ``tag-delete`` through it; with only
   ``manifest_delete``, ``delete-digest`` and ``untag`` delete by digest through it. Each
   step's ``via`` names the mechanism.

Planning sends no request that changes anything a user can see.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Literal, get_args

from ..errors import NotFoundError
from ..manifests import Descriptor, ImageIndex, Manifest
from ..reference import TAG_PATTERN, Reference
from ..referrers import fallback_tag, from_api, is_fallback_tag
from ..registry_api import RegistryAPI
from ..remote import Remote
from .graph import RepositoryGraph, repository_of, snapshot
from .native import api_for, deletes_natively, learnt_line, via_of
from .probe import deletes_disabled, disabled_reason, tag_delete_supported
from .records import BatchPlan, DeletePlan, ReferrerDelete, SharedDigest

__all__ = [
    "decide",
    "needed_by",
    "plan_tag_deletes",
]

_POLICIES: tuple[str, ...] = get_args(SharedDigest)


def needed_by(shared: Iterable[str], reached: Iterable[str]) -> str:
    parts = []
    if shared:
        parts.append("tags " + ", ".join(shared))
    if reached:
        parts.append("the indexes of tags " + ", ".join(reached))
    return " and ".join(parts)


def plan_tag_deletes(
    remote: Remote,
    repository: Reference,
    tags: Iterable[str],
    *,
    shared_digest: SharedDigest = "untag",
    delete_referrers: bool = False,
    graph: RepositoryGraph | None = None,
    probe: bool = True,
) -> BatchPlan:
    """Decide how to delete ``tags`` of ``repository``; changes nothing a user can see.

    ``probe=False`` skips the probes for a caller that knows the registry: deletes are then
    assumed enabled and ``DELETE`` by tag unsupported (distribution's behaviour) unless this
    client already learnt otherwise; :attr:`BatchPlan.learnt` says which it was.

    Requests: the :func:`snapshot` (unless ``graph`` is given), ``delete_tag``'s two probes
    (a ``DELETE`` of a tag and of a digest that do not exist; cached per client when they
    tell something lasting; none where a native API deletes), a ``GET`` of the rare chosen
    manifest a referrers fallback index lists (to learn its subject), and with
    ``delete_referrers`` the referrers of each removed manifest plus a ``HEAD`` per
    referrer.

    :raises ValueError: an unknown ``shared_digest``, a chosen name that is no tag, or a
        ``graph`` of another repository.
    """
    if shared_digest not in _POLICIES:
        raise ValueError(f"shared_digest must be one of {', '.join(_POLICIES)}: {shared_digest!r}")
    if isinstance(tags, str):
        raise TypeError("tags must be an iterable of tag names, not one string")
    repo = repository_of(repository)
    chosen = list(dict.fromkeys(tags))
    bad = [t for t in chosen if not TAG_PATTERN.fullmatch(t)]
    if bad:
        raise ValueError(f"not tags: {', '.join(map(repr, bad[:5]))}")
    if not chosen:
        return BatchPlan(repo, shared_digest)  # nothing to look at
    if graph is None:
        graph = snapshot(remote, repo)
    elif graph.repository.repository != repo.repository:
        raise ValueError(f"the graph is of {graph.repository.repository}, not {repo.repository}")
    plan = _Planner(remote, repo, graph, probe).plan(chosen, shared_digest, delete_referrers)
    return dataclasses.replace(
        plan, chosen=tuple(chosen), delete_referrers=delete_referrers, graph=graph
    )


class _Planner:
    def __init__(
        self, remote: Remote, repo: Reference, graph: RepositoryGraph, probe: bool
    ) -> None:
        self.remote, self.repo, self.graph, self.probe = remote, repo, graph, probe
        self.api = api_for(remote, repo)
        self.subjects: dict[str, Manifest] = {}
        self.ignored: dict[str, set[str]] = {}  # digest -> its own fallback tag, if any
        self.referrers_api: bool | None = None
        #: How the plan learnt what the registry allows (set by :meth:`capabilities`).
        self.learnt: tuple[str, ...] = ()

    def plan(self, chosen: list[str], policy: SharedDigest, delete_referrers: bool) -> BatchPlan:
        graph, repo = self.graph, self.repo
        stale = graph.placeholders()
        recover = tuple(
            DeletePlan(
                repo.with_tag(t),
                t,
                d,
                "recover",
                reason="an interrupted run left this tag on a placeholder; deleting the"
                " placeholder finishes removing the tag",
            )
            for t, d in stale.items()
        )
        present = [t for t in chosen if t in graph.tags and t not in stale]
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
        tag_delete, disabled = self.capabilities(bool(present or recover))
        recover = tuple(dataclasses.replace(p, via=via_of("recover", self.api)) for p in recover)
        turns = _Turns(graph, tag_delete, self.api)
        deletes = [turns.take(t, full[t]) for t in _ordered(going, full)]
        removed = tuple(dict.fromkeys(p.digest for p in deletes if p.action == "delete-digest"))
        listed = (
            (f"tags listed through {self.api.name} ({graph.listing})",)
            if graph.listing and self.api is not None
            else ()
        )
        plan = BatchPlan(
            repo,
            policy,
            skipped=skipped,
            not_found=not_found,
            recover=recover,
            learnt=self.learnt + listed,
        )
        if disabled is not None:
            reason = disabled_reason(repo, disabled)
            refused = tuple(
                dataclasses.replace(p, action="refuse", reason=reason, via=None) for p in deletes
            )
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

    def capabilities(self, needed: bool) -> tuple[bool, tuple[int, str] | None]:
        """``(DELETE by tag works, (status, code) if deletes are disabled)``, probed unless
        ``probe=False``; :attr:`learnt` says how each answer was come by."""
        if not needed:
            return False, None
        if self.api is not None and deletes_natively(self.api):
            self.learnt = (learnt_line(self.api),)
            return bool(self.api.tag_delete), None
        caps, domain = self.remote.capabilities, self.repo.domain
        if not self.probe:
            known = caps.tag_delete.get(domain, False)
            self.learnt = (
                "not probed (probe=False): deletes assumed enabled, DELETE by tag assumed"
                + (" to work (learnt earlier by this client)" if known else " not to work"),
            )
            return known, None
        tag_delete = tag_delete_supported(self.remote, self.repo)
        disabled = None if tag_delete else deletes_disabled(self.remote, self.repo)
        notes = [caps.notes.get((domain, what)) for what in ("tag-delete", "deletes")]
        self.learnt = tuple(n for n in notes if n) or ("learnt earlier by this client",)
        return tag_delete, disabled

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
            is_fallback_tag(t) and r != digest and digest in self.graph.reach(r)
            for t, r in roots.items()
        ):
            return set()
        manifest = self.graph.manifests.get(digest)
        if manifest is None:
            try:
                manifest = self.remote.get_manifest(self.repo.with_digest(digest))
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
                    self.remote.head_manifest(self.repo.with_digest(desc.digest))
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
                found = from_api(self.remote, self.repo.with_digest(subject), subject, None)
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

    def __init__(self, graph: RepositoryGraph, tag_delete: bool, api: RegistryAPI | None) -> None:
        self.graph = graph
        self.tag_delete = tag_delete
        self.api = api
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
        return decide(base, tag_delete=self.tag_delete, api=self.api)


def decide(plan: DeletePlan, *, tag_delete: bool, api: RegistryAPI | None = None) -> DeletePlan:
    """The action, ``via`` and reason ``delete_tag`` gives a tag with these needers
    (``api``: the registry-native API, if a plugin offers one)."""
    needed = needed_by(plan.shared_with, plan.reached_by)
    if tag_delete:
        who = api.name if api is not None and api.tag_delete else "the registry"
        stays = f"; the manifest stays for {needed}" if needed else ""
        reason = f"{who} deletes tags by name{stays}"
        return dataclasses.replace(
            plan, action="tag-delete", reason=reason, via=via_of("tag-delete", api)
        )
    native = api.name if api is not None and api.manifest_delete else None
    if not needed:
        reason = f"no other tag is on {plan.digest} or lists it; deleting it removes {plan.tag}"
        return dataclasses.replace(
            plan, action="delete-digest", reason=reason, via=via_of("delete-digest", api)
        )
    who = native or "the registry"
    reason = (
        f"the manifest stays for {needed}; {who} cannot delete a tag by name, so the tag is"
        " moved to a unique placeholder manifest, which is then deleted"
    )
    return dataclasses.replace(plan, action="untag", reason=reason, via=via_of("untag", api))
