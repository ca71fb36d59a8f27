"""Execution re-checks its plan: a plan made minutes ago must be as safe as a fresh one.

Before the first destructive request, :func:`reconcile` reads the repository again (a new
:func:`~ocireg.deletion.graph.snapshot`) and plans the same tags on it. A step runs only
when its tag still points at the planned digest, and with the action the rules give *now*:
a ``delete-digest`` whose manifest a tag pushed since the plan needs becomes an ``untag``;
a tag moved to another image, or one that a tag pushed since then keeps under
``shared_digest="skip"``, is left alone and reported in ``not_done``.

Right before each destructive request, :class:`StepCheck` looks again at what that step
relies on: the tag still points at the planned digest (one ``HEAD``), and before a
``delete-digest`` no tag the run does not know reaches that digest (the tag list is read
again, and only new tags are looked at: the registry has no "tags of a digest" query).
These checks go through the Registry HTTP API whichever mechanism then deletes (a
registry-native API's included, :mod:`.native`): /v2/ is what pulls see.

What remains is the window between the last check and the ``DELETE`` itself (a few
milliseconds on a fast registry): a tag pushed onto the digest in that window goes with
it. No Registry HTTP API call can close it, because the API has no conditional delete
(``If-Match`` on a manifest ``DELETE``) and no lock; only the registry itself could do it.
"""

from __future__ import annotations

import dataclasses

from ..errors import NotFoundError, RegistryError
from ..remote import Remote
from .graph import index_reach, snapshot
from .native import api_for
from .plan import decide, plan_tag_deletes
from .probe import by_digest
from .records import BatchPlan, DeletePlan, NotDone

__all__ = ["Moved", "StepCheck", "reconcile"]


class Moved(Exception):
    """A step's premise no longer holds; the message says why (internal to the engine)."""


def reconcile(remote: Remote, plan: BatchPlan) -> tuple[BatchPlan, list[NotDone], list[str]]:
    """The plan as the repository is now: ``(plan to run, steps dropped, tags gone)``.

    The plan to run holds only steps of the original plan (same tag, same digest), in the
    order and with the actions the rules give on the new snapshot; referrers and fallback
    tags only those the original plan named. Tags left on placeholders are recovered
    whatever the original plan said.
    """
    graph = snapshot(remote, plan.repository)
    fresh = plan_tag_deletes(
        remote,
        plan.repository,
        plan.chosen,
        shared_digest=plan.shared_digest,
        delete_referrers=plan.delete_referrers,
        graph=graph,
    )
    planned = {p.tag: p for p in plan.deletes}
    now = {p.tag: p for p in fresh.deletes}
    kept_now = {p.tag: p for p in fresh.skipped}
    dropped: list[NotDone] = []
    gone: list[str] = []
    stale = graph.placeholders()  # recovered by the fresh plan, whatever was planned
    for tag, step in planned.items():
        assert tag is not None
        current = graph.tags.get(tag)
        if current is None or tag in stale:
            if current is None:
                gone.append(tag)
            continue
        if current.digest != step.digest:
            why = f"{tag} now points at {current.digest}, not the planned {step.digest}; left alone"
            dropped.append(NotDone(tag, step.digest, why))
        elif tag in kept_now:
            why = f"since the plan, {kept_now[tag].reason}; left alone"
            dropped.append(NotDone(tag, step.digest, why))
    keep = {
        t
        for t, p in planned.items()
        if t is not None and t in now and graph.tags[t].digest == p.digest
    }
    steps = []
    for step in fresh.deletes:
        if step.tag in keep:
            old = planned[step.tag]
            if old.action != step.action:
                why = f"; planned as {old.action}, now {step.action}: the repository changed"
                step = dataclasses.replace(step, reason=step.reason + why)
            steps.append(step)
    referrers = {r.digest for r in plan.referrers}
    fallbacks = {p.tag for p in plan.fallback_tags}
    return (
        dataclasses.replace(
            fresh,
            deletes=tuple(steps),
            deleted_manifests=tuple(
                dict.fromkeys(p.digest for p in steps if p.action == "delete-digest")
            ),
            referrers=tuple(r for r in fresh.referrers if r.digest in referrers),
            fallback_tags=tuple(p for p in fresh.fallback_tags if p.tag in fallbacks),
        ),
        dropped,
        gone,
    )


class StepCheck:
    """The checks right before each destructive request of one run."""

    def __init__(self, remote: Remote, plan: BatchPlan) -> None:
        self.remote = remote
        self.repo = plan.repository
        graph = plan.graph
        #: Tags the run has looked at (their needs are in the plan); others are new.
        self.known: set[str] = set(graph.tags) if graph is not None else set()

    def tag_still_on(self, step: DeletePlan) -> None:
        """:class:`Moved` unless the step's tag still points at its planned digest;
        :class:`NotFoundError` when it is gone."""
        assert step.tag is not None
        now = self.remote.head_manifest(self.repo.with_tag(step.tag)).digest
        if now != step.digest:
            raise Moved(f"{step.tag} now points at {now}, not the planned {step.digest}")

    def confirm_gone(self, step: DeletePlan) -> None:
        """After a step met a 404: return when /v2/ agrees its tag is gone (its ``HEAD``
        answers 404 again and the tag list no longer names it), else raise a
        :class:`~ocireg.errors.RegistryError` that stops the run. A tag wrongly believed
        gone would let later steps take what it still needs."""
        assert step.tag is not None
        try:
            now = self.remote.head_manifest(self.repo.with_tag(step.tag)).digest
        except NotFoundError:
            try:
                listed = step.tag in self.remote.tags(self.repo)
            except NotFoundError:
                return  # the repository is gone
            if not listed:
                return
            now = "nothing (its HEAD answers 404) although the tag list names it"
        raise RegistryError(
            f"{self.repo.repository}: a request for {step.tag} answered 404, but {step.tag}"
            f" points at {now}; stopped (the result says what was done)",
            status=409,
            operation="delete",
            registry=self.repo.domain,
        )

    def new_needers(self, digest: str) -> tuple[str, ...]:
        """Tags the run did not know that now reach ``digest`` (on it, or by an index)."""
        listed = set(self.remote.tags(self.repo))
        new = sorted(listed - self.known)
        found: dict[str, str] = {}
        for tag in new:
            try:
                found[tag] = self.remote.head_manifest(self.repo.with_tag(tag)).digest
            except NotFoundError:
                continue
        needers = []
        for tag, on in found.items():
            if on == digest or self.reaches(on, digest):
                needers.append(tag)
        self.known.update(t for t in found if t not in needers)
        return tuple(needers)

    def reaches(self, root: str, digest: str) -> bool:
        """Whether the manifest ``root`` is an index that lists ``digest``, at any depth."""
        fetch = self.remote.get_manifest
        return digest in index_reach(root, lambda d: fetch(by_digest(self.repo, d)))

    def before_delete_digest(self, step: DeletePlan) -> DeletePlan:
        """The step to run: itself, or an ``untag`` when a tag the run did not know now
        needs its manifest."""
        needers = self.new_needers(step.digest)
        if not needers:
            return step
        shared = tuple(sorted({*step.shared_with, *needers}))
        api = api_for(self.remote, self.repo)
        untag = decide(dataclasses.replace(step, shared_with=shared), tag_delete=False, api=api)
        why = f"; tags {', '.join(needers)} reached {step.digest} after the plan"
        return dataclasses.replace(untag, reason=untag.reason + why)
