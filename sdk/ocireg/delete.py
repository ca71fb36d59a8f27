"""Safe tag deletion: remove exactly one tag, never a manifest another tag still needs.

Why this is more than one ``DELETE``: distribution 2.x refuses ``DELETE`` by tag
(400 ``DIGEST_INVALID``) and deleting by digest removes *every* tag on that digest, the
footgun behind "renaming a tag deleted my image" (skopeo#795). Cleanup that deletes a
manifest still listed in a tagged index breaks multi-arch pulls, and regclient's untag
trick (point the tag at a dummy manifest, delete the dummy) leaves the tag moved when the
registry turns out to refuse deletes (regclient#258). So :func:`delete_tag` first looks at
the graph, then picks the least destructive operation, and learns whether deletes work
before it changes anything.

What ``delete_tag(repo:tag)`` does (``action`` of the returned :class:`DeletePlan`):

* ``tag-delete``: the registry supports the OCI ``DELETE`` by tag, which removes exactly
  the tag, whoever else uses the manifest.
* ``delete-digest``: it does not (distribution 2.x), but no other tag is on the digest and
  no tagged index lists it, so the manifest goes with the tag (``DELETE`` by digest).
* ``untag``: no tag ``DELETE``, and other tags share the digest or a tagged index lists
  it: after proving that deletes work, the tag is moved to a unique tiny manifest, which
  is then deleted by digest.
* ``skip``: ``repo:tag@digest`` was given and the tag now points elsewhere; nothing done.

``delete_tag(repo@digest)`` deletes the manifest by digest (``delete-digest``) when no tag
is on it and no tagged index lists it. Otherwise it is refused (``refuse``;
:class:`DeleteRefusedError` names the tags) unless ``force=True``, which deletes it anyway:
every tag on it disappears and the listed indexes lose a child. ``force`` has no other
effect; a tag ref never deletes a manifest that anything else needs.

``dry_run=True`` sends only requests that change nothing (``GET``/``HEAD``, and ``DELETE``
of names that do not exist, to learn what the registry supports) and returns the plan the
real call would carry out, with ``executed=False``. Where the real call would raise
:class:`DeleteRefusedError` or :class:`UnsupportedError` (deletes disabled), the dry run
returns a ``refuse`` plan saying why.

Deleting a tag that does not exist raises :class:`NotFoundError` (callers that want
idempotence treat it as already gone). Deleting by digest a manifest with ``subject`` also
removes it from its subject's referrers fallback index.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .digest import Digest
from .errors import (
    DeleteRefusedError,
    InvalidReferenceError,
    ManifestError,
    NotFoundError,
    OciregError,
    UnsupportedError,
)
from .manifests import EMPTY_BLOB, EMPTY_DESCRIPTOR, ImageIndex, Manifest, build_image_manifest
from .mediatypes import OCI_MANIFEST, is_generic, is_index
from .reference import Reference
from .referrers import detach_referrer, fallback_tag
from .transport import raise_for_status, registry_errors

if TYPE_CHECKING:
    from .client import Client

__all__ = [
    "PLACEHOLDER_ARTIFACT_TYPE",
    "DeleteAction",
    "DeleteCapabilities",
    "DeletePlan",
    "DeleteRefusedError",
    "capabilities",
    "delete_tag",
]

DeleteAction = Literal["tag-delete", "delete-digest", "untag", "refuse", "skip"]

#: ``artifactType`` of the tiny manifests a tag is moved to before it is deleted; if one is
#: ever left behind (a registry that keeps deleted tags visible), this says what it is.
PLACEHOLDER_ARTIFACT_TYPE = "application/vnd.ocireg.placeholder.v1"
_PLACEHOLDER_ID = "io.ocireg.placeholder.id"
_CAPS_ATTR = "_ocireg_delete_capabilities"


@dataclass(frozen=True, slots=True)
class DeletePlan:
    """What :func:`delete_tag` decided, and whether it was carried out.

    :ivar ref: the reference as given.
    :ivar tag: the tag to remove, ``None`` for a digest reference.
    :ivar digest: the manifest the tag (or reference) pointed at.
    :ivar action: ``tag-delete``, ``delete-digest``, ``untag``, ``refuse`` or ``skip`` (see
        the module docstring).
    :ivar shared_with: other tags on the same digest, sorted.
    :ivar reached_by: other tags whose index (or an index inside it) lists the digest.
    :ivar executed: ``True`` once the registry changed; always ``False`` for dry runs.
    :ivar reason: why this action, in words.
    :ivar placeholder: the digest of the tiny manifest used by ``untag`` (not compared).
    """

    ref: Reference
    tag: str | None
    digest: str
    action: DeleteAction
    shared_with: tuple[str, ...] = ()
    reached_by: tuple[str, ...] = ()
    executed: bool = False
    reason: str = ""
    placeholder: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON output (CLI, Ansible)."""
        out = dataclasses.asdict(self)
        out["ref"] = str(self.ref)
        out["shared_with"], out["reached_by"] = list(self.shared_with), list(self.reached_by)
        return out


