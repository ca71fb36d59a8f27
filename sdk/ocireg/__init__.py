"""ocireg: a client for OCI / Docker registries (Registry HTTP API v2).

The public API is exactly what ``__all__`` lists; everything else is internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .auth.challenge import Challenge, parse_challenges
    from .auth.credentials import BasicCredentials, Credentials, IdentityToken, RegistryToken
    from .blobs import BlobReader
    from .client import Client
    from .copy import CopyResult
    from .deletion import BatchPlan, BatchResult, DeletePlan, NotDone, RepositoryGraph
    from .digest import Digest, DigestVerifier
    from .errors import (
        AuthenticationError,
        DeleteRefusedError,
        DeniedError,
        DigestMismatchError,
        InvalidDigestError,
        InvalidPlatformError,
        InvalidReferenceError,
        InvalidSelectionError,
        ManifestError,
        NotFoundError,
        OciregError,
        PluginError,
        RegistryError,
        RegistryErrorDetail,
        SharedDigestError,
        StillReferencedError,
        SurveyError,
        TooManyRequestsError,
        TransportError,
        UnsupportedError,
    )
    from .hookspecs import hookimpl
    from .manifests import (
        Descriptor,
        ImageIndex,
        ImageManifest,
        Manifest,
        ManifestHandler,
        Platform,
    )
    from .reference import Reference
    from .registry_api import RegistryAPI, TagRecord
    from .remote import RegistryInfo
    from .summary import ImageSummary

__version__ = "0.1.0"

# Every public name is loaded on first use, from the module that defines it: importing a
# submodule (``ocireg.reference`` for ``ocireg parse``, ``ocireg.client`` for a command that
# talks to a registry) then costs only that submodule and what it needs, never the whole
# API (the client alone pulls in requests, about 0.1 s). Plugins' ``from ocireg import
# hookimpl`` goes through __getattr__ like any other name.
_ERRORS = (
    "AuthenticationError DeleteRefusedError DeniedError DigestMismatchError InvalidDigestError "
    "InvalidPlatformError InvalidReferenceError InvalidSelectionError ManifestError "
    "NotFoundError OciregError PluginError RegistryError RegistryErrorDetail SharedDigestError "
    "StillReferencedError SurveyError "
    "TooManyRequestsError TransportError UnsupportedError"
)
_MODULES = {
    "auth.challenge": "Challenge parse_challenges",
    "auth.credentials": "BasicCredentials Credentials IdentityToken RegistryToken",
    "blobs": "BlobReader",
    "client": "Client",
    "copy": "CopyResult",
    "deletion": "BatchPlan BatchResult DeletePlan NotDone RepositoryGraph",
    "digest": "Digest DigestVerifier",
    "errors": _ERRORS,
    "hookspecs": "hookimpl",
    "manifests": "Descriptor ImageIndex ImageManifest Manifest ManifestHandler Platform",
    "reference": "Reference",
    "registry_api": "RegistryAPI TagRecord",
    "remote": "RegistryInfo",
    "summary": "ImageSummary",
}
_LAZY = {name: module for module, names in _MODULES.items() for name in names.split()}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ocireg' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
    "InvalidSelectionError",
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
    "StillReferencedError",
    "SurveyError",
    "TagRecord",
    "TooManyRequestsError",
    "TransportError",
    "UnsupportedError",
    "__version__",
    "hookimpl",
    "parse_challenges",
]
