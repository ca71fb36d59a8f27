"""Carrying a deletion plan out, in its order, with about one request per tag.

:func:`execute` runs the steps of a :class:`~ocireg.deletion.plan.BatchPlan`;
:func:`preview` is what it would report (dry run, Ansible check mode) without sending
anything. A tag, referrer or fallback tag found gone meanwhile is skipped (tags are added to
``not_found``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..errors import NotFoundError, OciregError, SharedDigestError
from ..manifests import Manifest
from ..mediatypes import OCI_MANIFEST
from ..referrers import detach_referrer, fallback_tag, update_fallback
from ..remote import Remote
from .placeholder import placeholder
from .plan import BatchPlan, DeletePlan, ReferrerDelete, decide
from .probe import (
    by_digest,
    delete_digest,
    ensure_deletable,
    ensure_empty_blob,
    unsupported,
)

__all__ = ["BatchResult", "execute", "preview"]


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


def execute(remote: Remote, plan: BatchPlan, *, result: BatchResult | None = None) -> BatchResult:
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
        raise unsupported(plan.repository, *plan.disabled_status)
    if plan.fails:
        raise SharedDigestError(plan)
    run = _Runner(remote, plan)
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


class _Runner:
    def __init__(self, remote: Remote, plan: BatchPlan) -> None:
        self.remote = remote
        self.plan = plan
        self.repo = plan.repository
        self.gone = {p.tag for p in (*plan.deletes, *plan.fallback_tags)}
        self.ready = False  # deletability proven and the placeholder's config blob there

    def delete(self, step: DeletePlan) -> DeletePlan:
        if step.action == "tag-delete":
            if self.remote.capabilities.tag_delete.get(self.repo.domain, True):
                return self._tag_delete(step)
            step = decide(step, tag_delete=False)  # the registry stopped deleting by name
        if step.action == "delete-digest":
            delete_digest(self.remote, self.repo, step.digest)
            self._detach(step.digest)
            return dataclasses.replace(step, executed=True)
        if step.action == "untag":
            return self._untag(step)
        raise AssertionError(f"cannot carry out {step.action}")

    def _tag_delete(self, step: DeletePlan) -> DeletePlan:
        """The OCI ``DELETE`` by tag, checking that the manifest survived it."""
        remote, repo, tag = self.remote, self.repo, step.tag
        assert tag is not None
        manifest = remote.get_manifest(by_digest(repo, step.digest))
        status, code = remote.try_delete_manifest(repo.with_tag(tag), tag)
        if not 200 <= status < 300:
            # The probe said yes, the real tag says no: do what registries without it get.
            remote.capabilities.tag_delete[repo.domain] = False
            done = self.delete(decide(step, tag_delete=False))
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
                ensure_deletable(remote, repo, probed=True)
            self.ready = True
        moved, _ = remote.put_manifest(tag_ref, placeholder(), OCI_MANIFEST)
        try:
            delete_digest(remote, tag_ref, str(moved.digest))
        except NotFoundError:
            pass  # a retried DELETE whose first try worked: the unique placeholder is gone
        except BaseException:
            with contextlib.suppress(OciregError):
                original = remote.get_manifest(by_digest(repo, step.digest))
                remote.put_manifest(tag_ref, original.raw, original.media_type)
            raise
        return dataclasses.replace(step, executed=True, placeholder=str(moved.digest))

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
        delete_digest(self.remote, self.repo, referrer.digest)
        if fallback_tag(referrer.subject) in self.gone:
            return
        with contextlib.suppress(OciregError):
            update_fallback(self.remote, self.repo, referrer.subject, remove=referrer.digest)
