"""Content descriptors (OCI image spec, ``descriptor.md``).

A descriptor names content by media type, digest and size; manifests point at configs,
layers, child manifests and their ``subject`` with descriptors. Docker schema 2 uses the
same shape, so one type serves both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..digest import Digest
from ..errors import InvalidDigestError, ManifestError
from ..mediatypes import OCI_EMPTY
from ._fields import EMPTY_MAP, empty_map, opt_str, opt_str_list, opt_str_map, req_int, req_str
from .platform import Platform

__all__ = ["EMPTY_BLOB", "EMPTY_DESCRIPTOR", "Descriptor"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Descriptor:
    """One OCI descriptor.

    ``digest`` is kept as the validated string (``sha256:...``), because descriptors are
    mostly passed back to the registry as text; :attr:`parsed_digest` gives the
    :class:`~ocireg.Digest`. ``annotations`` is read-only and takes part in ``==`` but not
    in ``hash()``.
    """

    media_type: str
    digest: str
    size: int
    urls: tuple[str, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=empty_map, hash=False)
    #: Base64 of embedded content (image-spec 1.1 ``data``), as written.
    data: str | None = None
    platform: Platform | None = None
    artifact_type: str | None = None

    def __post_init__(self) -> None:
        # Freeze a caller's plain dict so the value really is immutable.
        if not isinstance(self.annotations, MappingProxyType):
            object.__setattr__(self, "annotations", MappingProxyType(dict(self.annotations)))
        if isinstance(self.urls, list):
            object.__setattr__(self, "urls", tuple(self.urls))

    @property
    def parsed_digest(self) -> Digest:
        return Digest.parse(self.digest)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "descriptor") -> Descriptor:
        """Read an OCI/Docker descriptor object.

        ``digest`` and ``size`` are required and checked (a valid digest, a size >= 0).
        ``mediaType`` is required by the spec but tolerated when missing (stored as ``""``):
        the registry already accepted the manifest, and refusing it here would only make the
        image unreadable.
        """
        if not isinstance(data, Mapping):
            raise ManifestError(f"{where}: expected an object, got {type(data).__name__}")
        digest = req_str(data, "digest", where)
        try:
            Digest.parse(digest)
        except InvalidDigestError as exc:
            raise ManifestError(f"{where}.digest: {exc}") from exc
        size = req_int(data, "size", where)
        if size < 0:
            raise ManifestError(f"{where}.size: must not be negative, got {size}")
        platform = data.get("platform")
        return cls(
            media_type=opt_str(data, "mediaType", where) or "",
            digest=digest,
            size=size,
            urls=opt_str_list(data, "urls", where),
            annotations=opt_str_map(data, "annotations", where),
            data=opt_str(data, "data", where),
            platform=(
                None
                if platform is None
                else Platform.from_dict(platform, where=f"{where}.platform")
            ),
            artifact_type=opt_str(data, "artifactType", where) or None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The OCI JSON object: keys in image-spec's Go struct order, annotation keys
        sorted (as Go's encoder does for maps), empty optional fields omitted."""
        out: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.urls:
            out["urls"] = list(self.urls)
        if self.annotations:
            out["annotations"] = sorted_map(self.annotations)
        if self.data is not None:
            out["data"] = self.data
        if self.platform is not None:
            out["platform"] = self.platform.to_dict()
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out

    @classmethod
    def of(
        cls,
        content: bytes,
        media_type: str,
        *,
        annotations: Mapping[str, str] | None = None,
        artifact_type: str | None = None,
    ) -> Descriptor:
        """The sha256 descriptor of ``content``: handy for configs and test blobs."""
        return cls(
            media_type=media_type,
            digest=str(Digest.of(content)),
            size=len(content),
            annotations=annotations or EMPTY_MAP,
            artifact_type=artifact_type,
        )


def sorted_map(mapping: Mapping[str, str]) -> dict[str, str]:
    """A plain dict with sorted keys, for deterministic JSON."""
    return {k: mapping[k] for k in sorted(mapping)}


def descriptors(items: Iterable[Any], *, where: str) -> tuple[Descriptor, ...]:
    """Read a JSON list of descriptors, naming the bad index (``layers[2].size``)."""
    return tuple(Descriptor.from_dict(d, where=f"{where}[{i}]") for i, d in enumerate(items))


#: The OCI empty blob ``{}`` (image-spec 1.1, "Guidance for an Empty Descriptor").
EMPTY_BLOB = b"{}"
#: Its descriptor: ``sha256:44136fa3...``, size 2; the config of artifacts without one.
EMPTY_DESCRIPTOR = Descriptor.of(EMPTY_BLOB, OCI_EMPTY)
