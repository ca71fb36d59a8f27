"""A small fake registry on 127.0.0.1: the Registry HTTP API (``/v2/``) over one
:class:`~ocireg_fakes.state.RegistryState`, plus vendor routes that tests add.

What the ``/v2/`` side serves (OCI distribution spec v1.1; what ocireg's engine uses):
``GET /v2/``; ``GET /v2/<name>/tags/list`` (``n``/``last``, ``Link`` paging);
``HEAD``/``GET``/``PUT``/``DELETE /v2/<name>/manifests/<ref>``; ``HEAD``/``GET
/v2/<name>/blobs/<digest>``; uploads (``POST .../blobs/uploads/`` monolithic with
``?digest=``, or a session finished by ``PUT ...?digest=``, with ``PATCH`` chunks, and
``?mount=&from=``). Anonymous; no token auth (the vendor routes check their own).

``DELETE`` of a manifest follows ``v2_delete``, the quirk of the registry emulated:
``"unsupported"`` answers 405 ``UNSUPPORTED`` to everything (Docker Hub, GHCR), ``"digest"``
deletes by digest only and answers 400 ``DIGEST_INVALID`` to a tag (distribution 2.x),
``"any"`` also deletes a tag alone (OCI 1.1 tag delete).

Vendor routes: :meth:`FakeRegistry.route` maps a method and a regular expression on the raw
(still percent-encoded) path to a handler ``(request, state, match) -> Reply``; they are
tried before the ``/v2/`` routes. :meth:`FakeRegistry.fail` queues canned answers (429 with
rate-limit headers, 5xx) for the next matching requests. Every request is logged in
:attr:`FakeRegistry.requests`.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .state import RegistryState, digest_of

__all__ = ["FakeRegistry", "Handler", "Reply", "Request", "V2Delete"]

V2Delete = Literal["unsupported", "digest", "any"]


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (a test cutting a connection on purpose) is no error here."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


_NAME = (
    r"(?P<name>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
)
_MAX_BODY = 16 * 1024 * 1024


@dataclass
class Request:
    method: str
    #: the raw path, percent-encoding kept
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: Any, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status,
            json.dumps(value).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    @classmethod
    def error(cls, status: int, code: str, message: str) -> Reply:
        """The distribution spec's ``{"errors": [...]}`` body."""
        return cls.json(status, {"errors": [{"code": code, "message": message}]})


Handler = Callable[[Request, RegistryState, "re.Match[str]"], Reply]


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    reply: Reply
    times: int


