"""Registry-native APIs: what a plugin offers, for the registries it recognises, beyond the
Registry HTTP API.

Hosted registries delete and list through APIs of their own: Amazon ECR's
``BatchDeleteImage``/``DescribeImages``, Docker Hub's ``/v2/repositories/.../tags/...``, the
GitHub packages REST API, GitLab's registry API, Harbor's artifacts API, Azure ACR's
``/acr/v1/``. A plugin implements :func:`~ocireg.hookspecs.ocireg_registry_api` and returns
a :class:`RegistryAPI` for the hosts it knows; the deletion engine (:mod:`ocireg.deletion`)
and retention (:mod:`ocireg.retention`) ask it first and fall back to the Registry HTTP API
for whatever it does not offer.

A :class:`RegistryAPI` says what it offers through three attributes, each the name of the
mechanism shown in plans (``via``) or ``None`` when not offered:

* :attr:`RegistryAPI.tag_delete`: :meth:`~RegistryAPI.delete_tag` removes exactly one tag
  (the image may go with its last tag, as on ECR, or stay untagged, as on Docker Hub; the
  engine never relies on either);
* :attr:`RegistryAPI.manifest_delete`: :meth:`~RegistryAPI.delete_manifest` removes a
  manifest by digest, with every tag on it (GitHub's package versions);
* :attr:`RegistryAPI.listing`: :meth:`~RegistryAPI.list_tags` lists every tag of a
  repository with its digest and, where the registry knows them, push time and size
  (replacing a ``HEAD`` per tag).

Contract for implementations: raise :class:`~ocireg.errors.NotFoundError` when the tag,
manifest or repository does not exist, :class:`~ocireg.errors.DeniedError` /
:class:`~ocireg.errors.AuthenticationError` when the credentials may not,
:class:`~ocireg.errors.StillReferencedError` from :meth:`~RegistryAPI.delete_tag` when the
registry keeps a tag because an index lists its image (the engine then untags it, where the
API deletes manifests), and
:class:`~ocireg.errors.RegistryError` (or a subclass) for anything else; never put a secret
in a message. Bound every body you read and every page count (:mod:`ocireg.limits`), and
parse every digest you return (:class:`~ocireg.digest.Digest`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .reference import Reference

if TYPE_CHECKING:
    from .auth.credentials import Credentials

__all__ = ["CredentialLookup", "RegistryAPI", "TagRecord"]

#: What a plugin gets to find credentials for a registry: ``lookup(repository)`` asks the
#: client's credential chain (the same answer the Registry HTTP API would use), or None.
CredentialLookup = Callable[[str | None], "Credentials | None"]


@dataclass(frozen=True, slots=True)
class TagRecord:
    """One tag as a registry-native listing reports it.

    :ivar tag: the tag.
    :ivar digest: the manifest it points at (parsed, ``sha256:...``).
    :ivar pushed_at: when the registry received that manifest (aware UTC), if it says.
    :ivar size: the image's size in bytes as the registry reports it, if it says.
    :ivar media_type: the manifest's media type, if the registry says.

    The deletion survey takes a tag from a record only when it knows what the manifest is:
    an index's or an image manifest's media type, and for an OCI image manifest a size over
    4 KiB (placeholders are tiny); other tags get a ``HEAD`` (:mod:`ocireg.deletion.listing`).
    Retention ages tags by ``pushed_at`` where it is given (:mod:`ocireg.retention`).
    """

    tag: str
    digest: str
    pushed_at: datetime | None = None
    size: int | None = None
    media_type: str | None = None


class RegistryAPI:
    """The native API of one registry; subclass it and set what you offer (see the module
    docstring). Methods not offered raise :class:`NotImplementedError`."""

    #: A short name for the API in ``ocireg auth explain`` and errors (``"Amazon ECR API"``).
    name: str = "registry API"
    #: ``via`` of :meth:`delete_tag` (``"ecr-batch-delete-image"``), or None.
    tag_delete: str | None = None
    #: ``via`` of :meth:`delete_manifest` (``"github-api"``), or None.
    manifest_delete: str | None = None
    #: ``via`` of :meth:`list_tags` (``"ecr-describe-images"``), or None.
    listing: str | None = None

    def delete_tag(self, repository: Reference, tag: str) -> None:
        """Remove ``tag`` from ``repository`` (a reference without tag or digest), and only
        that tag. :class:`~ocireg.errors.NotFoundError` when it does not exist."""
        raise NotImplementedError

    def delete_manifest(self, repository: Reference, digest: str) -> None:
        """Remove the manifest ``digest`` and every tag on it.
        :class:`~ocireg.errors.NotFoundError` when it does not exist."""
        raise NotImplementedError

    def list_tags(self, repository: Reference) -> list[TagRecord]:
        """Every tag of ``repository`` with its digest (all pages, bounded).
        :class:`~ocireg.errors.NotFoundError` when the repository does not exist."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for ``ocireg auth explain`` and ``--dry-run``: what is used for what."""
        offers = [
            f"{what} via {via}"
            for what, via in (
                ("tag deletes", self.tag_delete),
                ("manifest deletes", self.manifest_delete),
                ("tag listings", self.listing),
            )
            if via
        ]
        return f"{self.name}: " + (", ".join(offers) if offers else "nothing beyond /v2/")
