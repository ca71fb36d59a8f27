"""ocireg: a client for OCI / Docker registries (Registry HTTP API v2).

The public API is exactly what ``__all__`` lists; everything else is internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .auth.challenge import Challenge, parse_challenges
from .auth.credentials import BasicCredentials, Credentials, IdentityToken, RegistryToken
from .digest import Digest, DigestVerifier
from .errors import (
    AuthenticationError,
    DeleteRefusedError,
    DeniedError,
    DigestMismatchError,
    InvalidDigestError,
    InvalidPlatformError,
    InvalidReferenceError,
    ManifestError,
    NotFoundError,
    OciregError,
    PluginError,
    RegistryError,
    RegistryErrorDetail,
    SharedDigestError,
    SurveyError,
    TooManyRequestsError,
    TransportError,
    UnsupportedError,
)
from .manifests import Descriptor, ImageIndex, ImageManifest, Manifest, Platform
from .reference import Reference

if TYPE_CHECKING:
    from .blobs import BlobReader
    from .client import Client
    from .copy import CopyResult
    from .deletion import BatchPlan, BatchResult, DeletePlan, NotDone, RepositoryGraph
    from .hookspecs import hookimpl
    from .manifests import ManifestHandler
    from .registry_api import RegistryAPI, TagRecord
    from .remote import RegistryInfo
    from .summary import ImageSummary

__version__ = "0.1.0"

# The client pulls in requests (about 0.17 s) and hookspecs pluggy (with importlib.metadata);
# load them on first use so that `ocireg parse` and programs that only parse references start
# fast. Plugins' `from ocireg import hookimpl` goes through __getattr__ like any other name.
_LAZY = {
    "Client": "client",
    "RegistryInfo": "remote",
    "hookimpl": "hookspecs",
    "BatchPlan": "deletion",
    "BatchResult": "deletion",
    "DeletePlan": "deletion",
    "RepositoryGraph": "deletion",
    "CopyResult": "copy",
    "BlobReader": "blobs",
    "ManifestHandler": "manifests",
    "ImageSummary": "summary",
    "NotDone": "deletion",
    "RegistryAPI": "registry_api",
    "TagRecord": "registry_api",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ocireg' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AuthenticationError",
    "BasicCredentials",
    "BatchPlan",
    "BatchResult",
    "BlobReader",
    "Challenge",
    "Client",
    "CopyResult",
    "Credentials",
    "DeletePlan",
    "DeleteRefusedError",
    "DeniedError",
    "Descriptor",
    "Digest",
    "DigestMismatchError",
    "DigestVerifier",
    "IdentityToken",
    "ImageIndex",
    "ImageManifest",
    "ImageSummary",
    "InvalidDigestError",
    "InvalidPlatformError",
    "InvalidReferenceError",
    "Manifest",
    "ManifestError",
    "ManifestHandler",
    "NotDone",
    "NotFoundError",
    "OciregError",
    "Platform",
    "PluginError",
    "Reference",
    "RegistryAPI",
    "RegistryError",
    "RegistryErrorDetail",
    "RegistryInfo",
    "RegistryToken",
    "RepositoryGraph",
    "SharedDigestError",
    "SurveyError",
    "TagRecord",
    "TooManyRequestsError",
    "TransportError",
    "UnsupportedError",
    "__version__",
    "hookimpl",
    "parse_challenges",
]
