"""The wire layer's base: paths, the authorised request, ``Link`` pagination, lists.

See :mod:`ocireg.remote` for what the wire layer is and promises.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from .. import wire
from ..auth.scope import CATALOG_SCOPE, repository_scope
from ..digest import Digest
from ..errors import ManifestError, RegistryError
from ..hosts import origin
from ..http_errors import raise_for_status
from ..limits import PAGE_BODY_LIMIT, read_bounded
from ..redaction import redact_url
from ..reference import TAG_PATTERN, Reference
from ..transport import Transport

if TYPE_CHECKING:
    from ..manifests import HandlerRegistry
    from ..registry_api import RegistryAPI

__all__ = [
    "MAX_MANIFEST_SIZE",
    "MAX_PAGES",
    "PULL",
    "PUSH",
    "Page",
    "RegistryCapabilities",
    "RegistryInfo",
    "RemoteBase",
    "blob_path",
    "manifest_path",
    "target",
]

#: Registries must accept manifests of at least 4 MiB (distribution spec); we read no more.
MAX_MANIFEST_SIZE = 4 * 1024 * 1024
#: The most pages :meth:`RemoteBase.paginate` reads for one list.
MAX_PAGES = 10_000
#: How many list pages (and tag lists) a client remembers, and how large each may be.
RECENT_PAGES = 16
RECENT_BYTES = 1 << 20
PULL = ("pull",)
PUSH = ("pull", "push")


def _no_native_api(registry: str) -> RegistryAPI | None:
    return None


@dataclass(frozen=True, slots=True)
class RegistryInfo:
    """What :meth:`Remote.ping` learnt about a registry."""

    registry: str
    url: str
    status: int
    auth_scheme: str | None
    api_version: str | None
    authenticated: bool


@dataclass
class RegistryCapabilities:
    """What requests taught us about the registries of one client (filled by
    :mod:`ocireg.deletion.probe`). Only answers that cannot change while the client lives
    are kept: registries with deletes disabled, whether a registry deletes tags by name, and
    the repositories where a probe delete succeeded (permissions are per repository)."""

    deletes_disabled: set[str] = field(default_factory=set)
    deletes_enabled: set[str] = field(default_factory=set)
    tag_delete: dict[str, bool] = field(default_factory=dict)
    delete_verified: set[tuple[str, str]] = field(default_factory=set)
    #: Registries that refused a blob upload as one streamed PATCH (ocireg.upload).
    streamed_patch_refused: set[str] = field(default_factory=set)
    #: How each answer was learnt, in words, by ``(registry, what)`` (shown in plans).
    notes: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a ``Link``-paged list: its JSON object and its response headers."""

    body: Mapping[str, Any]
    headers: Mapping[str, str]
    #: The page's bytes as read (the body parsed from them may be shared: never change it).
    raw: bytes = b""


def manifest_path(ref: Reference, identifier: str | Digest) -> str:
    """``/v2/<name>/manifests/<tag or digest>``; anything else is refused before a URL is
    built (:class:`InvalidDigestError` / ``ValueError``)."""
    text = str(identifier)
    if ":" in text:
        text = str(Digest.parse(text))
    elif not TAG_PATTERN.fullmatch(text):
        raise ValueError(f"not a tag or digest: {text!r}")
    return f"/v2/{ref.path}/manifests/{text}"


def blob_path(ref: Reference, digest: str | Digest) -> str:
    return f"/v2/{ref.path}/blobs/{Digest.parse(str(digest))}"


def target(ref: Reference) -> str:
    """``path:tag`` or ``path@digest``, for messages."""
    return f"{ref.path}@{ref.digest}" if ref.digest else f"{ref.path}:{ref.tag or 'latest'}"


def _tag_names(pages: Iterable[Page]) -> list[str]:
    """The tags of ``pages``, sorted, each once (distribution sends them in directory order)."""
    names: set[str] = set()
    for page in pages:
        values = page.body.get("tags") or []
        try:
            "".join(values)  # a TypeError unless all are strings: checked in C, not in a loop
            names.update(values)
        except TypeError:
            names.update(str(v) for v in values)
    return sorted(names)


