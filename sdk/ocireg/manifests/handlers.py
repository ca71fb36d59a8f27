"""The set of manifest handlers in use: one per media type, the ``Accept`` header, dispatch.

Built from the handlers the ``ocireg_manifest_handlers`` hook returns (for now from
:func:`builtin_handlers`). A media type claimed twice is an error when the registry is
built, not when a pull happens to meet that type (DESIGN.md section 4).

Deciding the media type of a pulled manifest (distribution spec, "Pulling manifests";
REGISTRY-FACTS 3.6):

1. ``Content-Type`` without parameters, unless it is missing or generic
   (``application/json``, ``application/octet-stream``, ``text/plain``).
2. The body's ``mediaType``, when present. If both name a type and they differ, the
   manifest is refused: the spec says a client must reject it.
3. When the body has no ``mediaType`` (allowed for OCI manifests, and umoci omits it), the
   ``Content-Type`` decides.
4. When neither says: a ``manifests`` list means an OCI index, ``config`` + ``layers`` an
   OCI manifest, ``schemaVersion: 1`` Docker schema 1 (distribution serves schema 1 as
   ``application/json`` too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ManifestError
from ..mediatypes import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    DOCKER_SCHEMA1,
    DOCKER_SCHEMA1_SIGNED,
    GENERIC_CONTENT_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
    SCHEMA1_TYPES,
    strip_params,
)
from ._fields import load_object, opt_str
from .artifact import ArtifactManifestHandler
from .base import Manifest, ManifestHandler
from .docker import DockerManifestHandler, DockerManifestListHandler
from .oci import OciIndexHandler, OciManifestHandler
from .schema1 import Schema1Handler

__all__ = ["HandlerRegistry", "builtin_handlers", "detect_media_type"]

#: Most preferred first. Any other type a plugin adds comes after these, in the order the
#: handlers were given.
_PREFERRED = (OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST)
#: Schema 1 last and with a lower weight. distribution 2.8 down-converts a schema 2 image to
#: signed schema 1 unless the schema 2 type is in Accept (REGISTRY-FACTS 1.3); since the
#: schema 2 types are always listed, listing schema 1 as well only lets us read images that
#: exist solely as schema 1. Registries ignore q values, so order and presence are what count.
_LAST = (DOCKER_SCHEMA1_SIGNED, DOCKER_SCHEMA1)
_LAST_Q = "0.5"


def builtin_handlers() -> list[type[ManifestHandler]]:
    """The handlers ocireg ships: OCI index and manifest, Docker list and v2, the withdrawn
    OCI artifact manifest (read only), schema 1."""
    return [
        OciIndexHandler,
        OciManifestHandler,
        DockerManifestListHandler,
        DockerManifestHandler,
        ArtifactManifestHandler,
        Schema1Handler,
    ]


def _name(handler_cls: type) -> str:
    return f"{handler_cls.__module__}.{handler_cls.__qualname__}"


def detect_media_type(doc: Mapping[str, Any]) -> str | None:
    """Guess the type of a body that names none, from its keys (rule 4 above)."""
    if "manifests" in doc:
        return OCI_INDEX
    if "config" in doc and "layers" in doc:
        return OCI_MANIFEST
    version = doc.get("schemaVersion")
    if version == 1 and not isinstance(version, bool):
        return DOCKER_SCHEMA1_SIGNED if doc.get("signatures") else DOCKER_SCHEMA1
    return None


class HandlerRegistry:
    """Media type -> handler, built once per client.

    :param handlers: handler classes (instantiated here without arguments) or instances.
        The same class given twice counts once.
    :raises ManifestError: when two handlers claim one media type (the message names both
        and the type), or a handler declares no or malformed media types.
    """

    __slots__ = ("_by_type", "_order")

    def __init__(self, handlers: Iterable[type[ManifestHandler] | ManifestHandler]) -> None:
        self._by_type: dict[str, ManifestHandler] = {}
        seen: set[type] = set()
        claimed_by: dict[str, type] = {}
        for entry in handlers:
            handler: ManifestHandler = entry() if isinstance(entry, type) else entry
            cls = type(handler)
            if cls in seen:
                continue
            seen.add(cls)
            types = getattr(handler, "media_types", None)
            if not isinstance(types, tuple | list) or not types:
                raise ManifestError(f"manifest handler {_name(cls)} declares no media_types")
            for media_type in types:
                if not isinstance(media_type, str) or strip_params(media_type) != media_type:
                    raise ManifestError(
                        f"manifest handler {_name(cls)}: media type {media_type!r} must be a"
                        " lower-case string without parameters"
                    )
                if media_type in GENERIC_CONTENT_TYPES:
                    raise ManifestError(
                        f"manifest handler {_name(cls)} cannot claim the generic type"
                        f" {media_type!r}"
                    )
                other = claimed_by.get(media_type)
                if other is not None and other is not cls:
                    raise ManifestError(
                        f"media type {media_type} is claimed by two manifest handlers:"
                        f" {_name(other)} and {_name(cls)}"
                    )
                claimed_by[media_type] = cls
                self._by_type[media_type] = handler
        known = [t for t in _PREFERRED if t in self._by_type]
        last = [t for t in _LAST if t in self._by_type]
        middle = [t for t in self._by_type if t not in known and t not in last]
        self._order: tuple[str, ...] = (*known, *middle, *last)

    @classmethod
    def builtin(cls) -> HandlerRegistry:
        """A registry of :func:`builtin_handlers` only."""
        return cls(builtin_handlers())

    @property
    def media_types(self) -> tuple[str, ...]:
        """Every supported type, most preferred first."""
        return self._order

    def __contains__(self, media_type: object) -> bool:
        return isinstance(media_type, str) and strip_params(media_type) in self._by_type

    def handler_for(self, media_type: str) -> ManifestHandler:
        """The handler of ``media_type`` (parameters and case ignored).

        :raises ManifestError: for a type no handler claims; lists the supported ones.
        """
        handler = self._by_type.get(strip_params(media_type))
        if handler is None:
            raise ManifestError(
                f"unsupported manifest media type {media_type!r};"
                f" supported: {', '.join(self._order)}"
            )
        return handler

    def accept_header(self) -> str:
        """The ``Accept`` value for manifest requests: every supported type.

        The distribution spec says to send every type we handle; sending fewer makes
        registries convert or hide manifests, and the digest we see is then the wrong one.
        """
        return ", ".join(f"{t};q={_LAST_Q}" if t in SCHEMA1_TYPES else t for t in self._order)

    def resolve_media_type(self, doc: Mapping[str, Any], content_type: str | None) -> str:
        """Decide the media type of a decoded body served with ``content_type`` (rules in
        the module docstring). The result may still be unsupported."""
        header = strip_params(content_type)
        body = opt_str(doc, "mediaType")
        body = body.lower() if body else None
        generic = header in GENERIC_CONTENT_TYPES
        if not generic and body is not None and body != header:
            raise ManifestError(
                f"manifest served as {header!r} but its body says mediaType {body!r};"
                " refusing it (distribution spec: the two must agree)"
            )
        if not generic:
            return header
        if body is not None:
            return body
        detected = detect_media_type(doc)
        if detected is None:
            raise ManifestError(
                f"cannot tell the manifest's media type: Content-Type is {header or 'missing'!r}"
                " and the body has no mediaType, manifests, config and layers,"
                " or schemaVersion 1"
            )
        return detected

    def parse(self, raw: bytes, content_type: str | None = None) -> Manifest:
        """Decide the media type of ``raw`` and hand it to its handler.

        :param raw: the body exactly as received.
        :param content_type: the response's ``Content-Type`` header, if any.
        :raises ManifestError: invalid JSON, disagreeing or unknown media types, missing or
            malformed fields.
        """
        doc = load_object(raw)
        media_type = self.resolve_media_type(doc, content_type)
        return self.handler_for(media_type).parse(raw, media_type)
