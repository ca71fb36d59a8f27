"""Deleting one reference: a tag through the batch engine, a digest on a path of its own.

``delete_tag(repo:tag)`` is ``delete_tags(repo, [tag])`` reported as one
:class:`~ocireg.deletion.plan.DeletePlan`: the same survey, the same rules, the same runner.
``repo:tag@digest`` adds a guard: when the tag no longer points at that digest, the plan is
``skip`` and nothing is sent that changes anything.

``delete_tag(repo@digest)`` deletes the manifest by digest (``delete-digest``) when no tag
is on it and no tagged index lists it (through a registry-native API where a plugin offers
manifest deletes, :mod:`.native`). Otherwise it is refused (``refuse``;
:class:`~ocireg.errors.DeleteRefusedError` names the tags) unless ``force=True``, which
deletes it anyway: every tag on it disappears and the listed indexes lose a child.

``dry_run=True`` sends only requests that change nothing (``GET``/``HEAD``, and ``DELETE``
of names that do not exist, to learn what the registry supports) and returns the plan the
real call would carry out, with ``executed=False``. Where the real call would raise
:class:`~ocireg.errors.DeleteRefusedError` or :class:`~ocireg.errors.UnsupportedError`
(deletes disabled), the dry run returns a ``refuse`` plan saying why.

Deleting a tag that does not exist raises :class:`~ocireg.errors.NotFoundError` (callers that
want idempotence treat it as already gone).
"""

from __future__ import annotations

import contextlib
import dataclasses

from ..errors import (
    DeleteRefusedError,
    InvalidReferenceError,
    NotFoundError,
    OciregError,
    RegistryErrorDetail,
)
from ..reference import Reference
from ..referrers import detach_referrer, fallback_tag
from ..remote import Remote
from .graph import repository_of, snapshot
from .native import api_for, delete_manifest, via_of
from .plan import needed_by, plan_tag_deletes
from .probe import deletes_disabled, disabled_reason, unsupported
from .records import DeletePlan
from .run import execute

__all__ = ["delete_tag"]


def delete_tag(
    remote: Remote, ref: Reference, *, force: bool = False, dry_run: bool = False
) -> DeletePlan:
    """Remove the tag of ``ref`` and nothing else; see the module docstring for the rules.

    :raises NotFoundError: the tag (or digest) does not exist.
    :raises DeleteRefusedError: a digest reference that tags still need, without ``force``.
    :raises UnsupportedError: the registry does not allow deletes; nothing was changed.
    :raises DeniedError: the credentials may not delete (or push, for ``untag``).
    """
    if ref.tag is None and ref.digest is None:
        raise InvalidReferenceError(str(ref), "name the tag or digest to delete")
    if ref.tag is None:
        return _delete_digest_ref(remote, ref, force=force, dry_run=dry_run)
    return _delete_tag_ref(remote, ref, dry_run=dry_run)


def _delete_tag_ref(remote: Remote, ref: Reference, *, dry_run: bool) -> DeletePlan:
    tag = ref.tag
    assert tag is not None
    repo = repository_of(ref)
    graph = snapshot(remote, repo)
    found = graph.tags.get(tag)
    if found is None:
        raise _tag_not_found(ref, tag)
    if ref.digest and ref.digest != found.digest:
        reason = f"{tag} now points at {found.digest}, not {ref.digest}; left alone"
        return DeletePlan(ref, tag, ref.digest, "skip", reason=reason)
    plan = plan_tag_deletes(remote, repo, [tag], graph=graph)
    step = plan.deletes[0]
    if plan.disabled_status is not None and not dry_run:
        raise unsupported(repo, *plan.disabled_status)
    if dry_run:
        return dataclasses.replace(step, ref=ref)
    result = execute(remote, plan)
    if not result.deleted:
        raise _tag_not_found(ref, tag)  # gone meanwhile
    return dataclasses.replace(result.deleted[0], ref=ref)


def _tag_not_found(ref: Reference, tag: str) -> NotFoundError:
    return NotFoundError(
        f"delete tag {ref.domain}/{ref.path}:{tag}: 404 MANIFEST_UNKNOWN: manifest unknown",
        status=404,
        errors=(RegistryErrorDetail("MANIFEST_UNKNOWN", "manifest unknown"),),
        operation="delete tag",
        registry=ref.domain,
    )


def _delete_digest_ref(remote: Remote, ref: Reference, *, force: bool, dry_run: bool) -> DeletePlan:
    digest = ref.digest
    assert digest is not None
    manifest = remote.get_manifest(ref)  # verified against the digest
    repo = repository_of(ref)
    graph = snapshot(remote, repo)
    ignore = {fallback_tag(manifest.subject.digest)} if manifest.subject else set()
    shared, reached = graph.needers(digest, ignore=ignore)
    api = api_for(remote, repo)
    native = api is not None and bool(api.manifest_delete)
    via = via_of("delete-digest", api)
    plan = DeletePlan(ref, None, digest, "delete-digest", shared, reached, via=via)
    if shared or reached:
        needed = needed_by(shared, reached)
        if not force:
            reason = f"{digest} is still needed by {needed}; pass force=True to delete it anyway"
            plan = dataclasses.replace(plan, action="refuse", reason=reason, via=None)
            if dry_run:
                return plan
            raise DeleteRefusedError(f"refusing to delete {ref}: {reason}", plan=plan)
        plan = dataclasses.replace(
            plan, reason=f"forced: deleting {digest} although {needed} still need it"
        )
    else:
        plan = dataclasses.replace(plan, reason=f"no tag is on {digest} or lists it")
    if dry_run:
        answer = None if native else deletes_disabled(remote, ref)
        if answer is None:
            return plan
        reason = disabled_reason(ref, answer)
        return dataclasses.replace(plan, action="refuse", reason=reason, via=None)
    delete_manifest(remote, api, repo, digest)
    if manifest.subject is not None:
        with contextlib.suppress(OciregError):  # the delete itself succeeded; bookkeeping only
            detach_referrer(remote, ref, manifest)
    return dataclasses.replace(plan, executed=True)
