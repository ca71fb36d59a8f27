"""The registry client: one object per program (or playbook task), any number of registries.

:class:`Client` is the front door. It wires the layers together once (plugin manager,
credential keychain, transport, manifest handlers, the wire layer :class:`~ocireg.remote.Remote`)
and each of its methods is a short delegation: references in, an operation
(:mod:`ocireg.images`, :mod:`ocireg.blobs`, :mod:`ocireg.upload`, :mod:`ocireg.copy`,
:mod:`ocireg.referrers`, :mod:`ocireg.deletion`) or a wire call, typed values out. See
``docs/architecture.md`` for the layers.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, BinaryIO

from .auth.credentials import Credentials
from .auth.realm import Resolver, system_resolver
from .digest import Digest
from .plugins import NativeAPIs, PluginHandlers, get_plugin_manager
from .reference import Reference
from .remote import MAX_MANIFEST_SIZE, RegistryInfo, Remote
from .transport import Transport

if TYPE_CHECKING:
    import pluggy

    from . import blobs, copy, deletion, download, images, referrers, upload
    from .auth.keychain import Keychain
    from .blobs import BlobReader
    from .builtin.explicit import ExplicitCredentials
    from .copy import CopyResult
    from .deletion import BatchPlan, BatchResult, DeletePlan, RepositoryGraph, SharedDigest
    from .manifests import Descriptor, HandlerRegistry, Manifest, Platform


class _Operation:
    """An operation module, imported when a method first uses it: a program that lists
    tags never loads what copying, uploading or deleting needs (nor their start-up time)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(f".{self.name}", __package__), attr)


if not TYPE_CHECKING:
    blobs, copy, deletion, download, images, referrers, upload = map(
        _Operation, ("blobs", "copy", "deletion", "download", "images", "referrers", "upload")
    )

