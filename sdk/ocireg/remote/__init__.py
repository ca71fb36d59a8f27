"""The wire layer: the only code that builds ``/v2/`` URLs (distribution spec, "Endpoints").

A :class:`Remote` speaks the Registry HTTP API over a :class:`~ocireg.transport.Transport`
(session, auth, retries, redirects) and decodes manifests with the client's
:class:`~ocireg.manifests.HandlerRegistry`. The operations (:mod:`ocireg.blobs`,
:mod:`ocireg.upload`, :mod:`ocireg.copy`, :mod:`ocireg.referrers`, :mod:`ocireg.deletion`)
and plugins use it through its public methods, never the client's internals; the
:class:`~ocireg.Client` is only the front door over it.

Every identifier that goes into a URL path is checked first (:func:`manifest_path`): a digest
must parse as a :class:`~ocireg.digest.Digest`, a tag must follow the tag grammar. A value a
registry sent (a ``Docker-Content-Digest`` header, a descriptor in a body) therefore cannot
turn into ``../../other/manifests/...``.
"""

from __future__ import annotations

from .blob_calls import BlobCalls
from .core import (
    MAX_MANIFEST_SIZE,
    PULL,
    PUSH,
    Page,
    RegistryCapabilities,
    RegistryInfo,
    blob_path,
    manifest_path,
    target,
)
from .manifest_calls import ManifestCalls

__all__ = [
    "MAX_MANIFEST_SIZE",
    "PULL",
    "PUSH",
    "Page",
    "RegistryCapabilities",
    "RegistryInfo",
    "Remote",
    "blob_path",
    "manifest_path",
    "target",
]


class Remote(ManifestCalls, BlobCalls):
    """The Registry HTTP API of every registry one client talks to: ping, catalog, tags,
    ``Link`` pagination, manifests, blobs and upload sessions (see the methods of
    :class:`~ocireg.remote.core.RemoteBase`, :class:`ManifestCalls` and :class:`BlobCalls`).
    """
