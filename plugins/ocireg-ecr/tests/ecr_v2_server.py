"""ECR's Registry HTTP API (``/v2/``) on loopback, served from ECR's own API (boto3 against
moto), so that ``/v2/`` and ``BatchDeleteImage``/``DescribeImages`` share one state: a tag
deleted through ECR's API is gone from ``/v2/`` too.

moto serves ECR's API but not ``/v2/``; this server answers what ocireg's deletion engine
uses, each request through the ECR call that ECR itself would make:

- ``GET /v2/`` (Basic ``AWS:<token>`` from ``GetAuthorizationToken``, as ECR asks for);
- ``GET /v2/<name>/tags/list`` (``ListImages``, ``n``/``last`` pages with ``Link``);
- ``HEAD``/``GET /v2/<name>/manifests/<tag or digest>`` (``BatchGetImage``);
- ``PUT /v2/<name>/manifests/<tag or digest>`` (``PutImage`` with the body's digest);
- ``HEAD /v2/<name>/blobs/<digest>`` (``BatchCheckLayerAvailability``), ``GET`` of blobs
  uploaded here, and uploads (``InitiateLayerUpload``, ``UploadLayerPart``,
  ``CompleteLayerUpload``: monolithic ``POST``, ``PATCH`` chunks, closing ``PUT``);
- ``DELETE /v2/<name>/manifests/<digest>`` (``BatchDeleteImage`` by digest); ``DELETE`` by
  tag answers 405 ``UNSUPPORTED`` (ECR deletes tags through its API only); the referrers
  API answers 404.

Where moto differs from ECR it shows here too: pushing a tag onto another image deletes the
image that tag leaves when it was its last tag (ECR keeps it untagged), and a child of an
index can be deleted (ECR answers ``ImageReferencedByManifestList``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from botocore.exceptions import ClientError


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (a test cutting a connection on purpose) is no error here."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
_MANIFEST = re.compile(r"/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)")
_TAGS = re.compile(r"/v2/(?P<name>.+)/tags/list")
_BLOB = re.compile(r"/v2/(?P<name>.+)/blobs/(?P<digest>sha256:[a-f0-9]{64})")
_UPLOAD = re.compile(r"/v2/(?P<name>.+)/blobs/uploads/(?P<id>[^/]*)")
_REFERRERS = re.compile(r"/v2/(?P<name>.+)/referrers/[^/]+")
#: The most this server reads of one request body.
BODY_LIMIT = 4 * 1024 * 1024


class Answer(Exception):
    """Ends a request with this status, headers and body."""

    def __init__(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def error(status: int, code: str, message: str = "") -> Answer:
    body = json.dumps({"errors": [{"code": code, "message": message or code}]}).encode()
    return Answer(status, body, {"Content-Type": "application/json"})


class EcrV2Server:
    """Serves ``/v2/`` for the registry ``account`` through ``ecr`` (a boto3 ECR client).

    :param password: the password ``GET /v2/`` and every request must carry as Basic
        ``AWS:<password>``; None lets anyone in.
    """

    def __init__(self, ecr: Any, account: str, password: str | None = None) -> None:
        self.ecr = ecr
        self.account = account
        self.password = password
        #: Every request, as ``(method, path)``, in order.
        self.log: list[tuple[str, str]] = []
        self._blobs: dict[str, bytes] = {}
        self._uploads: dict[str, bytearray] = {}
        self._lock = threading.Lock()
        self._http = _QuietServer(("127.0.0.1", 0), self._handler())
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._http.server_address[1]}"

    def __enter__(self) -> EcrV2Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(10)

    # -- routing ---------------------------------------------------------------------------

    def answer(
        self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes
    ) -> Answer:
        with self._lock:
            self.log.append((method, path))
        self._authorize(headers.get("Authorization"))
        if path == "/v2/" and method in ("GET", "HEAD"):
            return Answer(200, b"{}", {"Content-Type": "application/json"})
        if (m := _TAGS.fullmatch(path)) and method == "GET":
            return self._tags(m["name"], query)
        if m := _MANIFEST.fullmatch(path):
            return self._manifests(method, m["name"], m["ref"], headers, body)
        if (m := _BLOB.fullmatch(path)) and method in ("GET", "HEAD"):
            return self._blob(method, m["name"], m["digest"])
        if m := _UPLOAD.fullmatch(path):
            return self._upload(method, m["name"], m["id"], query, body)
        if _REFERRERS.fullmatch(path):
            raise error(404, "NOT_FOUND", "no referrers API")
        raise error(405 if _BLOB.fullmatch(path) else 404, "UNSUPPORTED", f"{method} {path}")

    def _authorize(self, value: str | None) -> None:
        if self.password is None:
            return
        scheme, _, token = (value or "").partition(" ")
        try:
            given = base64.b64decode(token, validate=True).decode() if scheme == "Basic" else ""
        except ValueError:
            given = ""
        if given != f"AWS:{self.password}":
            raise Answer(
                401,
                json.dumps({"errors": [{"code": "DENIED", "message": "Not Authorized"}]}).encode(),
                {"WWW-Authenticate": 'Basic realm="https://ecr.test/",service="ecr.amazonaws.com"'},
            )

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = getattr(self.ecr, operation)(registryId=self.account, **params)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "RepositoryNotFoundException":
                raise error(404, "NAME_UNKNOWN", "repository not found") from None
            raise error(500, "UNKNOWN", f"{operation}: {code}") from None
        return answer

    # -- tags and manifests ----------------------------------------------------------------

    def _tags(self, name: str, query: dict[str, str]) -> Answer:
        tags = sorted(self._all_tags(name))
        if "last" in query:
            tags = [tag for tag in tags if tag > query["last"]]
        headers = {"Content-Type": "application/json"}
        if "n" in query:
            n = max(1, min(int(query["n"]), 1000))
            if len(tags) > n:
                tags = tags[:n]
                headers["Link"] = f'</v2/{name}/tags/list?n={n}&last={quote(tags[-1])}>; rel="next"'
        return Answer(200, json.dumps({"name": name, "tags": tags}).encode(), headers)

    def _all_tags(self, name: str) -> Iterator[str]:
        request: dict[str, Any] = {"repositoryName": name, "filter": {"tagStatus": "TAGGED"}}
        while True:
            page = self._call("list_images", **request)
            yield from (i["imageTag"] for i in page.get("imageIds", []) if i.get("imageTag"))
            if not page.get("nextToken"):
                return
            request["nextToken"] = page["nextToken"]

    def _image(self, name: str, ref: str) -> tuple[bytes, str, str] | None:
        """(raw manifest, media type, digest) of ``ref``, or None."""
        image_id = {"imageDigest": ref} if _DIGEST.fullmatch(ref) else {"imageTag": ref}
        images = self._call("batch_get_image", repositoryName=name, imageIds=[image_id])["images"]
        if not images:
            return None
        raw = images[0]["imageManifest"].encode()
        media_type = images[0].get("imageManifestMediaType") or json.loads(raw)["mediaType"]
        return raw, media_type, images[0]["imageId"]["imageDigest"]

    def _manifests(self, method: str, name: str, ref: str, headers: Any, body: bytes) -> Answer:
        if method in ("GET", "HEAD"):
            found = self._image(name, ref)
            if found is None:
                raise error(404, "MANIFEST_UNKNOWN", f"{name}:{ref}")
            raw, media_type, digest = found
            head = {"Content-Type": media_type, "Docker-Content-Digest": digest}
            return Answer(200, raw, {**head, "Content-Length": str(len(raw))})
        if method == "PUT":
            return self._put_manifest(name, ref, headers.get("Content-Type", ""), body)
        if method == "DELETE":
            if not _DIGEST.fullmatch(ref):
                raise error(405, "UNSUPPORTED", "ECR deletes tags through its API")
            answer = self._call(
                "batch_delete_image", repositoryName=name, imageIds=[{"imageDigest": ref}]
            )
            if answer.get("failures"):
                raise error(404, "MANIFEST_UNKNOWN", answer["failures"][0]["failureCode"])
            return Answer(202)
        raise error(405, "UNSUPPORTED", method)

    def _put_manifest(self, name: str, ref: str, media_type: str, raw: bytes) -> Answer:
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        by_digest = _DIGEST.fullmatch(ref) is not None
        if by_digest and ref != digest:
            raise error(400, "DIGEST_INVALID", "the body does not hash to the digest")
        if not by_digest or self._image(name, digest) is None:
            tag = {} if by_digest else {"imageTag": ref}
            try:
                self.ecr.put_image(
                    registryId=self.account,
                    repositoryName=name,
                    imageManifest=raw.decode(),
                    imageManifestMediaType=media_type,
                    imageDigest=digest,
                    **tag,
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ImageAlreadyExistsException":
                    raise error(400, "MANIFEST_INVALID", exc.response["Error"]["Code"]) from None
        location = f"/v2/{name}/manifests/{digest}"
        return Answer(201, b"", {"Location": location, "Docker-Content-Digest": digest})

    # -- blobs -----------------------------------------------------------------------------

    def _blob(self, method: str, name: str, digest: str) -> Answer:
        layers = self._call(
            "batch_check_layer_availability", repositoryName=name, layerDigests=[digest]
        )
        if not layers.get("layers"):
            raise error(404, "BLOB_UNKNOWN", digest)
        size = layers["layers"][0]["layerSize"]
        head = {"Docker-Content-Digest": digest, "Content-Type": "application/octet-stream"}
        if method == "HEAD":
            return Answer(200, b"", {**head, "Content-Length": str(size)})
        with self._lock:
            data = self._blobs.get(digest)
        if data is None:
            raise error(404, "BLOB_UNKNOWN", "not uploaded through this server")
        return Answer(200, data, head)

    def _upload(
        self, method: str, name: str, upload_id: str, query: dict[str, str], body: bytes
    ) -> Answer:
        if method == "POST" and not upload_id:
            upload_id = self._call("initiate_layer_upload", repositoryName=name)["uploadId"]
            with self._lock:
                self._uploads[upload_id] = bytearray()
            if "digest" in query:  # monolithic: the body is the whole blob
                self._part(name, upload_id, body)
                return self._complete(name, upload_id, query["digest"])
            return self._progress(name, upload_id, 202)
        with self._lock:
            known = upload_id in self._uploads
        if not known:
            raise error(404, "BLOB_UPLOAD_UNKNOWN", upload_id)
        if method == "PATCH":
            self._part(name, upload_id, body)
            return self._progress(name, upload_id, 202)
        if method == "PUT" and "digest" in query:
            self._part(name, upload_id, body)
            return self._complete(name, upload_id, query["digest"])
        raise error(405, "UNSUPPORTED", method)

    def _part(self, name: str, upload_id: str, data: bytes) -> None:
        if not data:
            return
        with self._lock:
            first = len(self._uploads[upload_id])
            self._uploads[upload_id] += data
        self._call(
            "upload_layer_part",
            repositoryName=name,
            uploadId=upload_id,
            partFirstByte=first,
            partLastByte=first + len(data) - 1,
            layerPartBlob=data,
        )

    def _progress(self, name: str, upload_id: str, status: int) -> Answer:
        with self._lock:
            size = len(self._uploads[upload_id])
        return Answer(
            status,
            b"",
            {
                "Location": f"/v2/{name}/blobs/uploads/{upload_id}",
                "Docker-Upload-UUID": upload_id,
                "Range": f"0-{max(0, size - 1)}",
            },
        )

    def _complete(self, name: str, upload_id: str, digest: str) -> Answer:
        if not _DIGEST.fullmatch(digest):
            raise error(400, "DIGEST_INVALID", digest)
        done = self._call(
            "complete_layer_upload", repositoryName=name, uploadId=upload_id, layerDigests=[digest]
        )
        with self._lock:
            data = bytes(self._uploads.pop(upload_id))
            if done["layerDigest"] == digest:
                self._blobs[digest] = data
        if done["layerDigest"] != digest:
            raise error(400, "DIGEST_INVALID", "the upload does not hash to the digest")
        return Answer(
            201, b"", {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest}
        )

    # -- HTTP ------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                body = self._body()
                try:
                    answer = server.answer(self.command, parts.path, query, self.headers, body)
                except Answer as raised:
                    answer = raised
                self.send_response(answer.status)
                headers = {"Docker-Distribution-API-Version": "registry/2.0", **answer.headers}
                headers.setdefault("Content-Length", str(len(answer.body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            def _body(self) -> bytes:
                if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
                    length = min(int(self.headers.get("Content-Length") or 0), BODY_LIMIT)
                    return self.rfile.read(length) if length else b""
                body = bytearray()
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    body += self.rfile.read(size)
                    self.rfile.readline()
                    if len(body) > BODY_LIMIT:
                        raise ValueError("request body too large")
                self.rfile.readline()
                return bytes(body)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

        return Handler
