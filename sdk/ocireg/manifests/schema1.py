"""Docker Image Manifest V2, Schema 1: read only, for old images and old registries.

Schema 1 is deprecated (distribution ``docs/spec/deprecated-schema-v1.md``); we read it so
that an old image can be inspected, listed and deleted, never to push.

The digest of a *signed* schema 1 manifest is not the hash of the body. libtrust signs the
"pretty" JSON and then splices a ``signatures`` key in before the closing brace; each
signature's ``protected`` header (base64url JSON) records ``formatLength``, the length of
the body before the splice, and ``formatTail`` (base64url, normally ``"\\n}"``). The digest is
sha256 of ``raw[:formatLength] + formatTail``: the body as it was before signing
(libtrust ``ParsePrettySignature``, distribution ``schema1.SignedManifest.UnmarshalJSON``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..digest import Digest
from ..errors import InvalidDigestError, ManifestError
from ..mediatypes import DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED
from ._fields import load_object, opt_int, opt_str, req_int, req_list, req_str
from .base import Manifest

__all__ = ["Schema1Handler", "Schema1Manifest", "schema1_payload"]


def _b64url(text: str, where: str) -> bytes:
    try:
        padded = text + "=" * (-len(text) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ManifestError(f"schema 1 manifest: {where} is not base64url: {exc}") from exc


def schema1_payload(raw: bytes, doc: Mapping[str, Any] | None = None) -> bytes:
    """The bytes a schema 1 manifest's digest covers: ``raw`` itself when unsigned, else the
    body before libtrust spliced in the signatures.

    :raises ManifestError: when a ``protected`` header cannot be read, lacks
        ``formatLength``/``formatTail``, or the signatures disagree about them.
    """
    if doc is None:
        doc = load_object(raw, "schema 1 manifest")
    signatures = doc.get("signatures")
    if not signatures:
        return bytes(raw)
    if not isinstance(signatures, list):
        raise ManifestError("schema 1 manifest: signatures: expected a list")
    formats: set[tuple[int, bytes]] = set()
    for i, sig in enumerate(signatures):
        where = f"signatures[{i}]"
        if not isinstance(sig, dict):
            raise ManifestError(f"schema 1 manifest: {where}: expected an object")
        protected = _b64url(req_str(sig, "protected", where), f"{where}.protected")
        try:
            header = json.loads(protected)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ManifestError(f"schema 1 manifest: {where}.protected is not JSON: {exc}") from exc
        if not isinstance(header, dict):
            raise ManifestError(f"schema 1 manifest: {where}.protected: expected an object")
        length = req_int(header, "formatLength", f"{where}.protected")
        tail = _b64url(req_str(header, "formatTail", f"{where}.protected"), "formatTail")
        if not 0 <= length <= len(raw):
            raise ManifestError(
                f"schema 1 manifest: {where}: formatLength {length} outside the body"
                f" of {len(raw)} bytes"
            )
        formats.add((length, tail))
    if len(formats) > 1:
        raise ManifestError("schema 1 manifest: conflicting formatLength/formatTail in signatures")
    length, tail = formats.pop()
    return bytes(raw[:length]) + tail


@dataclass(frozen=True, slots=True, kw_only=True)
class Schema1Manifest(Manifest):
    """A Docker schema 1 manifest.

    ``fs_layers`` are the layer digests (``blobSum``) and ``history`` the matching
    ``v1Compatibility`` JSON strings, both newest layer first, as schema 1 orders them.
    The fields are read from :attr:`payload`, the part the digest covers.
    """

    name: str = field(compare=False)
    tag: str = field(compare=False)
    architecture: str = field(compare=False)
    fs_layers: tuple[str, ...] = field(compare=False)
    history: tuple[str, ...] = field(compare=False)
    signed: bool = field(compare=False)

    @classmethod
    def from_bytes(cls, raw: bytes, media_type: str) -> Schema1Manifest:
        what = "schema 1 manifest"
        doc = load_object(raw, what)
        payload = schema1_payload(raw, doc)
        signed = bool(doc.get("signatures"))
        body = load_object(payload, f"{what} payload") if signed else doc
        version = opt_int(body, "schemaVersion")
        if version != 1:
            raise ManifestError(f"{what}: schemaVersion must be 1, got {version}")
        fs_layers: list[str] = []
        for i, layer in enumerate(req_list(body, "fsLayers")):
            if not isinstance(layer, dict):
                raise ManifestError(f"{what}: fsLayers[{i}]: expected an object")
            blob = req_str(layer, "blobSum", f"fsLayers[{i}]")
            try:
                Digest.parse(blob)
            except InvalidDigestError as exc:
                raise ManifestError(f"{what}: fsLayers[{i}].blobSum: {exc}") from exc
            fs_layers.append(blob)
        history: list[str] = []
        for i, entry in enumerate(req_list(body, "history")):
            if not isinstance(entry, dict):
                raise ManifestError(f"{what}: history[{i}]: expected an object")
            history.append(req_str(entry, "v1Compatibility", f"history[{i}]"))
        if len(history) != len(fs_layers):
            raise ManifestError(
                f"{what}: {len(fs_layers)} fsLayers but {len(history)} history entries"
            )
        return cls(
            raw=bytes(raw),
            media_type=media_type,
            digest=Digest.of(payload),
            payload=payload,
            json=doc,
            name=opt_str(body, "name") or "",
            tag=opt_str(body, "tag") or "",
            architecture=opt_str(body, "architecture") or "",
            fs_layers=tuple(fs_layers),
            history=tuple(history),
            signed=signed,
        )


class Schema1Handler:
    """Both schema 1 types; signed (``+prettyjws``) is what registries serve."""

    media_types: ClassVar[tuple[str, ...]] = (DOCKER_SCHEMA1_SIGNED, DOCKER_SCHEMA1)

    def parse(self, raw: bytes, media_type: str) -> Schema1Manifest:
        return Schema1Manifest.from_bytes(raw, media_type)
