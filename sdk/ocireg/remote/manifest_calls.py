"""Manifest calls of the wire layer (distribution spec, "Pulling manifests", "Pushing
manifests", "Deleting tags and manifests")."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from .. import wire
from ..digest import Digest
from ..errors import DigestMismatchError, InvalidDigestError, ManifestError, NotFoundError
from ..http_errors import raise_for_status, registry_errors
from ..limits import read_bounded
from ..mediatypes import GENERIC_CONTENT_TYPES, SCHEMA1_TYPES, strip_params
from ..reference import Reference
from .core import MAX_MANIFEST_SIZE, PUSH, RemoteBase, manifest_path, target

if TYPE_CHECKING:
    from ..manifests import Descriptor, Manifest

__all__ = ["ManifestCalls"]

#: Statuses of a ``DELETE`` that say what the registry supports rather than fail the caller.
_TELLING = (400, 404, 405)


class ManifestCalls(RemoteBase):
    """HEAD, verified GET, PUT and DELETE of manifests."""

    def head_manifest(self, ref: Reference) -> Descriptor:
        """Digest, media type and size of a manifest, from a HEAD (free on Docker Hub)."""
        resp = self.request(
            "HEAD",
            ref,
            manifest_path(ref, ref.identifier),
            headers={"Accept": self.handlers.accept_header()},
        )
        try:
            if resp.status_code != 200:
                raise_for_status(
                    resp, operation="HEAD manifest", registry=ref.domain, target=target(ref)
                )
            digest = resp.headers.get("Docker-Content-Digest")
            media_type = _content_type(resp)
            size = resp.headers.get("Content-Length")
        finally:
            resp.close()
        from ..manifests import Descriptor  # the manifest types load with the first manifest

        if not digest or not size:  # old registries: fall back to GET and compute
            m = self.get_manifest(ref)
            return Descriptor(media_type=m.media_type, digest=str(m.digest), size=len(m.raw))
        where = f"HEAD manifest {ref.domain}/{target(ref)}"
        try:
            # A header is untrusted text: it becomes a digest (and may become a URL) only
            # once it parses as one ("../x" or "sha256:../.." never do).
            parsed = Digest.parse(digest)
        except InvalidDigestError:
            parsed = None
        if parsed is None or not parsed.verifiable:  # an algorithm we cannot check: refuse
            raise ManifestError(f"{where}: invalid Docker-Content-Digest {digest[:80]!r}")
        digest = str(parsed)
        if not size.isdigit():
            raise ManifestError(f"{where}: invalid Content-Length {size[:20]!r}")
        if ref.digest and digest != ref.digest:
            raise DigestMismatchError(
                f"{where}: registry says {digest}", expected=ref.digest, actual=digest
            )
        return Descriptor(media_type=media_type, digest=digest, size=int(size))

    def tag_descriptors(
        self, ref: Reference, tags: Iterable[str] | None = None
    ) -> dict[str, Descriptor]:
        """The descriptor of each tag (all by default), by concurrent HEADs; tags deleted
        meanwhile are left out."""
        names = list(self.tags(ref) if tags is None else tags)

        def one(tag: str) -> tuple[str, Descriptor | None]:
            try:
                return tag, self.head_manifest(ref.with_tag(tag))
            except NotFoundError:
                return tag, None

        out: dict[str, Descriptor] = {}
        if not names:
            return out
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(names))) as pool:
            for tag, desc in pool.map(one, names):
                if desc is not None:
                    out[tag] = desc
        return out

    def get_manifest(self, ref: Reference) -> Manifest:
        """Fetch, verify (against the requested digest and ``Docker-Content-Digest``) and
        decode a manifest of at most :data:`MAX_MANIFEST_SIZE` bytes."""
        resp = self.request(
            "GET",
            ref,
            manifest_path(ref, ref.identifier),
            headers={"Accept": self.handlers.accept_header()},
            stream=True,
        )
        with contextlib.closing(resp):
            where = f"{ref.domain}/{target(ref)}"
            raise_for_status(
                resp, operation="GET manifest", registry=ref.domain, target=target(ref)
            )
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > MAX_MANIFEST_SIZE:
                raise ManifestError(f"manifest {where} is {length} bytes, over the 4 MiB limit")
            # One byte over the limit is enough to know the manifest is too large.
            raw = read_bounded(resp, MAX_MANIFEST_SIZE + 1, f"manifest {where}", truncate=True)
            if len(raw) > MAX_MANIFEST_SIZE:
                raise ManifestError(f"manifest {where} is over the {MAX_MANIFEST_SIZE}-byte limit")
            content_type = resp.headers.get("Content-Type", "")
            header_digest = resp.headers.get("Docker-Content-Digest")
        # Verify before parsing: tampered bytes are a digest error, whatever they contain.
        covered = _covered(raw, content_type)
        for expected, source in (
            (ref.digest, "requested"),
            (header_digest, "Docker-Content-Digest"),
        ):
            if not expected:
                continue
            try:
                want = Digest.parse(expected)
            except InvalidDigestError:
                if source == "requested":
                    raise
                continue  # a malformed header cannot be checked; the content still is
            if not want.verifiable:
                continue  # an algorithm we cannot compute
            # Hash with the digest's own algorithm: a manifest pulled by sha512 is fine.
            computed = str(Digest.of(covered, want.algorithm))
            if computed != str(want):
                raise DigestMismatchError(
                    f"manifest {where}: {source} digest {expected} but content is {computed}",
                    expected=expected,
                    actual=computed,
                )
        return self.handlers.parse(raw, content_type)

    def put_manifest(
        self, ref: Reference, raw: bytes, media_type: str
    ) -> tuple[Manifest, Mapping[str, str]]:
        """PUT a manifest and check the stored digest; also return the response headers
        (``OCI-Subject`` tells whether the registry tracks referrers itself)."""
        parsed = self.handlers.parse(raw, media_type)
        resp = self.request(
            "PUT",
            ref,
            manifest_path(ref, ref.identifier),
            actions=PUSH,
            headers={"Content-Type": media_type},
            data=raw,
        )
        with contextlib.closing(resp):
            raise_for_status(
                resp,
                operation="PUT manifest",
                registry=ref.domain,
                target=target(ref),
                ok=(201, 200),
            )
            headers = resp.headers
        header = headers.get("Docker-Content-Digest")
        if header and header != str(parsed.digest) and _same_algorithm(header, str(parsed.digest)):
            raise DigestMismatchError(
                f"PUT manifest {ref.domain}/{target(ref)}: registry stored {header}",
                expected=str(parsed.digest),
                actual=header,
            )
        return parsed, headers

    def delete_manifest(self, ref: Reference, digest: str | Digest) -> None:
        """Delete the manifest ``digest`` (and with it, on most registries, every tag on it)."""
        d = Digest.parse(str(digest))
        resp = self.request("DELETE", ref, manifest_path(ref, d), actions=("pull", "delete"))
        with contextlib.closing(resp):
            raise_for_status(
                resp,
                operation="DELETE manifest",
                registry=ref.domain,
                target=f"{ref.path}@{d}",
                ok=(200, 202, 204),
            )

    def try_delete_manifest(self, ref: Reference, identifier: str | Digest) -> tuple[int, str]:
        """``DELETE`` a manifest by tag or digest: ``(status, first error code)`` for the
        answers that say what the registry supports (2xx, 400, 404, 405); raise for the rest
        (401/403 permissions, 429, 5xx)."""
        path = manifest_path(ref, identifier)
        resp = self.request("DELETE", ref, path, actions=("pull", "delete"))
        with contextlib.closing(resp):
            status = resp.status_code
            if status in (200, 202, 204):
                return status, ""
            details = registry_errors(resp)
            code = details[0].code if details else ""
            if status in _TELLING and code not in ("DENIED", "UNAUTHORIZED"):
                return status, code
            sep = "@" if ":" in str(identifier) else ":"
            raise_for_status(
                resp,
                operation="DELETE manifest",
                registry=ref.domain,
                target=f"{ref.path}{sep}{identifier}",
                ok=(),
            )
            raise AssertionError("unreachable")  # raise_for_status raised


def _covered(raw: bytes, content_type: str) -> bytes:
    """The bytes a manifest's digest covers: for a signed schema 1 manifest (served as such,
    or under a generic type) the payload without its JWS signatures, which is what
    ``Docker-Content-Digest`` and ``image@sha256:...`` name; for every other type ``raw``."""
    kind = strip_params(content_type).lower()
    if kind and kind not in SCHEMA1_TYPES and kind not in GENERIC_CONTENT_TYPES:
        return raw
    try:
        from ..manifests import schema1_payload

        return schema1_payload(raw)  # raw itself when unsigned or not schema 1 at all
    except ManifestError:
        return raw  # not a readable schema 1 body: its raw bytes are checked


def _content_type(resp: wire.Response) -> str:
    return resp.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


def _same_algorithm(a: str, b: str) -> bool:
    return a.split(":", 1)[0] == b.split(":", 1)[0]
