"""ocireg-fakes: test support for the registry-native API plugins (not published).

One loopback fake registry (:class:`FakeRegistry`) keeps one :class:`RegistryState` for
the Registry HTTP API side and for the vendor routes each plugin's tests add.
"""

from __future__ import annotations

from .server import FakeRegistry, Handler, Reply, Request, V2Delete
from .state import OCI_MANIFEST, RegistryState, Repository, StoredManifest, digest_of

__all__ = [
    "OCI_MANIFEST",
    "FakeRegistry",
    "Handler",
    "RegistryState",
    "Reply",
    "Repository",
    "Request",
    "StoredManifest",
    "V2Delete",
    "digest_of",
]
