"""The registry client: one object per program (or playbook task), any number of registries.

:class:`Client` wires the layers together: references in, the transport (session, auth,
retries) below, the manifest handlers for decoding, and typed values out. Higher operations
live in their own modules (:mod:`ocireg.blobs`, :mod:`ocireg.delete`, :mod:`ocireg.referrers`,
:mod:`ocireg.copy`) and reach the registry only through the methods here.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urljoin

import pluggy

from .auth.credentials import Credentials
from .auth.scope import CATALOG_SCOPE, repository_scope
from .builtin.explicit import ExplicitCredentials
from .digest import Digest
from .errors import (
    DigestMismatchError,
    InvalidDigestError,
    ManifestError,
    NotFoundError,
    PluginError,
)
from .manifests import Descriptor, HandlerRegistry, ImageIndex, ImageManifest, Manifest, Platform
from .plugins import get_plugin_manager
from .reference import Reference, normalize_registry
from .transport import Transport, raise_for_status

if TYPE_CHECKING:
    from typing import BinaryIO

    import requests

    from .batch_delete import BatchPlan, BatchResult, RepositoryGraph, SharedDigest
    from .blobs import BlobReader
    from .copy import CopyResult
    from .delete import DeletePlan

__all__ = ["MAX_MANIFEST_SIZE", "Client", "RegistryInfo"]

#: Registries must accept manifests of at least 4 MiB (distribution spec); we read no more.
MAX_MANIFEST_SIZE = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RegistryInfo:
    """What :meth:`Client.ping` learnt about a registry."""

    registry: str
    url: str
    status: int
    auth_scheme: str | None
    api_version: str | None
    authenticated: bool


RefLike = Reference | str


def _ref(value: RefLike) -> Reference:
    return value if isinstance(value, Reference) else Reference.parse(value)


class Client:
    """A registry client.

    :param credentials: one credential (``BasicCredentials``, ``IdentityToken``,
        ``RegistryToken`` or a ``(username, password)`` tuple) for every registry, or a mapping
        from registry host to credential. Without it (or for hosts it does not name) the
        credential providers are asked, in their documented order.
    :param plugins: extra plugin objects to register (credential providers, manifest handlers).
    :param load_entrypoints: also load plugins installed under the ``ocireg`` entry-point group.
    :param blocked_plugins: plugin names never to register (built-ins: ``explicit``,
        ``environment``, ``docker-config``, ``containers-auth``, ``manifest-handlers``).
    :param docker_config: the docker config directory (default ``$DOCKER_CONFIG`` or
        ``~/.docker``).
    :param insecure_registries: hosts spoken to over plain http or unverified TLS.
    :param plain_http: hosts spoken to over plain http only, never TLS; credentials may be
        sent to them in clear (the caller chose it).
    :param ca_cert: a CA bundle (PEM path) to verify registries with.
    :param client_cert: a client certificate path, or ``(cert, key)`` paths, for mutual TLS.
    :param verify_tls: set False to skip TLS verification for every registry.
    :param timeout: seconds, or ``(connect, read)``.
    :param max_workers: concurrency for independent requests (HEADs, blob copies).
    :param session: a ``requests.Session`` to use instead of a new pooled one.
    """

    def __init__(
        self,
        *,
        credentials: ExplicitCredentials = None,
        plugins: Iterable[Any] = (),
        load_entrypoints: bool = True,
        blocked_plugins: Iterable[str] = (),
        docker_config: str | os.PathLike[str] | None = None,
        insecure_registries: Iterable[str] = (),
        plain_http: Iterable[str] = (),
        ca_cert: str | None = None,
        client_cert: str | tuple[str, str] | None = None,
        verify_tls: bool = True,
        user_agent: str | None = None,
        timeout: float | tuple[float, float] = (10.0, 300.0),
        max_workers: int = 8,
        max_retries: int = 4,
        session: requests.Session | None = None,
    ) -> None:
        self.plugin_manager: pluggy.PluginManager = get_plugin_manager(
            plugins=plugins,
            load_entrypoints=load_entrypoints,
            blocked=blocked_plugins,
            credentials=credentials,
            docker_config_dir=docker_config,
        )
        self.handlers = HandlerRegistry(_collect_handlers(self.plugin_manager))
        self.max_workers = max(1, max_workers)
        self.transport = Transport(
            credentials_for=self._lookup_credentials,
            session=session,
            insecure_registries=insecure_registries,
            plain_http=plain_http,
            ca_cert=ca_cert,
            client_cert=client_cert,
            verify_tls=verify_tls,
            user_agent=user_agent,
            timeout=timeout,
            max_retries=max_retries,
            pool_size=max(16, self.max_workers * 2),
        )

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- credentials -----------------------------------------------------------------------

    def _lookup_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        return self._ask_providers(registry, repository, [])[1]

    def _ask_providers(
        self, registry: str, repository: str | None, asked: list[str]
    ) -> tuple[str | None, Credentials | None]:
        """Ask the providers in pluggy's firstresult order; return who answered and what.

        Done by hand rather than through the hook caller so the answering plugin is known
        (for ``explain_credentials``) and a failing plugin is named in the error.
        """
        hook = self.plugin_manager.hook.ocireg_get_credentials
        values = {"registry": registry, "repository": repository}
        for impl in reversed(hook.get_hookimpls()):
            asked.append(impl.plugin_name)
            try:
                found = cast(
                    "Credentials | None",
                    impl.function(**{name: values[name] for name in impl.argnames}),
                )
            except PluginError:
                raise
            except Exception as exc:  # a plugin's bug must not leak its locals (secrets)
                raise PluginError(
                    f"credential provider {impl.plugin_name} failed for {registry}: "
                    f"{type(exc).__name__}",
                    plugin=impl.plugin_name,
                ) from None
            if found is not None:
                return impl.plugin_name, found
        return None, None

    # -- helpers ---------------------------------------------------------------------------

    def _prepare(self, ref: Reference) -> None:
        self.transport.state(ref.domain, ref.scheme)

    def _request(
        self,
        method: str,
        ref: Reference,
        path: str,
        *,
        actions: tuple[str, ...] = ("pull",),
        extra_scopes: Iterable[str] = (),
        **kwargs: Any,
    ) -> requests.Response:
        self._prepare(ref)
        scopes = (repository_scope(ref.path, *actions), *extra_scopes)
        return self.transport.request(
            method, ref.domain, path, scopes=scopes, repository=ref.path, **kwargs
        )

    # -- registry --------------------------------------------------------------------------

    def ping(self, registry: str) -> RegistryInfo:
        """Check that ``registry`` speaks the v2 API, authenticating when it asks."""
        scheme = None
        for prefix in ("https://", "http://"):
            if registry.startswith(prefix):
                scheme, registry = prefix[:-3], registry[len(prefix) :].rstrip("/")
        st = self.transport.state(registry, scheme)
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
        """Every repository name of ``registry``, following ``Link`` pagination."""
        repos: list[str] = []
        for body in self._pages(registry, "/v2/_catalog", (CATALOG_SCOPE,), None, "catalog"):
            repos.extend(str(r) for r in body.get("repositories") or [])
        return repos

    def _pages(
        self,
        registry: str,
        path: str,
        scopes: tuple[str, ...],
        repository: str | None,
        operation: str,
    ) -> Iterator[dict[str, Any]]:
        url: str | None = path
        seen: set[str] = set()
        while url and url not in seen:
            seen.add(url)
            resp = self.transport.request(
                "GET", registry, url, scopes=scopes, repository=repository
            )
            # Remember absolute URLs: a Link back to the (relative) first page is a loop too.
            seen.add(urljoin(resp.url, url))
            with contextlib.closing(resp):
                raise_for_status(
                    resp, operation=operation, registry=registry, target=path.removeprefix("/v2/")
                )
                try:
                    body = resp.json()
                except ValueError:
                    raise ManifestError(f"{operation} {registry}: answer is not JSON") from None
                yield body if isinstance(body, dict) else {}
                nxt = resp.links.get("next", {}).get("url")
                url = urljoin(resp.url, nxt) if nxt else None

    # -- tags ------------------------------------------------------------------------------

    def tags(self, repository: RefLike) -> list[str]:
        """All tags of ``repository``, sorted lexically (``[]`` when it has none)."""
        ref = _ref(repository)
        self._prepare(ref)
        found: set[str] = set()
        for body in self._pages(
            ref.domain,
            f"/v2/{ref.path}/tags/list",
            (repository_scope(ref.path, "pull"),),
            ref.path,
            "list tags",
        ):
            found.update(str(t) for t in body.get("tags") or [])
        return sorted(found)

    def tag_descriptors(
        self, repository: RefLike, tags: Iterable[str] | None = None
    ) -> dict[str, Descriptor]:
        """The manifest descriptor of each tag (all tags by default), by concurrent HEADs.

        Tags deleted meanwhile are left out of the result.
        """
        ref = _ref(repository)
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

    # -- manifests -------------------------------------------------------------------------

    def head_manifest(self, ref: RefLike) -> Descriptor:
        """Digest, media type and size of a manifest, from a HEAD (free on Docker Hub)."""
        r = _ref(ref)
        resp = self._request(
            "HEAD",
            r,
            f"/v2/{r.path}/manifests/{r.identifier}",
            headers={"Accept": self.handlers.accept_header()},
        )
        try:
            if resp.status_code != 200:
                raise_for_status(
                    resp, operation="HEAD manifest", registry=r.domain, target=_target(r)
                )
            digest = resp.headers.get("Docker-Content-Digest")
            media_type = _content_type(resp)
            size = resp.headers.get("Content-Length")
        finally:
            resp.close()
        if not digest or not size:  # old registries: fall back to GET and compute
            m = self.get_manifest(r)
            return Descriptor(media_type=m.media_type, digest=str(m.digest), size=len(m.raw))
        if r.digest and digest != r.digest:
            raise DigestMismatchError(
                f"HEAD manifest {r.domain}/{_target(r)}: registry says {digest}",
                expected=r.digest,
                actual=digest,
            )
        return Descriptor(media_type=media_type, digest=digest, size=int(size))

    def get_manifest(self, ref: RefLike, platform: str | Platform | None = None) -> Manifest:
        """Fetch, verify and decode a manifest; with ``platform``, resolve an index to the
        matching child (``"linux/arm64/v8"``)."""
        r = _ref(ref)
        manifest = self._fetch_manifest(r)
        if platform is not None and isinstance(manifest, ImageIndex):
            want = Platform.parse(platform) if isinstance(platform, str) else platform
            child = manifest.select(want)
            manifest = self._fetch_manifest(r.with_digest(child.digest))
        return manifest

    def _fetch_manifest(self, r: Reference) -> Manifest:
        resp = self._request(
            "GET",
            r,
            f"/v2/{r.path}/manifests/{r.identifier}",
            headers={"Accept": self.handlers.accept_header()},
            stream=True,
        )
        with contextlib.closing(resp):
            where = f"{r.domain}/{_target(r)}"
            raise_for_status(resp, operation="GET manifest", registry=r.domain, target=_target(r))
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > MAX_MANIFEST_SIZE:
                raise ManifestError(f"manifest {where} is {length} bytes, over the 4 MiB limit")
            raw = _read_limited(resp, MAX_MANIFEST_SIZE, where)
            content_type = resp.headers.get("Content-Type", "")
            header_digest = resp.headers.get("Docker-Content-Digest")
        # Verify before parsing: tampered bytes are a digest error, whatever they contain.
        for expected, source in ((r.digest, "requested"), (header_digest, "Docker-Content-Digest")):
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
            computed = str(Digest.of(raw, want.algorithm))
            if computed != str(want):
                raise DigestMismatchError(
                    f"manifest {where}: {source} digest {expected} but content is {computed}",
                    expected=expected,
                    actual=computed,
                )
        return self.handlers.parse(raw, content_type)

    def image_config(self, ref: RefLike, platform: str | Platform | None = None) -> dict[str, Any]:
        """The image config JSON (``created``, ``architecture``, ``os``, ``config.Labels``...).

        An index without ``platform`` resolves to linux/amd64 when present, else its first
        image, as ``docker pull`` would on an amd64 host.
        """
        r = _ref(ref)
        manifest = self.get_manifest(r, platform)
        if isinstance(manifest, ImageIndex):
            child = _default_child(manifest)
            manifest = self._fetch_manifest(r.with_digest(child.digest))
        if not isinstance(manifest, ImageManifest):
            raise ManifestError(f"{r} is a {manifest.media_type}, which has no image config")
        from .blobs import read_blob

        data = read_blob(self, r, manifest.config, limit=MAX_MANIFEST_SIZE * 4)
        import json

        try:
            config = json.loads(data)
        except ValueError:
            raise ManifestError(f"image config {manifest.config.digest} is not JSON") from None
        if not isinstance(config, dict):
            raise ManifestError(f"image config {manifest.config.digest} is not a JSON object")
        return config

    def put_manifest(self, ref: RefLike, raw: bytes, media_type: str) -> Digest:
        """Store ``raw`` under the reference's tag (or digest); returns its digest."""
        return self._put_manifest(_ref(ref), raw, media_type)[0].digest

    def _put_manifest(
        self, r: Reference, raw: bytes, media_type: str
    ) -> tuple[Manifest, Mapping[str, str]]:
        """PUT a manifest and check the stored digest; also return the response headers
        (``OCI-Subject`` tells whether the registry tracks referrers itself)."""
        parsed = self.handlers.parse(raw, media_type)
        resp = self._request(
            "PUT",
            r,
            f"/v2/{r.path}/manifests/{r.identifier}",
            actions=("pull", "push"),
            headers={"Content-Type": media_type},
            data=raw,
        )
        with contextlib.closing(resp):
            raise_for_status(
                resp, operation="PUT manifest", registry=r.domain, target=_target(r), ok=(201, 200)
            )
            headers = resp.headers
        header = headers.get("Docker-Content-Digest")
        if header and header != str(parsed.digest) and _same_algorithm(header, str(parsed.digest)):
            raise DigestMismatchError(
                f"PUT manifest {r.domain}/{_target(r)}: registry stored {header}",
                expected=str(parsed.digest),
                actual=header,
            )
        return parsed, headers

    def delete_manifest(self, repository: RefLike, digest: str | Digest) -> None:
        """Delete the manifest ``digest`` (and with it, on most registries, every tag on it)."""
        r = _ref(repository)
        d = Digest.parse(str(digest))
        resp = self._request("DELETE", r, f"/v2/{r.path}/manifests/{d}", actions=("pull", "delete"))
        with contextlib.closing(resp):
            raise_for_status(
                resp,
                operation="DELETE manifest",
                registry=r.domain,
                target=f"{r.path}@{d}",
                ok=(200, 202, 204),
            )

    # -- blobs (ocireg.blobs, ocireg.upload) -----------------------------------------------

    def head_blob(self, repository: RefLike, digest: str | Digest) -> Descriptor:
        """Size (and digest) of a blob; :class:`NotFoundError` when the repository lacks it."""
        from . import blobs

        return blobs.head_blob(self, _ref(repository), str(digest))

    def blob_exists(self, repository: RefLike, digest: str | Digest) -> bool:
        from . import blobs

        return blobs.blob_exists(self, _ref(repository), str(digest))

    def open_blob(
        self, repository: RefLike, digest: str | Digest, *, size: int | None = None
    ) -> BlobReader:
        """A streaming reader of a blob that checks digest and size when it reaches the end."""
        from . import blobs

        return blobs.open_blob(self, _ref(repository), str(digest), size=size)

    def pull_blob(
        self,
        repository: RefLike,
        digest: str | Digest,
        dest: str | os.PathLike[str],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> Descriptor:
        """Download a blob to ``dest``, verified; nothing is left at ``dest`` on failure.

        ``progress``: a ``Callable[[int], None]`` given the bytes just written.
        """
        from . import blobs

        return blobs.pull_blob(self, _ref(repository), str(digest), dest, progress=progress)

    def push_blob(
        self,
        repository: RefLike,
        source: str | os.PathLike[str] | bytes | BinaryIO,
        *,
        digest: str | Digest | None = None,
        size: int | None = None,
        mount_from: RefLike | None = None,
        chunk_size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Descriptor:
        """Upload a blob unless the registry has it; mount it from ``mount_from`` when asked.

        ``progress``: a ``Callable[[int], None]`` given the bytes just sent (see
        :func:`ocireg.upload.push_blob`).
        """
        from . import upload

        return upload.push_blob(
            self,
            _ref(repository),
            source,
            digest=str(digest) if digest else None,
            size=size,
            mount_from=_ref(mount_from) if mount_from is not None else None,
            chunk_size=chunk_size,
            progress=progress,
        )

    def delete_blob(self, repository: RefLike, digest: str | Digest) -> None:
        from . import blobs

        blobs.delete_blob(self, _ref(repository), str(digest))

    # -- higher operations -----------------------------------------------------------------

    def delete_tag(self, ref: RefLike, *, force: bool = False, dry_run: bool = False) -> DeletePlan:
        """Remove exactly this tag and nothing else (see :mod:`ocireg.delete`)."""
        from . import delete

        return delete.delete_tag(self, _ref(ref), force=force, dry_run=dry_run)

    def delete_tags(
        self,
        repository: RefLike,
        tags: Iterable[str],
        *,
        shared_digest: SharedDigest = "untag",
        delete_referrers: bool = False,
        dry_run: bool = False,
    ) -> BatchResult:
        """Remove several tags of one repository, reading its graph once and never a
        manifest a remaining tag needs (see :mod:`ocireg.batch_delete`)."""
        from . import batch_delete

        return batch_delete.delete_tags(
            self,
            _ref(repository),
            tags,
            shared_digest=shared_digest,
            delete_referrers=delete_referrers,
            dry_run=dry_run,
        )

    def snapshot(self, repository: RefLike, tags: Iterable[str] | None = None) -> RepositoryGraph:
        """Read the graph of ``repository`` once: tags, their digests, every tagged index."""
        from . import batch_delete

        return batch_delete.snapshot(self, _ref(repository), tags)

    def plan_tag_deletes(
        self,
        repository: RefLike,
        tags: Iterable[str],
        *,
        shared_digest: SharedDigest = "untag",
        delete_referrers: bool = False,
        graph: RepositoryGraph | None = None,
    ) -> BatchPlan:
        """Decide how to delete ``tags``; sends nothing that changes the registry."""
        from . import batch_delete

        return batch_delete.plan_tag_deletes(
            self,
            _ref(repository),
            tags,
            shared_digest=shared_digest,
            delete_referrers=delete_referrers,
            graph=graph,
        )

    def execute_plan(self, plan: BatchPlan, *, result: BatchResult | None = None) -> BatchResult:
        """Carry out a plan from :meth:`plan_tag_deletes`; ``result`` is kept up to date."""
        from . import batch_delete

        return batch_delete.execute(self, plan, result=result)

    def read_blob(self, repository: RefLike, descriptor: Descriptor, *, limit: int) -> bytes:
        """A small blob (a config, a signature) in memory, verified; at most ``limit`` bytes."""
        from .blobs import read_blob

        return read_blob(self, _ref(repository), descriptor, limit=limit)

    def referrers(self, ref: RefLike, artifact_type: str | None = None) -> list[Descriptor]:
        """Manifests whose ``subject`` is ``ref`` (referrers API, else the fallback tag)."""
        from . import referrers

        return referrers.referrers(self, _ref(ref), artifact_type=artifact_type)

    def copy(
        self,
        src: RefLike,
        dst: RefLike,
        *,
        all_platforms: bool = True,
        platform: str | Platform | None = None,
        progress: Callable[[int], None] | None = None,
        progress_total: Callable[[int], None] | None = None,
    ) -> CopyResult:
        """Copy an image or index between repositories or registries (see :mod:`ocireg.copy`,
        :func:`~ocireg.copy.copy_image` for the ``Callable[[int], None]`` progress callbacks)."""
        from . import copy

        return copy.copy_image(
            self,
            _ref(src),
            _ref(dst),
            all_platforms=all_platforms,
            platform=platform,
            progress=progress,
            progress_total=progress_total,
        )

    # -- credentials explained -------------------------------------------------------------

    def credentials_for(self, registry: str, repository: str | None = None) -> Credentials | None:
        """The credential the providers give for ``registry`` (None: anonymous)."""
        return self._lookup_credentials(registry, repository)

    def explain_credentials(self, registry: str, repository: str | None = None) -> dict[str, Any]:
        """Which provider answers for ``registry``, with what kind of credential, and from
        where; never the secret. Providers are asked in the documented order."""
        registry = normalize_registry(registry)
        asked: list[str] = []
        provider, found = self._ask_providers(registry, repository, asked)
        if found is not None:
            return {
                "registry": registry,
                "provider": provider,
                "kind": found.kind,
                "username": getattr(found, "username", None),
                "source": found.source,
                "asked": asked,
            }
        return {
            "registry": registry,
            "provider": None,
            "kind": "anonymous",
            "username": None,
            "source": "",
            "asked": asked,
        }


def _collect_handlers(pm: pluggy.PluginManager) -> list[Any]:
    handlers: list[Any] = []
    for batch in pm.hook.ocireg_manifest_handlers():
        handlers.extend(batch or [])
    return handlers


def _target(r: Reference) -> str:
    return f"{r.path}@{r.digest}" if r.digest else f"{r.path}:{r.tag or 'latest'}"


def _content_type(resp: requests.Response) -> str:
    return resp.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


def _same_algorithm(a: str, b: str) -> bool:
    return a.split(":", 1)[0] == b.split(":", 1)[0]


def _read_limited(resp: requests.Response, limit: int, where: str) -> bytes:
    buf = bytearray()
    for chunk in resp.iter_content(65536):
        buf += chunk
        if len(buf) > limit:
            raise ManifestError(f"manifest {where} is over the {limit}-byte limit")
    return bytes(buf)


def _default_child(index: ImageIndex) -> Descriptor:
    try:
        return index.select(Platform("linux", "amd64"))
    except ManifestError:
        images = [d for d in index.manifests if d.platform is None or d.platform.os != "unknown"]
        if not images:
            raise
        return images[0]