__all__ = ["MAX_MANIFEST_SIZE", "Client", "RegistryInfo"]


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
    :param insecure_registries: hosts spoken to with unverified TLS, falling back to plain
        http when TLS fails (docker's ``insecure-registries``).
    :param plain_http: hosts spoken to over plain http only, never TLS; credentials may be
        sent to them in clear (the caller chose it).
    :param ca_cert: a CA bundle (PEM path) to verify registries with.
    :param client_cert: a client certificate path, or ``(cert, key)`` paths, for mutual TLS.
    :param verify_tls: set False to skip TLS verification for every registry.
    :param timeout: seconds, or ``(connect, read)``.
    :param max_workers: concurrency for independent requests (HEADs, blob copies).
    :param session: a session to use instead of a new pooled one: ocireg's own
        :class:`~ocireg.wire.Session`, or a ``requests.Session`` (used as is).
    :param max_retry_wait: the longest ``Retry-After`` wait honoured (seconds); a registry
        asking for more gets a :class:`TooManyRequestsError` saying so.
    :param retry_budget: the most one call sleeps between retries, in all (seconds).
    :param speed_limit: bytes per second a response body must keep up, measured over
        ``speed_time`` seconds (curl's ``--speed-limit``/``--speed-time``); 0 turns it off.
    :param deadline: seconds one call may take, its body included (None: no deadline).
    :param allow_private_realms: accept token realms on loopback or private addresses for a
        registry that is not on one (link-local realms are refused always).
    :param resolver: looks up realm host names (``socket.getaddrinfo``'s signature), to
        check the addresses a token request would go to.
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
        session: Any = None,
        max_retry_wait: float = 60.0,
        retry_budget: float = 120.0,
        speed_limit: int = 1024,
        speed_time: float = 30.0,
        deadline: float | None = None,
        allow_private_realms: bool = False,
        resolver: Resolver = system_resolver,
    ) -> None:
        plugins, explicit = list(plugins), None
        if credentials is not None:  # checked now: a bad one is an error of this call
            from .builtin.explicit import ExplicitCredentialsProvider

            explicit = ExplicitCredentialsProvider(credentials)
        self._plugin_options: dict[str, Any] = {
            "plugins": plugins,
            "load_entrypoints": load_entrypoints,
            "blocked": list(blocked_plugins),
            "credentials": explicit,
            "docker_config_dir": docker_config,
        }
        # The plugin manager (installed plugins' entry points) and the keychain are made
        # when first needed: an anonymous call to an open registry needs neither. Plugins
        # given here are checked at once (PluginError; ManifestError for a handler conflict).
        self._plugin_manager: pluggy.PluginManager | None = None
        self._keychain: Keychain | None = None
        self._lazy_lock = threading.Lock()
        handlers = PluginHandlers(lambda: self.plugin_manager, self._plugin_options)
        if plugins:
            handlers.collect()
        #: The manifest handlers (the plugins' ones too), collected on first use.
        self.handlers: HandlerRegistry = handlers
        self.max_workers = max(1, max_workers)
        self.transport = Transport(
            credentials_for=self.credentials_for,
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
            max_retry_wait=max_retry_wait,
            retry_budget=retry_budget,
            speed_limit=speed_limit,
            speed_time=speed_time,
            deadline=deadline,
            allow_private_realms=allow_private_realms,
            resolver=resolver,
        )
        #: The wire layer every operation goes through (public: plugins may use it too).
        self.remote = Remote(self.transport, self.handlers, max_workers=self.max_workers)
        self.remote.native_api = NativeAPIs(lambda: self.plugin_manager, self.credentials_for)

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The plugin manager: the hook specs, the built-ins, the plugins given and (with
        ``load_entrypoints``) the installed ones; made on first use.

        :raises PluginError: naming the plugin when an installed one fails to load.
        """
        pm = self._plugin_manager
        if pm is None:
            with self._lazy_lock:
                if self._plugin_manager is None:
                    self._plugin_manager = get_plugin_manager(**self._plugin_options)
                pm = self._plugin_manager
        return pm

    @property
    def keychain(self) -> Keychain:
        """Asks the credential providers, caching each answer as long as it is valid."""
        keychain = self._keychain
        if keychain is None:
            from .auth.keychain import Keychain

            pm = self.plugin_manager
            with self._lazy_lock:
                if self._keychain is None:
                    self._keychain = Keychain(pm)
                keychain = self._keychain
        return keychain

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- registry --------------------------------------------------------------------------

    def ping(self, registry: str) -> RegistryInfo:
        """Check that ``registry`` speaks the v2 API, authenticating when it asks."""
        scheme = None
        for prefix in ("https://", "http://"):
            if registry.startswith(prefix):
                scheme, registry = prefix[:-3], registry[len(prefix) :].rstrip("/")
        return self.remote.ping(registry, scheme)

    def catalog(self, registry: str) -> list[str]:
        """Every repository name of ``registry``, following ``Link`` pagination."""
        return self.remote.catalog(registry)

    # -- tags ------------------------------------------------------------------------------

    def tags(self, repository: RefLike) -> list[str]:
        """All tags of ``repository``, sorted lexically (``[]`` when it has none)."""
        return self.remote.tags(_ref(repository))

    def tag_descriptors(
        self, repository: RefLike, tags: Iterable[str] | None = None
    ) -> dict[str, Descriptor]:
        """The manifest descriptor of each tag (all tags by default), by concurrent HEADs.

        Tags deleted meanwhile are left out of the result.
        """
        return self.remote.tag_descriptors(_ref(repository), tags)

    # -- manifests -------------------------------------------------------------------------

    def head_manifest(self, ref: RefLike) -> Descriptor:
        """Digest, media type and size of a manifest, from a HEAD (free on Docker Hub)."""
        return self.remote.head_manifest(_ref(ref))

    def get_manifest(self, ref: RefLike, platform: str | Platform | None = None) -> Manifest:
        """Fetch, verify and decode a manifest; with ``platform``, resolve an index to the
        matching child (``"linux/arm64/v8"``)."""
        return images.get_manifest(self.remote, _ref(ref), platform)

    def image_config(self, ref: RefLike, platform: str | Platform | None = None) -> dict[str, Any]:
        """The image config JSON (``created``, ``architecture``, ``os``, ``config.Labels``...).

        An index without ``platform`` resolves to linux/amd64 when present, else its first
        image, as ``docker pull`` would on an amd64 host.
        """
        return images.image_config(self.remote, _ref(ref), platform)

    def put_manifest(self, ref: RefLike, raw: bytes, media_type: str) -> Digest:
        """Store ``raw`` under the reference's tag (or digest); returns its digest."""
        return self.remote.put_manifest(_ref(ref), raw, media_type)[0].digest

    def delete_manifest(self, repository: RefLike, digest: str | Digest) -> None:
        """Delete the manifest ``digest`` (and with it, on most registries, every tag on it)."""
        self.remote.delete_manifest(_ref(repository), digest)

    # -- blobs (ocireg.blobs, ocireg.upload) -----------------------------------------------

    def head_blob(self, repository: RefLike, digest: str | Digest) -> Descriptor:
        """Size (and digest) of a blob; :class:`NotFoundError` when the repository lacks it."""
        return self.remote.head_blob(_ref(repository), digest)

    def blob_exists(self, repository: RefLike, digest: str | Digest) -> bool:
        return blobs.blob_exists(self.remote, _ref(repository), str(digest))

    def open_blob(
        self, repository: RefLike, digest: str | Digest, *, size: int | None = None
    ) -> BlobReader:
        """A streaming reader of a blob that checks digest and size when it reaches the end."""
        return blobs.open_blob(self.remote, _ref(repository), str(digest), size=size)

    def read_blob(self, repository: RefLike, descriptor: Descriptor, *, limit: int) -> bytes:
        """A small blob (a config, a signature) in memory, verified; at most ``limit`` bytes."""
        return blobs.read_blob(self.remote, _ref(repository), descriptor, limit=limit)

    def pull_blob(
        self,
        repository: RefLike,
        digest: str | Digest | Descriptor,
        dest: str | os.PathLike[str] | BinaryIO,
        *,
        size: int | None = None,
        force: bool = False,
        fsync: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> Descriptor:
        """Download a blob to ``dest``, verified, stopping at its size (from a descriptor,
        ``size``, or a HEAD). A regular file is replaced only once every byte is verified;
        a device, FIFO or file object is written to as the bytes come; a symlink is refused
        unless ``force`` (see :mod:`ocireg.download`).

        ``progress``: a ``Callable[[int], None]`` given the bytes just written.
        """
        return download.pull_blob(
            self.remote,
            _ref(repository),
            str(digest) if isinstance(digest, str | Digest) else digest,
            dest,
            size=size,
            force=force,
            fsync=fsync,
            progress=progress,
        )

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
        return upload.push_blob(
            self.remote,
            _ref(repository),
            source,
            digest=str(digest) if digest else None,
            size=size,
            mount_from=_ref(mount_from) if mount_from is not None else None,
            chunk_size=chunk_size,
            progress=progress,
        )

    def delete_blob(self, repository: RefLike, digest: str | Digest) -> None:
        self.remote.delete_blob(_ref(repository), digest)

    # -- deletion (ocireg.deletion) --------------------------------------------------------

    def delete_tag(self, ref: RefLike, *, force: bool = False, dry_run: bool = False) -> DeletePlan:
        """Remove exactly this tag and nothing else (see :mod:`ocireg.deletion`)."""
        return deletion.delete_tag(self.remote, _ref(ref), force=force, dry_run=dry_run)

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
        manifest a remaining tag needs (see :mod:`ocireg.deletion`)."""
        return deletion.delete_tags(
            self.remote,
            _ref(repository),
            tags,
            shared_digest=shared_digest,
            delete_referrers=delete_referrers,
            dry_run=dry_run,
        )

    def snapshot(self, repository: RefLike, tags: Iterable[str] | None = None) -> RepositoryGraph:
        """Read the graph of ``repository`` once: tags, their digests, every tagged index."""
        return deletion.snapshot(self.remote, _ref(repository), tags)

    def plan_tag_deletes(
        self,
        repository: RefLike,
        tags: Iterable[str],
        *,
        shared_digest: SharedDigest = "untag",
        delete_referrers: bool = False,
        graph: RepositoryGraph | None = None,
        probe: bool = True,
    ) -> BatchPlan:
        """Decide how to delete ``tags``; sends nothing that changes what a user sees (the
        probes ``DELETE`` names that do not exist; ``probe=False`` skips them). The plan is
        what a dry run or check mode shows, and what :meth:`execute_plan` carries out."""
        return deletion.plan_tag_deletes(
            self.remote,
            _ref(repository),
            tags,
            shared_digest=shared_digest,
            delete_referrers=delete_referrers,
            graph=graph,
            probe=probe,
        )

    def execute_plan(self, plan: BatchPlan, *, result: BatchResult | None = None) -> BatchResult:
        """Carry out a plan from :meth:`plan_tag_deletes`, re-checking it against the
        repository as it is now and each step right before it (see
        :mod:`ocireg.deletion.verify`); ``result`` is kept up to date, also when it raises."""
        return deletion.execute(self.remote, plan, result=result)

    # -- referrers and copies --------------------------------------------------------------

    def referrers(self, ref: RefLike, artifact_type: str | None = None) -> list[Descriptor]:
        """Manifests whose ``subject`` is ``ref`` (referrers API, else the fallback tag)."""
        return referrers.referrers(self.remote, _ref(ref), artifact_type=artifact_type)

    def attach_referrer(self, subject: RefLike, raw: bytes, media_type: str) -> Descriptor:
        """Push ``raw`` (a manifest whose ``subject`` is ``subject``) and list it as a
        referrer (see :func:`ocireg.referrers.attach_referrer`)."""
        return referrers.attach_referrer(self.remote, _ref(subject), raw, media_type)

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
        return copy.copy_image(
            self.remote,
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
        return self.keychain.lookup(registry, repository)

    def explain_credentials(self, registry: str, repository: str | None = None) -> dict[str, Any]:
        """Which provider answers for ``registry``, with what kind of credential, and from
        where; never the secret. Providers are asked in the documented order."""
        return self.keychain.explain(registry, repository)
