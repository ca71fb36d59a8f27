"""Which mechanism carries out an action: a registry-native API a plugin offers
(:class:`~ocireg.registry_api.RegistryAPI`, asked per registry through
``Remote.native_api``), or the Registry HTTP API.

Each step of a plan names its mechanism in ``via``:

=================  =====================================  =================================
action             with a native API that offers it       through /v2/ only
=================  =====================================  =================================
``tag-delete``     ``RegistryAPI.tag_delete``             ``oci-tag-delete``
``delete-digest``  ``RegistryAPI.manifest_delete``        ``registry-delete-digest``
``untag``          ``untag+`` + ``manifest_delete``       ``untag``
``recover``        ``manifest_delete``, else              ``registry-delete-digest``
                   ``tag_delete``
=================  =====================================  =================================

A native API is believed only where /v2/ agrees: its :class:`~ocireg.errors.NotFoundError`
means "already gone" only when a ``HEAD`` through /v2/ answers 404 too; otherwise the run
stops (:func:`disagreement`), as it would on any inconsistent answer.
"""

from __future__ import annotations

from ..errors import NotFoundError, RegistryError
from ..reference import Reference
from ..registry_api import RegistryAPI
from ..remote import Remote
from .probe import by_digest, delete_digest

__all__ = [
    "OCI_TAG_DELETE",
    "REGISTRY_DELETE_DIGEST",
    "UNTAG",
    "api_for",
    "delete_manifest",
    "deletes_natively",
    "disagreement",
    "learnt_line",
    "via_of",
]

OCI_TAG_DELETE = "oci-tag-delete"
REGISTRY_DELETE_DIGEST = "registry-delete-digest"
UNTAG = "untag"


def api_for(remote: Remote, ref: Reference) -> RegistryAPI | None:
    """The native API a plugin offers for ``ref``'s registry, or None."""
    return remote.native_api(ref.domain)


def deletes_natively(api: RegistryAPI | None) -> bool:
    """Whether ``api`` deletes (tags or manifests): then no /v2/ delete probe is sent."""
    return api is not None and bool(api.tag_delete or api.manifest_delete)


def via_of(action: str, api: RegistryAPI | None) -> str | None:
    """The ``via`` of ``action`` with ``api`` (see the module docstring); None for
    ``skip`` and ``refuse``."""
    tag_native = api.tag_delete if api is not None else None
    digest_native = api.manifest_delete if api is not None else None
    if action == "tag-delete":
        return tag_native or OCI_TAG_DELETE
    if action == "delete-digest":
        return digest_native or REGISTRY_DELETE_DIGEST
    if action == "untag":
        return f"{UNTAG}+{digest_native}" if digest_native else UNTAG
    if action == "recover":
        return digest_native or tag_native or REGISTRY_DELETE_DIGEST
    return None


def learnt_line(api: RegistryAPI) -> str:
    """What a plan says instead of the probes' answers."""
    vias = ", ".join(v for v in (api.tag_delete, api.manifest_delete) if v)
    return f"deletes through {api.name} ({vias})"


def disagreement(api: RegistryAPI, ref: Reference, what: str) -> RegistryError:
    """The error that stops a run when ``api`` says ``what`` does not exist and /v2/ still
    serves it."""
    return RegistryError(
        f"{api.name} says {what} does not exist in {ref.domain}/{ref.path}, but the registry"
        " still serves it; stopped (the result says what was done)",
        status=409,
        operation=f"delete ({api.name})",
        registry=ref.domain,
    )


def delete_manifest(remote: Remote, api: RegistryAPI | None, repo: Reference, digest: str) -> None:
    """Delete the manifest ``digest`` (and every tag on it): natively where ``api`` offers
    it, else ``DELETE`` through /v2/. :class:`NotFoundError` when it is gone (natively: only
    when /v2/ agrees)."""
    if api is None or not api.manifest_delete:
        delete_digest(remote, repo, digest)
        return
    try:
        api.delete_manifest(repo, digest)
    except NotFoundError:
        try:
            remote.head_manifest(by_digest(repo, digest))
        except NotFoundError:
            raise  # /v2/ agrees: already gone
        raise disagreement(api, repo, digest) from None
