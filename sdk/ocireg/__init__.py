"""ocireg: a client for OCI / Docker registries (Registry HTTP API v2).

The public API is exactly what ``__all__`` lists; everything else is internal.
"""

from __future__ import annotations

from .auth.challenge import Challenge, parse_challenges
from .digest import Digest, DigestVerifier
from .errors import (
    AuthenticationError,
    DeniedError,
    DigestMismatchError,
    InvalidDigestError,
    InvalidReferenceError,
    ManifestError,
    NotFoundError,
    OciregError,
    PluginError,
    RegistryError,
    RegistryErrorDetail,
    TooManyRequestsError,
    TransportError,
    UnsupportedError,
)
from .reference import Reference

__version__ = "0.1.0"

__all__ = [
    "AuthenticationError",
    "Challenge",
    "DeniedError",
    "Digest",
    "DigestMismatchError",
    "DigestVerifier",
    "InvalidDigestError",
    "InvalidReferenceError",
    "ManifestError",
    "NotFoundError",
    "OciregError",
    "PluginError",
    "Reference",
    "RegistryError",
    "RegistryErrorDetail",
    "TooManyRequestsError",
    "TransportError",
    "UnsupportedError",
    "__version__",
    "parse_challenges",
]