@dataclass
class DeleteCapabilities:
    """What deletion attempts taught us, kept per client (see :func:`capabilities`).

    Only answers that cannot change while the client lives are cached: a registry with
    deletes disabled, whether it supports ``DELETE`` by tag, and the repositories where a
    probe delete succeeded (permissions are per repository, so that one is per repository).
    """

    disabled: set[str] = field(default_factory=set)
    tag_delete: dict[str, bool] = field(default_factory=dict)
    verified: set[tuple[str, str]] = field(default_factory=set)


def capabilities(client: Client) -> DeleteCapabilities:
    """The client's :class:`DeleteCapabilities`, created on first use."""
    caps = vars(client).setdefault(_CAPS_ATTR, DeleteCapabilities())
    assert isinstance(caps, DeleteCapabilities)
    return caps


def delete_tag(
    client: Client, ref: Reference, *, force: bool = False, dry_run: bool = False
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
        return _digest_ref(client, ref, force=force, dry_run=dry_run)
    return _tag_ref(client, ref, dry_run=dry_run)


# -- planning ------------------------------------------------------------------------------


def _tag_ref(client: Client, ref: Reference, *, dry_run: bool) -> DeletePlan:
    tag = ref.tag
    assert tag is not None
    tag_ref = ref.with_tag(tag)
    manifest = client.get_manifest(tag_ref)  # full Accept: the digest of what the tag holds
    digest = str(manifest.digest)
    if ref.digest and ref.digest != digest:
        reason = f"{tag} now points at {digest}, not {ref.digest}; left alone"
        return DeletePlan(ref, tag, ref.digest, "skip", reason=reason)
    shared, reached = _survey(client, tag_ref, manifest, exclude=tag)
    needed = _needed_by(shared, reached)
    plan = DeletePlan(ref, tag, digest, "tag-delete", shared, reached)
    if _tag_delete_supported(client, tag_ref):
        stays = f"; the manifest stays for {needed}" if needed else ""
        plan = dataclasses.replace(plan, reason=f"the registry deletes tags by name{stays}")
        return plan if dry_run else _run_tag_delete(client, plan, manifest)
    return _without_tag_delete(client, plan, manifest, dry_run)


def _without_tag_delete(
    client: Client, plan: DeletePlan, manifest: Manifest, dry_run: bool
) -> DeletePlan:
    """The choice on registries that cannot delete a tag by name (distribution 2.x)."""
    needed = _needed_by(plan.shared_with, plan.reached_by)
    if not needed:
        reason = f"no other tag is on {plan.digest} or lists it; deleting it removes {plan.tag}"
        plan = dataclasses.replace(plan, action="delete-digest", reason=reason)
        return _run_delete_digest(client, plan, manifest, dry_run)
    reason = (
        f"the manifest stays for {needed}; the registry cannot delete a tag by name, so the"
        " tag is moved to a unique placeholder manifest, which is then deleted"
    )
    plan = dataclasses.replace(plan, action="untag", reason=reason)
    if dry_run:
        return _refuse_if_disabled(client, plan.ref, plan)
    return _run_untag(client, plan, manifest)


def _digest_ref(client: Client, ref: Reference, *, force: bool, dry_run: bool) -> DeletePlan:
    digest = ref.digest
    assert digest is not None
    manifest = client.get_manifest(ref)  # verified against the digest
    shared, reached = _survey(client, ref, manifest, exclude=None)
    plan = DeletePlan(ref, None, digest, "delete-digest", shared, reached)
    if not shared and not reached:
        reason = f"no tag is on {digest} or lists it"
        return _run_delete_digest(
            client, dataclasses.replace(plan, reason=reason), manifest, dry_run
        )
    needed = _needed_by(shared, reached)
    if not force:
        reason = f"{digest} is still needed by {needed}; pass force=True to delete it anyway"
        plan = dataclasses.replace(plan, action="refuse", reason=reason)
        if dry_run:
            return plan
        raise DeleteRefusedError(f"refusing to delete {ref}: {reason}", plan=plan)
    reason = f"forced: deleting {digest} although {needed} still need it"
    return _run_delete_digest(client, dataclasses.replace(plan, reason=reason), manifest, dry_run)


def _needed_by(shared: Iterable[str], reached: Iterable[str]) -> str:
    parts = []
    if shared:
        parts.append("tags " + ", ".join(shared))
    if reached:
        parts.append("the indexes of tags " + ", ".join(reached))
    return " and ".join(parts)


def _survey(
    client: Client, ref: Reference, manifest: Manifest, *, exclude: str | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Tags on the digest (besides ``exclude``), and tags whose index graph lists it.

    The referrers fallback tag of the manifest's own subject lists it too, but only as
    bookkeeping that deleting the manifest updates, so it does not count.
    """
    digest = str(manifest.digest)
    descriptors = client.tag_descriptors(ref)
    shared = tuple(sorted(t for t, d in descriptors.items() if d.digest == digest and t != exclude))
    ignore = {fallback_tag(manifest.subject.digest)} if manifest.subject else set()
    roots = {
        t: d.digest
        for t, d in descriptors.items()
        if d.digest != digest
        and t not in ignore
        and (is_index(d.media_type) or is_generic(d.media_type))
    }
    return shared, _reached_by(client, ref, digest, roots)


def _reached_by(
    client: Client, ref: Reference, digest: str, roots: Mapping[str, str]
) -> tuple[str, ...]:
    """The tags of ``roots`` (tag -> index digest) whose index, or a nested index, lists
    ``digest``. Every distinct index is fetched once, concurrently per level."""
    children: dict[str, tuple[str, ...]] = {}
    nested: dict[str, tuple[str, ...]] = {}
    frontier = set(roots.values())

    def fetch(d: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        try:
            m = client.get_manifest(ref.with_digest(d))
        except NotFoundError:  # deleted meanwhile: it lists nothing any more
            return d, (), ()
        if not isinstance(m, ImageIndex):
            return d, (), ()
        kids = tuple(c.digest for c in m.manifests)
        deeper = tuple(c.digest for c in m.manifests if is_index(c.media_type) or not c.media_type)
        return d, kids, deeper

    while frontier:
        workers = max(1, min(client.max_workers, len(frontier)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for d, kids, deeper in pool.map(fetch, sorted(frontier)):
                children[d], nested[d] = kids, deeper
        frontier = {n for d in frontier for n in nested[d]} - children.keys()

    def reaches(d: str, seen: set[str]) -> bool:
        if d in seen:
            return False
        seen.add(d)
        return digest in children.get(d, ()) or any(reaches(n, seen) for n in nested.get(d, ()))

    return tuple(sorted(t for t, d in roots.items() if reaches(d, set())))


# -- what the registry allows --------------------------------------------------------------


def _try_delete(client: Client, ref: Reference, identifier: str) -> tuple[int, str]:
    """``DELETE`` a manifest by tag or digest: ``(status, first error code)`` for the
    answers that say what the registry supports (2xx, 400, 404, 405); raise for the rest
    (401/403 permissions, 429, 5xx)."""
    resp = client._request(
        "DELETE", ref, f"/v2/{ref.path}/manifests/{identifier}", actions=("pull", "delete")
    )
    with contextlib.closing(resp):
        status = resp.status_code
        if status in (200, 202, 204):
            return status, ""
        details = registry_errors(resp)
        code = details[0].code if details else ""
        if status in (400, 404, 405) and code not in ("DENIED", "UNAUTHORIZED"):
            return status, code
        sep = "@" if ":" in identifier else ":"
        raise_for_status(
            resp,
            operation="DELETE manifest",
            registry=ref.domain,
            target=f"{ref.path}{sep}{identifier}",
            ok=(),
        )
        raise AssertionError("unreachable")  # raise_for_status raised


def _disabled(status: int, code: str) -> bool:
    return status in (400, 405) or code == "UNSUPPORTED"  # the spec: "400 or 405"


def _unsupported(ref: Reference, status: int, code: str) -> UnsupportedError:
    return UnsupportedError(
        f"delete is disabled on {ref.domain} ({status} {code or 'no error code'});"
        f" nothing in {ref.path} was changed",
        status=status,
        operation="DELETE manifest",
        registry=ref.domain,
    )


def _deletes_disabled(client: Client, ref: Reference) -> tuple[int, str] | None:
    """Ask, without changing anything, whether deletes are disabled: ``DELETE`` a random
    digest nobody has. 404 means the registry looked it up, so deletes are on."""
    caps = capabilities(client)
    if ref.domain in caps.disabled:
        return 405, "UNSUPPORTED"
    status, code = _try_delete(client, ref, f"sha256:{secrets.token_hex(32)}")
    if _disabled(status, code):
        caps.disabled.add(ref.domain)
        return status, code
    return None


def _refuse_if_disabled(client: Client, ref: Reference, plan: DeletePlan) -> DeletePlan:
    answer = _deletes_disabled(client, ref)
    if answer is None:
        return plan
    reason = f"delete is disabled on {ref.domain} ({answer[0]} {answer[1]})"
    return dataclasses.replace(plan, action="refuse", reason=reason)


def _tag_delete_supported(client: Client, ref: Reference) -> bool:
    """Whether ``DELETE`` by tag works here, learnt by deleting a tag that does not exist:
    a registry that resolves tags answers 404; distribution 2.x answers 400
    ``DIGEST_INVALID`` (only digests), and 405 means no tag deletes (or no deletes)."""
    caps = capabilities(client)
    known = caps.tag_delete.get(ref.domain)
    if known is None:
        status, code = _try_delete(client, ref, f"ocireg-probe-{secrets.token_hex(8)}")
        known = status in (200, 202, 204, 404) and code not in ("DIGEST_INVALID", "UNSUPPORTED")
        caps.tag_delete[ref.domain] = known
    return known


def _ensure_deletable(client: Client, ref: Reference, *, probed: bool = False) -> None:
    """Prove that this repository lets us delete before a tag is moved: push a unique
    untagged manifest and delete it. Nothing a user lists changes; a refusal raises.
    ``probed``: the caller just learnt from :func:`_deletes_disabled` that deletes are not
    disabled, so it is not asked again."""
    caps = capabilities(client)
    if (ref.domain, ref.path) in caps.verified:
        return
    answer = None if probed else _deletes_disabled(client, ref)
    if answer is not None:
        raise _unsupported(ref, *answer)
    _ensure_empty_blob(client, ref)
    raw = _placeholder()
    probe = client.put_manifest(_by_digest(ref, Digest.of(raw)), raw, OCI_MANIFEST)
    _delete_digest(client, ref, str(probe))
    caps.verified.add((ref.domain, ref.path))


# -- carrying it out -----------------------------------------------------------------------


def _by_digest(ref: Reference, digest: str | Digest) -> Reference:
    return dataclasses.replace(ref, tag=None, digest=str(digest))


def _delete_digest(client: Client, ref: Reference, digest: str) -> None:
    status, code = _try_delete(client, ref, digest)
    if 200 <= status < 300:
        return
    if _disabled(status, code):
        capabilities(client).disabled.add(ref.domain)
        raise _unsupported(ref, status, code)
    raise NotFoundError(
        f"DELETE manifest {ref.domain}/{ref.path}@{digest}: {status} {code}".rstrip(),
        status=status,
        operation="DELETE manifest",
        registry=ref.domain,
    )


def _run_delete_digest(
    client: Client, plan: DeletePlan, manifest: Manifest, dry_run: bool
) -> DeletePlan:
    ref = plan.ref
    if dry_run:
        return _refuse_if_disabled(client, ref, plan)
    _delete_digest(client, ref, plan.digest)
    if manifest.subject is not None:
        with contextlib.suppress(OciregError):  # the delete itself succeeded; bookkeeping only
            detach_referrer(client, ref, manifest)
    return dataclasses.replace(plan, executed=True)


def _run_tag_delete(client: Client, plan: DeletePlan, manifest: Manifest) -> DeletePlan:
    ref, tag = plan.ref, plan.tag
    assert tag is not None
    status, code = _try_delete(client, ref.with_tag(tag), tag)
    if not 200 <= status < 300:
        # The probe said yes, the real tag says no: do what registries without it get.
        capabilities(client).tag_delete[ref.domain] = False
        done = _without_tag_delete(client, plan, manifest, dry_run=False)
        why = f" (DELETE by tag answered {status} {code})".replace(" )", ")")
        return dataclasses.replace(done, reason=done.reason + why)
    try:
        client.head_manifest(_by_digest(ref, plan.digest))
    except NotFoundError:
        # The registry deleted the manifest with the tag (as zot did before 2024): never
        # delete by tag here again, and if anything needed it, push it back and re-point
        # the tags it took along.
        capabilities(client).tag_delete[ref.domain] = False
        if plan.shared_with or plan.reached_by:
            client.put_manifest(_by_digest(ref, plan.digest), manifest.raw, manifest.media_type)
            for other in plan.shared_with:
                client.put_manifest(ref.with_tag(other), manifest.raw, manifest.media_type)
            why = "; the registry deleted the manifest along with the tag, so it was pushed back"
            return dataclasses.replace(plan, executed=True, reason=plan.reason + why)
    return dataclasses.replace(plan, executed=True)


def _run_untag(client: Client, plan: DeletePlan, manifest: Manifest) -> DeletePlan:
    """Move the tag to a unique tiny manifest and delete that by digest. Deletability is
    proven first; if the final delete still fails the tag is put back where it was."""
    ref, tag = plan.ref, plan.tag
    assert tag is not None
    tag_ref = ref.with_tag(tag)
    _ensure_deletable(client, tag_ref)
    _ensure_empty_blob(client, tag_ref)
    raw = _placeholder()
    placeholder = str(client.put_manifest(tag_ref, raw, OCI_MANIFEST))
    try:
        _delete_digest(client, tag_ref, placeholder)
    except NotFoundError:
        pass  # a retried DELETE whose first try worked: the unique placeholder is gone
    except BaseException:
        with contextlib.suppress(OciregError):
            client.put_manifest(tag_ref, manifest.raw, manifest.media_type)
        raise
    return dataclasses.replace(plan, executed=True, placeholder=placeholder)


def _placeholder() -> bytes:
    """A manifest no one else can have pushed (it holds a random id), so deleting it by
    digest can take no other tag along. Its config is the empty blob; it is annotated so
    that a placeholder left visible explains itself."""
    annotations = {
        "org.opencontainers.image.created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "org.opencontainers.image.description": "placeholder of ocireg tag deletion",
        _PLACEHOLDER_ID: uuid.uuid4().hex,
    }
    return build_image_manifest(
        EMPTY_DESCRIPTOR, [], annotations=annotations, artifact_type=PLACEHOLDER_ARTIFACT_TYPE
    )


def _ensure_empty_blob(client: Client, ref: Reference) -> None:
    """Make sure the repository has the empty blob ``{}`` the placeholder uses as config,
    pushing its two bytes with a plain ``POST`` + ``PUT`` (which every registry supports)."""
    digest, path, push = EMPTY_DESCRIPTOR.digest, ref.path, ("pull", "push")
    with contextlib.closing(client._request("HEAD", ref, f"/v2/{path}/blobs/{digest}")) as resp:
        if resp.status_code == 200:
            return
    where = {"registry": ref.domain, "target": f"{path}@{digest}"}
    resp = client._request("POST", ref, f"/v2/{path}/blobs/uploads/", actions=push, data=b"")
    with contextlib.closing(resp):
        raise_for_status(resp, operation="POST blob upload", ok=(202,), **where)
        location = resp.headers.get("Location")
    if not location:
        raise ManifestError(f"POST blob upload {ref.domain}/{path}: no Location in the answer")
    resp = client._request(
        "PUT",
        ref,
        location,
        actions=push,
        params={"digest": digest},
        headers={"Content-Type": "application/octet-stream"},
        data=EMPTY_BLOB,
    )
    with contextlib.closing(resp):
        raise_for_status(resp, operation="PUT blob", ok=(201, 204), **where)
