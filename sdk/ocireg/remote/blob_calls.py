"""Blob calls of the wire layer (distribution spec, "Pulling blobs", "Pushing blobs",
"Deleting blobs"); the streaming reader and the upload logic live in :mod:`ocireg.blobs` and
:mod:`ocireg.upload`."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .. import wire
from ..digest import Digest
from ..errors import DigestMismatchError, RegistryError
from ..http_errors import raise_for_status
from ..mediatypes import BLOB_MEDIA_TYPE
from ..reference import Reference
from .core import PULL, PUSH, RemoteBase, blob_path

if TYPE_CHECKING:
    from ..manifests import Descriptor

__all__ = ["BlobCalls"]


class BlobCalls(RemoteBase):
    """HEAD, GET and DELETE of blobs, and requests to upload sessions."""

    # -- blobs -----------------------------------------------------------------------------

    def head_blob(
        self,
        ref: Reference,
        digest: str | Digest,
        *,
        actions: tuple[str, ...] = PULL,
        extra_scopes: tuple[str, ...] = (),
    ) -> Descriptor:
        """Size of a blob from a HEAD; :class:`NotFoundError` when the repository lacks it.

        ``actions``/``extra_scopes`` let an upload ask for its push token up front, so one
        token serves the HEAD and the upload that follows.
        """
        d = Digest.parse(str(digest))
        where = f"{ref.path}@{d}"
        resp = self.request(
            "HEAD", ref, blob_path(ref, d), actions=actions, extra_scopes=extra_scopes
        )
        with contextlib.closing(resp):
            raise_for_status(resp, operation="HEAD blob", registry=ref.domain, target=where)
            header = resp.headers.get("Docker-Content-Digest", "")
            length = resp.headers.get("Content-Length", "")
        if header.partition(":")[0] == d.algorithm and header != str(d):
            message = f"HEAD blob {ref.domain}/{where}: registry says {header}"
            raise DigestMismatchError(message, expected=str(d), actual=header)
        if not length.isdigit():  # the spec requires it; a proxy may have dropped it
            message = f"HEAD blob {ref.domain}/{where}: answer without Content-Length"
            raise RegistryError(
                message, status=resp.status_code, operation="HEAD blob", registry=ref.domain
            )
        from ..manifests import Descriptor

        return Descriptor(media_type=BLOB_MEDIA_TYPE, digest=str(d), size=int(length))

    def get_blob(self, ref: Reference, digest: str | Digest, *, start: int = 0) -> wire.Response:
        """A streamed ``GET`` of a blob from byte ``start``, asking for no content encoding
        (``Range`` offsets and ``Content-Length`` must count blob bytes). The caller checks
        the status and closes the response."""
        headers = {"Accept-Encoding": "identity"}
        if start:
            headers["Range"] = f"bytes={start}-"
        return self.request("GET", ref, blob_path(ref, digest), headers=headers, stream=True)

    def delete_blob(self, ref: Reference, digest: str | Digest) -> None:
        """Delete a blob from a repository (202); :class:`NotFoundError` if it is not there."""
        d = Digest.parse(str(digest))
        resp = self.request("DELETE", ref, blob_path(ref, d), actions=("pull", "delete"))
        with contextlib.closing(resp):
            where = {"registry": ref.domain, "target": f"{ref.path}@{d}"}
            raise_for_status(resp, operation="DELETE blob", ok=(200, 202, 204), **where)

    def start_upload(
        self,
        ref: Reference,
        *,
        mount: tuple[Digest, Reference] | None = None,
        extra_scopes: tuple[str, ...] = (),
    ) -> wire.Response:
        """``POST /v2/<name>/blobs/uploads/`` (with ``mount``: ``?mount=<digest>&from=<repo>``).
        The caller checks the status (201 mounted, 202 session open) and closes it."""
        path = f"/v2/{ref.path}/blobs/uploads/"
        if mount is not None:
            query = urlencode([("mount", str(mount[0])), ("from", mount[1].path)], safe=":/")
            path = f"{path}?{query}"
        return self.session_request(ref, "POST", path, b"", {}, extra_scopes)

    def session_request(
        self,
        ref: Reference,
        method: str,
        url: str,
        body: object,
        headers: Mapping[str, str],
        extra_scopes: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> wire.Response:
        """A request to an upload session (its ``Location``), with a push token.

        Not retried when it carries data: a PATCH or body PUT cut midway leaves the session
        in an unknown state, so it must not be replayed blindly (the upload asks the session
        where it stands instead).
        """
        hdrs = dict(headers)
        if body is not None:
            hdrs = {"Content-Type": BLOB_MEDIA_TYPE, "Content-Length": "0", **hdrs}
        kwargs.setdefault("retry", method in ("POST", "GET") or body == b"")
        return self.request(
            method,
            ref,
            url,
            actions=PUSH,
            extra_scopes=extra_scopes,
            headers=hdrs,
            data=body,
            **kwargs,
        )
