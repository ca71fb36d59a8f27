"""Carrying a deletion plan out, in its order, with about one request per tag.

:func:`execute` runs the steps of a :class:`~ocireg.deletion.plan.BatchPlan`;
:func:`preview` is what it would report (dry run, Ansible check mode) without sending
anything. A tag, referrer or fallback tag found gone meanwhile is skipped (tags are added to
``not_found``). Each step goes through the mechanism its ``via`` names (:mod:`.native`),
with the same checks whichever it is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time

from ..digest import Digest
from ..errors import (
    NotFoundError,
    OciregError,
    RegistryError,
    SharedDigestError,
    StillReferencedError,
)
from ..manifests import ImageIndex, Manifest
from ..mediatypes import OCI_MANIFEST
from ..reference import Reference
from ..referrers import detach_referrer, fallback_tag, update_fallback
from ..registry_api import RegistryAPI
from ..remote import Remote
from .native import api_for, delete_manifest, disagreement, via_of
from .placeholder import placeholder
from .plan import decide
from .probe import by_digest, ensure_deletable, ensure_empty_blob, unsupported
from .records import BatchPlan, BatchResult, DeletePlan, NotDone, ReferrerDelete
from .verify import Moved, StepCheck, reconcile

__all__ = ["PUT_BACK_TRIES", "execute", "preview"]

#: How often an interrupted untag puts its tag back (and looks), and the pause that grows
#: between tries.
PUT_BACK_TRIES = 4
PUT_BACK_PAUSE = 0.1


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
        recovered=[p.tag for p in plan.recover if p.tag is not None],
    )


def execute(
    remote: Remote, plan: BatchPlan, *, result: BatchResult | None = None, verify: bool = True
) -> BatchResult:
    """Carry ``plan`` out in its order; ``result`` (new by default) is kept up to date.

    With ``verify`` (the default) the plan is first re-checked against the repository as it
    is now and each step right before its destructive request (:mod:`.verify`); steps
    whose premise no longer holds are not carried out but listed in ``not_done`` with the
    reason. Tags an interrupted run left on placeholders are finished first
    (``recovered``). A tag, referrer or fallback tag found gone meanwhile is skipped (tags
    are added to ``not_found``).

    On any exception, ``KeyboardInterrupt`` included, ``result`` says what was done, and
    ``not_done``/``stopped`` what was not and why; a tag being moved to a placeholder is
    put back on its image first.

    :raises UnsupportedError: deletes are disabled; nothing was changed.
    :raises SharedDigestError: ``shared_digest="fail"`` and tags stay that need a chosen
        tag's manifest; nothing was changed.
    :raises SurveyError: the repository could not be re-read consistently; nothing was
        changed.
    :raises DeniedError: the credentials may not delete (or push, for ``untag``).
    """
    if result is None:
        result = BatchResult(plan)
    if plan.disabled_status is not None:
        raise unsupported(plan.repository, *plan.disabled_status)
    if plan.fails:
        raise SharedDigestError(plan)
    todo = list(plan.deletes)
    try:
        if verify and (plan.deletes or plan.recover):
            plan, dropped, gone = reconcile(remote, plan)
            todo = list(plan.deletes)
            result.not_done.extend(dropped)
            result.not_found.extend(t for t in gone if t not in result.not_found)
        run = _Runner(remote, plan)
        for step in plan.recover:
            if run.recover(step):
                assert step.tag is not None
                result.recovered.append(step.tag)
        while todo:
            _one_step(run, todo[0], result)
            todo.pop(0)
        for referrer in plan.referrers:
            with contextlib.suppress(NotFoundError):
                run.delete_referrer(referrer)
                result.deleted_referrers.append(referrer)
        for step in plan.fallback_tags:
            with contextlib.suppress(NotFoundError):
                run.delete(step)
                assert step.tag is not None
                result.deleted_fallback_tags.append(step.tag)
    except BaseException as exc:
        result.stopped = _why_stopped(exc)
        why = f"not done: the run stopped ({result.stopped})"
        result.not_done.extend(NotDone(s.tag, s.digest, why) for s in todo)
        raise
    result.executed = True
    return result


def _one_step(run: _Runner, step: DeletePlan, result: BatchResult) -> None:
    assert step.tag is not None
    try:
        done = run.delete(step)
    except NotFoundError:
        result.not_found.append(step.tag)  # deleted meanwhile by someone else
        return
    except Moved as moved:
        result.not_done.append(NotDone(step.tag, step.digest, f"{moved}; left alone"))
        return
    result.deleted.append(done)
    if done.action == "delete-digest" and done.digest not in result.deleted_manifests:
        result.deleted_manifests.append(done.digest)


def _moved_off(step: DeletePlan, api: RegistryAPI, exc: StillReferencedError) -> DeletePlan:
    """The untag step for a tag ``api`` would not delete because an index lists its image
    (ECR): moved to a placeholder, which the API deletes by digest."""
    why = (
        f"; {api.name} refused to delete the tag while an index lists its image"
        f" ({exc.code or exc.status}), so it is moved to a placeholder, which is deleted"
    )
    return dataclasses.replace(
        step, action="untag", via=via_of("untag", api), reason=step.reason + why
    )


def _why_stopped(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return str(exc) or "interrupted"
    return f"{type(exc).__name__}: {exc}"


class _Runner:
    def __init__(self, remote: Remote, plan: BatchPlan) -> None:
        self.remote = remote
        self.plan = plan
        self.repo = plan.repository
        self.api = api_for(remote, plan.repository)
        self.gone = {p.tag for p in (*plan.deletes, *plan.fallback_tags)}
        self.ready = False  # deletability proven and the placeholder's config blob there
        self.check = StepCheck(remote, plan)
        graph = plan.graph
        #: The tags still there as far as the run knows (the ones a native delete must not
        #: take an image from).
        self.remaining: set[str] = set(graph.tags) if graph is not None else set()

    def delete(self, step: DeletePlan) -> DeletePlan:
        """Carry out one step, after checking its tag still points at the planned digest
        (:class:`Moved` if not, :class:`NotFoundError` if the tag is gone)."""
        try:
            return self._delete(step)
        except NotFoundError:
            self.check.confirm_gone(step)  # believed only when /v2/ agrees
            self.remaining.discard(step.tag or "")
            raise

    def _delete(self, step: DeletePlan) -> DeletePlan:
        self.check.tag_still_on(step)
        api = self.api
        if step.action == "tag-delete" and api is not None and api.tag_delete:
            try:
                return self._gone(self._native_tag_delete(step, api))
            except StillReferencedError as exc:
                if not api.manifest_delete:
                    raise
                step = _moved_off(step, api, exc)  # then untagged below
        if step.action == "tag-delete":
            if self.remote.capabilities.tag_delete.get(self.repo.domain, True):
                return self._gone(self._tag_delete(step))
            step = decide(step, tag_delete=False, api=api)  # the registry stopped deleting by name
        if step.action == "delete-digest":
            step = self.check.before_delete_digest(step)
        if step.action == "delete-digest":
            delete_manifest(self.remote, api, self.repo, step.digest)
            self._detach(step.digest)
            done = dataclasses.replace(step, executed=True, via=via_of(step.action, api))
            return self._gone(done)
        if step.action == "untag":
            return self._gone(self._untag(step))
        raise AssertionError(f"cannot carry out {step.action}")

    def _gone(self, done: DeletePlan) -> DeletePlan:
        self.remaining.discard(done.tag or "")
        return done

    def recover(self, step: DeletePlan) -> bool:
        """Finish a tag an interrupted run left on a placeholder: delete the placeholder
        (unique, so it takes only that tag along), or only the tag where a native API
        deletes tags but not manifests. False when the tag moved or went."""
        assert step.tag is not None
        api = self.api
        try:
            self.check.tag_still_on(step)
            if api is not None and api.tag_delete and not api.manifest_delete:
                self._native_delete_tag(step, api)
            else:
                delete_manifest(self.remote, api, self.repo, step.digest)
        except (NotFoundError, Moved):
            return False
        self.remaining.discard(step.tag)
        return True

    def _native_delete_tag(self, step: DeletePlan, api: RegistryAPI) -> None:
        """``api.delete_tag``; its 404 is believed only when /v2/ agrees."""
        assert step.tag is not None
        try:
            api.delete_tag(self.repo, step.tag)
        except NotFoundError:
            self.check.tag_still_on(step)  # NotFoundError: gone; Moved: someone else's now
            raise disagreement(api, self.repo, f"tag {step.tag}") from None

    def _native_tag_delete(self, step: DeletePlan, api: RegistryAPI) -> DeletePlan:
        """A native tag delete, then the check that what kept tags need survived it (an
        image may go with its last tag, as on ECR, and an index's children with it): what
        went is pushed back."""
        needed = self._needed_by_others(step)
        # Fetched before: pushing back must need nothing but PUTs.
        saved = [self.remote.get_manifest(by_digest(self.repo, d)) for d in needed]
        self._native_delete_tag(step, api)
        restored = [
            str(m.digest)
            for m in saved  # children before the indexes that list them
            if self._keep_present(m, step.shared_with if str(m.digest) == step.digest else ())
        ]
        done = dataclasses.replace(step, executed=True, via=via_of(step.action, api))
        if not restored:
            return done
        why = (
            f"; {api.name} deleted {', '.join(map(str, restored))} along with the tag, so it"
            " was pushed back"
        )
        return dataclasses.replace(done, reason=step.reason + why)

    def _needed_by_others(self, step: DeletePlan) -> list[str]:
        """The manifests its index lists that a remaining tag (other than this one) needs,
        images before indexes, then the step's digest when a tag still needs it."""
        own = [step.digest] if step.shared_with or step.reached_by else []
        graph = self.plan.graph
        if graph is None:
            return own
        others = self.remaining - {step.tag}
        children = []
        for child in sorted(graph.reach(step.digest) - {step.digest}):
            shared, reached = graph.needers(child)
            if others.intersection(shared + reached):
                children.append(child)
        children.sort(key=lambda d: isinstance(graph.manifests.get(d), ImageIndex))
        return children + own

    def _keep_present(self, manifest: Manifest, tags: tuple[str, ...]) -> bool:
        """Make sure ``manifest`` is still there; push it back (and re-point ``tags``)
        when it is not. Guarded like :meth:`_put_back`: errors are tried again, interrupts
        held back until it is done. True when it was pushed back."""
        pending: BaseException | None = None
        pushed = there = False
        last: BaseException = RegistryError(
            f"{manifest.digest} keeps disappearing from {self.repo.repository}",
            status=409,
            operation="restore manifest",
            registry=self.repo.domain,
        )
        for attempt in range(PUT_BACK_TRIES):
            try:
                if attempt:
                    time.sleep(PUT_BACK_PAUSE * attempt)
                try:
                    self.remote.head_manifest(by_digest(self.repo, manifest.digest))
                    there = True
                    break
                except NotFoundError:
                    self._restore(manifest, tags)  # and look again
                    pushed = True
            except OciregError as exc:
                last = exc
            except KeyboardInterrupt as exc:
                pending = exc
        if pending is not None:
            raise pending
        if not there:
            raise last
        return pushed

    def _tag_delete(self, step: DeletePlan) -> DeletePlan:
        """The OCI ``DELETE`` by tag, checking that the manifest survived it."""
        remote, repo, tag = self.remote, self.repo, step.tag
        assert tag is not None
        manifest = remote.get_manifest(by_digest(repo, step.digest))
        status, code = remote.try_delete_manifest(repo.with_tag(tag), tag)
        if not 200 <= status < 300:
            # The probe said yes, the real tag says no: do what registries without it get.
            remote.capabilities.tag_delete[repo.domain] = False
            done = self.delete(decide(step, tag_delete=False, api=self.api))
            why = f" (DELETE by tag answered {status} {code})".replace(" )", ")")
            return dataclasses.replace(done, reason=done.reason + why)
        try:
            remote.head_manifest(by_digest(repo, step.digest))
        except NotFoundError:
            # The registry deleted the manifest with the tag (as zot did before 2024): never
            # delete by tag here again, and if anything needed it, push it back and re-point
            # the tags it took along.
            remote.capabilities.tag_delete[repo.domain] = False
            if step.shared_with or step.reached_by:
                self._restore(manifest, step.shared_with)
                why = (
                    "; the registry deleted the manifest along with the tag, so it was pushed back"
                )
                return dataclasses.replace(step, executed=True, reason=step.reason + why)
        return dataclasses.replace(step, executed=True)

    def _restore(self, manifest: Manifest, tags: tuple[str, ...]) -> None:
        raw, media_type = manifest.raw, manifest.media_type
        self.remote.put_manifest(by_digest(self.repo, manifest.digest), raw, media_type)
        for other in tags:
            self.remote.put_manifest(self.repo.with_tag(other), raw, media_type)

    def _untag(self, step: DeletePlan) -> DeletePlan:
        """Move the tag to a unique tiny manifest, delete that by digest, and put the tag
        back if that fails; deletability proven once per run."""
        remote, repo = self.remote, self.repo
        assert step.tag is not None
        tag_ref = repo.with_tag(step.tag)
        if not self.ready:
            if (repo.domain, repo.path) in remote.capabilities.delete_verified:
                ensure_empty_blob(remote, repo)
            else:
                # The plan already asked whether deletes are disabled. The proof (push the
                # empty blob and a probe manifest, delete the probe) still runs, and raises
                # before any tag is moved if deletes were refused after all.
                ensure_deletable(remote, repo, probed=True, delete=self._delete_digest)
            self.ready = True
        # Fetched before the move: putting the tag back must need nothing but one PUT.
        original = remote.get_manifest(by_digest(repo, step.digest))
        raw = placeholder(step.digest)
        moved = str(Digest.of(raw))
        try:
            # The guard covers the PUT itself: interrupted while it is on the wire, the tag
            # may or may not have moved, and is put back either way.
            remote.put_manifest(tag_ref, raw, OCI_MANIFEST)
            self._delete_placeholder(tag_ref, moved)
        except BaseException:
            self._put_back(tag_ref, original)
            raise
        via = via_of("untag", self.api)
        return dataclasses.replace(step, executed=True, placeholder=moved, via=via)

    def _delete_digest(self, digest: str) -> None:
        delete_manifest(self.remote, self.api, self.repo, digest)

    def _delete_placeholder(self, tag_ref: Reference, moved: str) -> None:
        """Delete the placeholder the tag was moved to. A 404 is believed only when the tag
        is seen gone (or elsewhere) afterwards: a retried DELETE whose first try worked
        answers 404, but so may a broken proxy, and the tag must not stay on it."""
        for _ in range(2):
            try:
                self._delete_digest(moved)
                return
            except NotFoundError:
                try:
                    now = self.remote.head_manifest(tag_ref).digest
                except NotFoundError:
                    return  # the tag is gone: done
                if now != moved:
                    return  # someone pushed the tag again meanwhile: theirs now
        raise Moved(f"{tag_ref.tag} stays on placeholder {moved}, whose DELETE answers 404")

    def _put_back(self, tag_ref: Reference, original: Manifest) -> None:
        """Point the tag at its original manifest again, and look that it stayed there: the
        interrupted request may reach the registry after ours (a proxy in between), so a
        tag seen elsewhere is put back again, a few times. Further interrupts while doing so
        are held back until it is done; a registry that refuses leaves the placeholder to
        the next run, which recovers it."""
        pending: BaseException | None = None
        want = str(original.digest)
        for attempt in range(PUT_BACK_TRIES):
            try:
                if attempt:
                    time.sleep(PUT_BACK_PAUSE * attempt)
                self.remote.put_manifest(tag_ref, original.raw, original.media_type)
                if self.remote.head_manifest(tag_ref).digest == want:
                    break
            except OciregError:
                break
            except KeyboardInterrupt as exc:
                pending = exc
        if pending is not None:
            raise pending

    def _detach(self, digest: str) -> None:
        """Take a deleted referrer out of its subject's fallback index, unless that tag is
        deleted in this run anyway."""
        manifest = self.plan.subjects.get(digest)
        if manifest is None or manifest.subject is None:
            return
        if fallback_tag(manifest.subject.digest) in self.gone:
            return
        with contextlib.suppress(OciregError):  # the delete itself succeeded; bookkeeping only
            detach_referrer(self.remote, self.repo, manifest)

    def delete_referrer(self, referrer: ReferrerDelete) -> None:
        self._delete_digest(referrer.digest)
        if fallback_tag(referrer.subject) in self.gone:
            return
        with contextlib.suppress(OciregError):
            update_fallback(self.remote, self.repo, referrer.subject, remove=referrer.digest)
