"""Hook specifications: the contract between ocireg and its plugins.

Plugins implement these with :data:`ocireg.hookimpl` and register through the ``ocireg``
entry-point group (see ``docs/plugins.md``). Like pytest's hooks, each is documented here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .auth.credentials import Credentials
    from .manifests.base import ManifestHandler
    from .registry_api import CredentialLookup, RegistryAPI

PROJECT = "ocireg"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def ocireg_get_credentials(registry: str, repository: str | None) -> Credentials | None:
    """Return credentials for ``registry`` (a host such as ``quay.io`` or ``127.0.0.1:5000``;
    ``docker.io`` for Docker Hub), or None to let the next provider answer.

    :param repository: the repository path within the registry (``org/app``) when the request
        concerns one, so providers with per-namespace credentials can choose; else None.

    The first non-None result wins. Built-in providers answer in this order: credentials given
    to the Client, environment variables, docker ``config.json``, containers ``auth.json``;
    then plugins (see :mod:`ocireg.plugins` for the exact order, ``tryfirst`` and ``trylast``).
    Plugins should answer only for the hosts they recognise.

    Return a :class:`~ocireg.BasicCredentials`, :class:`~ocireg.IdentityToken` or
    :class:`~ocireg.RegistryToken`, with ``source`` saying where it came from (shown by
    ``Client.explain_credentials``; never put the secret there). Raise
    :class:`~ocireg.PluginError` with ``plugin=<your name>`` when your source is broken (an
    unreadable file, a failing service), with a message that holds no secret.
    """


@hookspec
def ocireg_manifest_handlers() -> list[type[ManifestHandler] | ManifestHandler]:
    """Return a list of manifest handlers (see :mod:`ocireg.manifests`): classes, which are
    created without arguments, or ready instances (the built-ins return classes).

    Each handler names the media types it parses; the client's ``Accept`` header and its
    media-type table are built from every handler returned. Two handlers claiming one media
    type is an error when the client is created.
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def ocireg_registry_api(registry: str, credentials: CredentialLookup) -> RegistryAPI | None:
    """Return the native API of ``registry`` (a host such as ``123456789012.dkr.ecr.us-east-1
    .amazonaws.com`` or ``docker.io``) as a :class:`~ocireg.registry_api.RegistryAPI`, or
    None for registries you do not recognise (then the next plugin answers, and with no
    answer only the Registry HTTP API is used).

    :param credentials: ``credentials(repository)`` asks the client's credential chain for
        this registry (the answer the Registry HTTP API gets); use it rather than asking for
        secrets of your own where the registry's API accepts the same credentials.

    Called at most once per registry per client, when an operation that can use a native
    API (delete, prune, retention listings) first needs it; do no I/O here that is not
    needed to decide. The first non-None result wins.
    """
