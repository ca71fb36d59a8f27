"""The :class:`Manifest` value every handler returns, and the :class:`ManifestHandler` interface.

Manifests are kept together with the exact bytes the registry sent (``raw``): a manifest's
identity is the digest of those bytes (distribution spec, "Pulling manifests"), so the bytes
are what gets verified, copied and pushed. The typed fields are a convenient view of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ..digest import Digest
from ._fields import empty_map
from .descriptor import Descriptor
from .platform import Platform

__all__ = ["Manifest", "ManifestHandler"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """A parsed manifest of any kind; subclasses add the kind's fields.

    :ivar raw: the bytes exactly as received (or as built for a push).
    :ivar media_type: the decided media type, lower-case, without parameters.
    :ivar digest: the manifest digest: sha256 of :attr:`payload`.
    :ivar payload: the bytes the digest covers; ``raw`` itself except for signed schema 1
        manifests, whose digest leaves out the JWS signatures.
    :ivar json: the decoded body; treat it as read-only.
    :ivar subject: the manifest this one refers to (image-spec 1.1 ``subject``), if any.
    :ivar annotations: read-only, empty when absent.
    :ivar artifact_type: the ``artifactType`` field as written, if any.

    Two manifests are equal when their media type and bytes are; the other fields are
    derived from those.
    """

    raw: bytes
    media_type: str
    digest: Digest = field(compare=False)
    payload: bytes = field(compare=False, repr=False)
    json: Mapping[str, Any] = field(compare=False, repr=False)
    subject: Descriptor | None = field(default=None, compare=False)
    annotations: Mapping[str, str] = field(default_factory=empty_map, compare=False, repr=False)
    artifact_type: str | None = field(default=None, compare=False)

    @property
    def size(self) -> int:
        """Length of :attr:`raw`: what ``Content-Length`` announced."""
        return len(self.raw)

    @property
    def effective_artifact_type(self) -> str | None:
        """The type the referrers API lists this manifest under: ``artifactType``, else (for
        image manifests) the config's media type (distribution spec, "Listing Referrers")."""
        return self.artifact_type

    def references(self) -> tuple[Descriptor, ...]:
        """Everything this manifest points at, except its ``subject``: blobs for an image
        manifest, child manifests for an index. What a copy must transfer first."""
        return ()

    def descriptor(self, *, platform: Platform | None = None) -> Descriptor:
        """A descriptor of this manifest, e.g. to list it in an index."""
        return Descriptor(
            media_type=self.media_type,
            digest=str(self.digest),
            size=len(self.payload),
            platform=platform,
        )

    def referrer_descriptor(self) -> Descriptor:
        """The entry for this manifest in a referrers list or fallback index: descriptor plus
        the effective ``artifactType`` and the manifest's annotations (distribution spec,
        "Listing Referrers" and "Pushing Manifests with Subject")."""
        return Descriptor(
            media_type=self.media_type,
            digest=str(self.digest),
            size=len(self.payload),
            annotations=self.annotations,
            artifact_type=self.effective_artifact_type,
        )


class ManifestHandler(Protocol):
    """Turns the bytes of one or more manifest media types into a :class:`Manifest`.

    Handlers are collected by the ``ocireg_manifest_handlers`` hook; every media type may be
    claimed by one handler only (checked when the registry is built). The registry calls
    ``parse`` with the media type it decided from ``Content-Type`` and the body, always one
    of ``media_types``, lower-case.

    A handler must raise :class:`~ocireg.ManifestError` (never ``KeyError``/``TypeError``)
    for bytes it cannot read.
    """

    #: The media types this handler reads, lower-case, most preferred first.
    media_types: ClassVar[tuple[str, ...]]

    def parse(self, raw: bytes, media_type: str) -> Manifest:
        """Parse ``raw``, which the registry served as ``media_type``."""
        ...