class FakeRegistry:
    """Start with :meth:`start` (or ``with``); :attr:`url` is ``http://127.0.0.1:<port>``,
    :attr:`host` ``127.0.0.1:<port>``."""

    def __init__(self, *, v2_delete: V2Delete = "digest", state: RegistryState | None = None):
        self.state = state or RegistryState()
        self.v2_delete: V2Delete = v2_delete
        self.requests: list[Request] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: list[_Fault] = []
        self._uploads: dict[str, bytearray] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeRegistry:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _any(self) -> None:
                fake._serve(self)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _any

        self._server = _QuietServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeRegistry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    # -- what tests configure --------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Serve ``method`` on paths fully matching ``pattern`` (raw path) with ``handler``."""
        self._routes.append((method, re.compile(pattern), handler))

    def fail(self, method: str, pattern: str, reply: Reply, *, times: int = 1) -> None:
        """Answer the next ``times`` requests matching ``method`` and ``pattern`` with
        ``reply`` (a 429 with ``Retry-After``, a 503...), before any route."""
        with self._lock:
            self._faults.append(_Fault(method, re.compile(pattern), reply, times))

    def calls(self, method: str | None = None, prefix: str = "") -> list[Request]:
        """Logged requests, by method and path prefix."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and r.path.startswith(prefix)
            ]

    # -- serving ---------------------------------------------------------------------------

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(min(length, _MAX_BODY)) if length else b""
        req = Request(
            h.command,
            split.path,
            parse_qs(split.query, keep_blank_values=True),
            {k.lower(): v for k, v in h.headers.items()},
            body,
        )
        with self._lock:
            self.requests.append(req)
        try:
            reply = self._dispatch(req)
        except Exception as exc:  # a bug in a handler: a 500 the test will see
            reply = Reply.json(500, {"message": f"fake: {type(exc).__name__}: {exc}"})
        h.send_response(reply.status)
        headers = {"Content-Length": str(len(reply.body)), **reply.headers}
        for name, value in headers.items():
            h.send_header(name, value)
        h.end_headers()
        if h.command != "HEAD" and reply.body:
            h.wfile.write(reply.body)

    def _dispatch(self, req: Request) -> Reply:
        with self._lock:
            for fault in self._faults:
                if fault.method == req.method and fault.pattern.fullmatch(req.path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault.reply
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(req.path)
            if match and method == req.method:
                return handler(req, self.state, match)
        return self._v2(req)

    # -- the Registry HTTP API -------------------------------------------------------------

    def _v2(self, req: Request) -> Reply:
        path = req.path
        if path in ("/v2/", "/v2"):
            return Reply.json(200, {}, {"Docker-Distribution-API-Version": "registry/2.0"})
        for suffix, serve in (
            (r"/tags/list", self._tags),
            (r"/manifests/(?P<ref>[^/]+)", self._manifest),
            (r"/blobs/uploads/(?P<session>[^/]*)", self._upload),
            (r"/blobs/(?P<digest>[^/]+)", self._blob),
        ):
            match = re.fullmatch(r"/v2/" + _NAME + suffix, path)
            if match:
                return serve(req, match)
        return Reply.error(404, "NOT_FOUND", f"fake: no route for {req.method} {path}")

    def _tags(self, req: Request, m: re.Match[str]) -> Reply:
        name = m["name"]
        if self.state.repository(name) is None:
            return Reply.error(404, "NAME_UNKNOWN", "repository name not known to registry")
        tags = sorted(self.state.tags(name))
        last = req.param("last")
        if last:
            tags = [t for t in tags if t > last]
        n = req.param("n")
        headers = {}
        if n is not None and int(n) < len(tags):
            tags = tags[: int(n)]
            headers["Link"] = f'</v2/{name}/tags/list?n={n}&last={quote(tags[-1])}>; rel="next"'
        return Reply.json(200, {"name": name, "tags": tags}, headers)

    def _manifest(self, req: Request, m: re.Match[str]) -> Reply:
        name, ref = m["name"], unquote(m["ref"])
        if req.method == "PUT":
            media_type = req.header("content-type") or "application/octet-stream"
            tag = None if ref.startswith("sha256:") else ref
            digest = self.state.put_manifest(name, req.body, media_type, tag)
            location = f"/v2/{name}/manifests/{digest}"
            return Reply(201, b"", {"Location": location, "Docker-Content-Digest": digest})
        if req.method == "DELETE":
            return self._delete_manifest(name, ref)
        found = self.state.resolve(name, ref)
        if found is None:
            return Reply.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        digest, manifest = found
        headers = {"Content-Type": manifest.media_type, "Docker-Content-Digest": digest}
        if req.method == "HEAD":
            return Reply(200, b"", {**headers, "Content-Length": str(len(manifest.body))})
        return Reply(200, manifest.body, headers)

    def _delete_manifest(self, name: str, ref: str) -> Reply:
        if self.v2_delete == "unsupported":
            return Reply.error(405, "UNSUPPORTED", "The operation is unsupported.")
        if not ref.startswith("sha256:"):
            if self.v2_delete == "digest":
                return Reply.error(400, "DIGEST_INVALID", "provided digest did not match")
            gone = self.state.delete_tag(name, ref)
        else:
            gone = self.state.delete_manifest(name, ref)
        return Reply(202) if gone else Reply.error(404, "MANIFEST_UNKNOWN", "manifest unknown")

    def _blob(self, req: Request, m: re.Match[str]) -> Reply:
        digest = unquote(m["digest"])
        with self.state.lock:
            data = self.state.blobs.get(digest)
        if data is None:
            return Reply.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        headers = {"Docker-Content-Digest": digest, "Content-Type": "application/octet-stream"}
        if req.method == "HEAD":
            return Reply(200, b"", {**headers, "Content-Length": str(len(data))})
        if req.method == "GET":
            return Reply(200, data, headers)
        return Reply.error(405, "UNSUPPORTED", "blob delete is not offered by this fake")

    def _upload(self, req: Request, m: re.Match[str]) -> Reply:
        name, session = m["name"], m["session"]
        if req.method == "POST":
            source = req.param("mount")
            if source and source in self.state.blobs:
                return Reply(201, b"", {"Location": f"/v2/{name}/blobs/{source}"})
            digest = req.param("digest")
            if digest:
                return self._finish(name, digest, bytearray(req.body))
            session = uuid.uuid4().hex
            with self._lock:
                self._uploads[session] = bytearray(req.body)
            return Reply(202, b"", {"Location": f"/v2/{name}/blobs/uploads/{session}"})
        with self._lock:
            buffer = self._uploads.get(session)
        if buffer is None:
            return Reply.error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown")
        buffer += req.body
        if req.method == "PATCH":
            return Reply(
                202,
                b"",
                {
                    "Location": f"/v2/{name}/blobs/uploads/{session}",
                    "Range": f"0-{len(buffer) - 1}",
                },
            )
        if req.method == "PUT":
            with self._lock:
                self._uploads.pop(session, None)
            return self._finish(name, req.param("digest") or "", buffer)
        return Reply.error(405, "UNSUPPORTED", "fake: not an upload method")

    def _finish(self, name: str, digest: str, data: bytearray) -> Reply:
        if digest_of(bytes(data)) != digest:
            return Reply.error(
                400, "DIGEST_INVALID", "provided digest did not match uploaded content"
            )
        self.state.put_blob(bytes(data))
        return Reply(
            201, b"", {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest}
        )