class _Recent:
    """The last few answers of ``Link``-paged lists, by key, each with what it was worked
    into. A page whose bytes are the same as last time is not parsed again, and a tag list
    whose pages are all unchanged is not sorted again: listing the same repository over and
    over (pollers, scripts) costs the requests alone. Only bytes that compare equal are
    reused, so what a caller gets never depends on the cache."""

    def __init__(self, size: int = RECENT_PAGES, limit: int = RECENT_BYTES) -> None:
        self._size, self._limit = size, limit
        self._items: dict[str, tuple[object, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, source: object) -> Any:
        hit = self._items.get(key)
        return hit[1] if hit is not None and hit[0] == source else None

    def put(self, key: str, source: bytes | tuple[bytes, ...], value: Any) -> None:
        size = len(source) if isinstance(source, bytes) else sum(map(len, source))
        if size > self._limit:
            return
        with self._lock:
            self._items.pop(key, None)
            if len(self._items) >= self._size:
                del self._items[next(iter(self._items))]  # the oldest
            self._items[key] = (source, value)


class RemoteBase:
    """The state and the generic calls every part of :class:`~ocireg.remote.Remote` uses.

    :param transport: sends the requests (auth, retries, redirects).
    :param handlers: decode manifests and build the ``Accept`` header.
    :param max_workers: concurrency for independent requests (HEADs of many tags).
    """

    def __init__(
        self, transport: Transport, handlers: HandlerRegistry, *, max_workers: int = 8
    ) -> None:
        self.transport = transport
        self.handlers = handlers
        self.max_workers = max(1, max_workers)
        self.capabilities = RegistryCapabilities()
        #: ``native_api(registry)``: the plugin-offered :class:`~ocireg.registry_api.RegistryAPI`
        #: of a registry, or None (the Client wires the ``ocireg_registry_api`` hook here).
        self.native_api: Callable[[str], RegistryAPI | None] = _no_native_api
        self._pages, self._tag_lists = _Recent(), _Recent()

    # -- requests --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        ref: Reference,
        path_or_url: str,
        *,
        actions: tuple[str, ...] = PULL,
        extra_scopes: Iterable[str] = (),
        **kwargs: Any,
    ) -> wire.Response:
        """One request for ``ref``'s repository, with a token for ``actions`` on it.

        ``path_or_url`` is a path built here or a URL the registry gave (an upload session's
        ``Location``). Callers map statuses to errors with ``raise_for_status``.
        """
        self.transport.state(ref.domain, ref.scheme, ping=False)
        scopes = (repository_scope(ref.path, *actions), *extra_scopes)
        return self.transport.request(
            method, ref.domain, path_or_url, scopes=scopes, repository=ref.path, **kwargs
        )

    #: The most pages one :meth:`paginate` call reads (a million tags at 100 a page); more
    #: is taken for a registry sending pages for ever, and ends with a RegistryError.
    max_pages = MAX_PAGES

    def paginate(
        self,
        registry: str,
        path: str,
        *,
        scopes: tuple[str, ...],
        repository: str | None,
        operation: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        missing: bool = False,
    ) -> Iterator[Page]:
        """Every page of a ``Link``-paged list (RFC 8288 ``rel="next"``), stopping on a URL
        seen before. ``missing=True``: a 404 on the first page ends the list with no page
        (the referrers API's "not supported").

        What a registry sends is bounded: each page is read up to
        :data:`~ocireg.limits.PAGE_BODY_LIMIT` bytes after decoding, at most
        :attr:`max_pages` pages are read, and a ``Link`` is followed only on the registry's
        own origin (scheme, host, port): one naming another is a
        :class:`~ocireg.errors.RegistryError`, not a page silently merged in.
        """
        home = origin(self.transport.base_url(registry))
        url: str | None = path
        seen: set[str] = set()
        count = 0
        while url and url not in seen:
            first = not seen
            if count >= self.max_pages:
                raise RegistryError(
                    f"{operation} {registry}: more than {self.max_pages} pages; stopping",
                    status=200,
                    operation=operation,
                    registry=registry,
                )
            count += 1
            seen.add(url)
            here = urljoin(self.transport.base_url(registry) + "/", url)
            seen.add(here)  # a Link back to the (relative) first page is a loop too
            resp = self.transport.request(
                "GET",
                registry,
                url,
                scopes=scopes,
                repository=repository,
                headers=headers,
                params=params if first else None,
                stream=True,
            )
            with contextlib.closing(resp):
                if missing and first and resp.status_code == 404:
                    return
                where = path.removeprefix("/v2/")
                raise_for_status(resp, operation=operation, registry=registry, target=where)
                raw = read_bounded(resp, PAGE_BODY_LIMIT, f"{operation} {registry}")
                body = self._pages.get(here, raw)
                if body is None:
                    try:
                        body = json.loads(raw)
                    except (ValueError, RecursionError):
                        raise ManifestError(f"{operation} {registry}: answer is not JSON") from None
                    body = body if isinstance(body, dict) else {}
                    self._pages.put(here, raw, body)
                nxt = resp.links.get("next", {}).get("url")
                status = resp.status_code
                yield Page(body, resp.headers, raw)
            url = urljoin(here, nxt) if nxt else None
            if url and origin(url) != home:
                raise RegistryError(
                    f"{operation} {registry}: the next page is on another origin"
                    f" ({redact_url(url)}); not following it",
                    status=status,
                    operation=operation,
                    registry=registry,
                )

    # -- registry --------------------------------------------------------------------------

    def ping(self, registry: str, scheme: str | None = None) -> RegistryInfo:
        """``GET /v2/``: whether ``registry`` speaks the API, authenticating when asked."""
        st = self.transport.state(registry, scheme, ping=False)
        resp = self.transport.request("GET", registry, "/v2/")
        with contextlib.closing(resp):
            raise_for_status(resp, operation="ping", registry=registry, target="v2/")
            return RegistryInfo(
                registry=registry,
                url=st.base_url,
                status=resp.status_code,
                auth_scheme=st.challenge.scheme if st.challenge else None,
                api_version=resp.headers.get("Docker-Distribution-API-Version"),
                # An anonymous bearer token (Docker Hub hands them out) is not authentication.
                authenticated="Authorization" in resp.request.headers
                and self.transport.credentials(registry) is not None,
            )

    def catalog(self, registry: str) -> list[str]:
        repos: list[str] = []
        pages = self.paginate(
            registry, "/v2/_catalog", scopes=(CATALOG_SCOPE,), repository=None, operation="catalog"
        )
        for page in pages:
            repos.extend(str(r) for r in page.body.get("repositories") or [])
        return repos

    def tags(self, ref: Reference) -> list[str]:
        """Every tag of ``ref``'s repository over all pages, sorted and each once (a new list
        each call; pages equal to those of the last call are not sorted again)."""
        self.transport.state(ref.domain, ref.scheme, ping=False)
        pages = list(
            self.paginate(
                ref.domain,
                f"/v2/{ref.path}/tags/list",
                scopes=(repository_scope(ref.path, "pull"),),
                repository=ref.path,
                operation="list tags",
            )
        )
        key, raws = f"{ref.domain}/{ref.path}", tuple(page.raw for page in pages)
        names: list[str] | None = self._tag_lists.get(key, raws)
        if names is None:
            names = _tag_names(pages)
            self._tag_lists.put(key, raws, names)
        return list(names)

    def referrer_pages(
        self, ref: Reference, subject: Digest, artifact_type: str | None, accept: str
    ) -> Iterator[Page]:
        """Pages of ``GET /v2/<name>/referrers/<digest>``; none when the registry has no
        referrers API (404)."""
        self.transport.state(ref.domain, ref.scheme, ping=False)
        return self.paginate(
            ref.domain,
            f"/v2/{ref.path}/referrers/{Digest.parse(str(subject))}",
            scopes=(repository_scope(ref.path, "pull"),),
            repository=ref.path,
            operation="GET referrers",
            params={"artifactType": artifact_type} if artifact_type else None,
            headers={"Accept": accept},
            missing=True,
        )

    # -- manifests -------------------------------------------------------------------------
