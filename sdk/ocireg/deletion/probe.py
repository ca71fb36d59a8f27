"""What a registry allows, learnt without changing anything a user can see.

* Whether deletes are disabled: ``DELETE`` a random digest nobody has. 404 means the
  registry looked it up, so deletes are on; 400/405 or ``UNSUPPORTED`` mean they are off
  (distribution spec: "400 or 405"). Probing can be skipped where the caller knows.
* Whether ``DELETE`` by tag works: delete a tag that does not exist. A registry that
  resolves tags answers 404; distribution 2.x answers 400 ``DIGEST_INVALID`` (digests only).
* That this repository lets us delete before a tag is moved (:func:`ensure_deletable`): push
  a unique untagged placeholder manifest and delete it.

Answers that cannot change while the client lives are kept on the wire layer's
:class:`~ocireg.remote.RegistryCapabilities`, so one client probes each registry once.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable

from ..digest import Digest
from ..errors import NotFoundError, UnsupportedError
from ..manifests import EMPTY_BLOB, EMPTY_DESCRIPTOR
from ..mediatypes import OCI_MANIFEST
from ..reference import Reference
from ..remote import Remote
from ..upload import push_blob
from .placeholder import placeholder

__all__ = [
    "by_digest",
    "delete_digest",
    "deletes_disabled",
    "disabled_reason",
    "ensure_deletable",
    "ensure_empty_blob",
    "is_disabled",
    "tag_delete_supported",
    "unsupported",
]


def by_digest(ref: Reference, digest: str | Digest) -> Reference:
    return dataclasses.replace(ref, tag=None, digest=str(digest))


def is_disabled(status: int, code: str) -> bool:
    return status in (400, 405) or code == "UNSUPPORTED"  # the spec: "400 or 405"


def disabled_reason(ref: Reference, answer: tuple[int, str]) -> str:
    """Why a plan refuses: ``delete is disabled on <registry> (<status> <code>)``."""
    return f"delete is disabled on {ref.domain} ({answer[0]} {answer[1]})"


def unsupported(ref: Reference, status: int, code: str) -> UnsupportedError:
    return UnsupportedError(
        f"delete is disabled on {ref.domain} ({status} {code or 'no error code'});"
        f" nothing in {ref.path} was changed",
        status=status,
        operation="DELETE manifest",
        registry=ref.domain,
    )


def deletes_disabled(remote: Remote, ref: Reference) -> tuple[int, str] | None:
    """``(status, code)`` when deletes are disabled on ``ref``'s registry, else ``None``."""
    caps = remote.capabilities
    if ref.domain in caps.deletes_disabled:
        return 405, "UNSUPPORTED"
    if ref.domain in caps.deletes_enabled:
        return None
    status, code = remote.try_delete_manifest(ref, f"sha256:{secrets.token_hex(32)}")
    answer = f"{status} {code}".rstrip()
    probe = f"a DELETE of a random digest in {ref.path} answered {answer}"
    if is_disabled(status, code):
        caps.deletes_disabled.add(ref.domain)
        caps.notes[(ref.domain, "deletes")] = f"deletes are disabled: {probe}"
        return status, code
    caps.notes[(ref.domain, "deletes")] = f"deletes are enabled: {probe}"
    caps.deletes_enabled.add(ref.domain)
    return None


def tag_delete_supported(remote: Remote, ref: Reference) -> bool:
    """Whether ``DELETE`` by tag works here (405 means no tag deletes, or no deletes)."""
    caps = remote.capabilities
    known = caps.tag_delete.get(ref.domain)
    if known is None:
        name = f"ocireg-probe-{secrets.token_hex(8)}"
        status, code = remote.try_delete_manifest(ref, name)
        known = status in (200, 202, 204, 404) and code not in ("DIGEST_INVALID", "UNSUPPORTED")
        caps.tag_delete[ref.domain] = known
        answer = f"{status} {code}".rstrip()
        caps.notes[(ref.domain, "tag-delete")] = (
            f"DELETE by tag {'works' if known else 'does not work'}: a DELETE of the"
            f" nonexistent tag {name} in {ref.path} answered {answer}"
        )
    return known


def delete_digest(remote: Remote, ref: Reference, digest: str) -> None:
    """``DELETE`` by digest: :class:`UnsupportedError` when deletes are disabled,
    :class:`NotFoundError` when the manifest is not there."""
    status, code = remote.try_delete_manifest(ref, digest)
    if 200 <= status < 300:
        return
    if is_disabled(status, code):
        remote.capabilities.deletes_disabled.add(ref.domain)
        raise unsupported(ref, status, code)
    raise NotFoundError(
        f"DELETE manifest {ref.domain}/{ref.path}@{digest}: {status} {code}".rstrip(),
        status=status,
        operation="DELETE manifest",
        registry=ref.domain,
    )


def ensure_deletable(
    remote: Remote,
    ref: Reference,
    *,
    probed: bool = False,
    delete: Callable[[str], None] | None = None,
) -> None:
    """Prove that this repository lets us delete before a tag is moved: push a unique
    untagged manifest and delete it. Nothing a user lists changes; a refusal raises.
    ``probed``: the caller just learnt from :func:`deletes_disabled` that deletes are not
    disabled (or deletes through a native API), so it is not asked again. ``delete``
    deletes a digest (a native API's); ``DELETE`` through /v2/ by default."""
    caps = remote.capabilities
    if (ref.domain, ref.path) in caps.delete_verified:
        return
    answer = None if probed else deletes_disabled(remote, ref)
    if answer is not None:
        raise unsupported(ref, *answer)
    ensure_empty_blob(remote, ref)
    raw = placeholder()
    probe, _ = remote.put_manifest(by_digest(ref, Digest.of(raw)), raw, OCI_MANIFEST)
    if delete is None:
        delete_digest(remote, ref, str(probe.digest))
    else:
        delete(str(probe.digest))
    caps.delete_verified.add((ref.domain, ref.path))


def ensure_empty_blob(remote: Remote, ref: Reference) -> None:
    """Make sure the repository has the empty blob ``{}`` the placeholder uses as config."""
    push_blob(remote, ref, EMPTY_BLOB, digest=EMPTY_DESCRIPTOR.digest, size=len(EMPTY_BLOB))
