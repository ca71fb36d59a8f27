"""ECR's answers mapped to ocireg errors: ``failures`` entries of ``BatchDeleteImage`` and the
exceptions botocore raises (``ClientError`` with AWS's error code, ``BotoCoreError``).

Messages name the operation, the image, the registry and AWS's code and message, never a
request's signature or credentials; the botocore exception is not kept as ``__cause__``
(callers raise ``from None``), so nothing it carries travels further.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ocireg.errors import (
    AuthenticationError,
    DeniedError,
    NotFoundError,
    OciregError,
    RegistryError,
    RegistryErrorDetail,
    StillReferencedError,
    TooManyRequestsError,
    TransportError,
)

__all__ = ["Where", "botocore_error", "client_error", "failure_error"]

#: The most of AWS's own message kept in an error.
MESSAGE_LIMIT = 300

#: ``BatchDeleteImage`` failure codes -> (error class, the HTTP status it stands for).
#: ``ImageTagDoesNotMatchDigest`` and ``ImageReferencedByManifestList`` are conflicts, not
#: "not found": the tag is still there (elsewhere) or an index still needs the image, so a
#: caller must not count it as already deleted.
FAILURES: dict[str, tuple[type[RegistryError], int]] = {
    "ImageNotFound": (NotFoundError, 404),
    "ImageTagDoesNotMatchDigest": (RegistryError, 409),
    "ImageReferencedByManifestList": (StillReferencedError, 409),
    "ImageInaccessible": (RegistryError, 409),
    "InvalidImageDigest": (RegistryError, 400),
    "InvalidImageTag": (RegistryError, 400),
    "MissingDigestAndTag": (RegistryError, 400),
    "UpstreamAccessDenied": (DeniedError, 403),
    "UpstreamTooManyRequests": (TooManyRequestsError, 429),
    "UpstreamUnavailable": (RegistryError, 503),
    "KmsError": (RegistryError, 500),
}

#: AWS error codes (``ClientError``) -> (error class, status).
CODES: dict[str, tuple[type[RegistryError], int]] = {
    "RepositoryNotFoundException": (NotFoundError, 404),
    "ImageNotFoundException": (NotFoundError, 404),
    "RegistryNotFoundException": (NotFoundError, 404),
    "AccessDeniedException": (DeniedError, 403),
    "AccessDenied": (DeniedError, 403),
    "ThrottlingException": (TooManyRequestsError, 429),
    "Throttling": (TooManyRequestsError, 429),
    "TooManyRequestsException": (TooManyRequestsError, 429),
    "RequestLimitExceeded": (TooManyRequestsError, 429),
    "ServerException": (RegistryError, 500),
    "InternalFailure": (RegistryError, 500),
    "ServiceUnavailable": (RegistryError, 503),
    "ServiceUnavailableException": (RegistryError, 503),
    "InvalidParameterException": (RegistryError, 400),
    "ValidationException": (RegistryError, 400),
}

#: AWS codes that mean the AWS identity itself was refused (not a missing permission).
IDENTITY_REFUSED = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)

#: Statuses of ``ClientError`` codes not listed above.
STATUSES: dict[int, type[RegistryError]] = {
    403: DeniedError,
    404: NotFoundError,
    429: TooManyRequestsError,
}


class Where:
    """What was asked, for messages: ``"ecr BatchDeleteImage team/app:old on <host>"``."""

    def __init__(self, operation: str, target: str, registry: str) -> None:
        self.operation = f"ecr {operation}"
        self.target = target
        self.registry = registry

    def __str__(self) -> str:
        return f"{self.operation} {self.target} on {self.registry}"

    def error(self, cls: type[RegistryError], status: int, code: str, reason: str) -> RegistryError:
        reason = _clip(reason)
        return cls(
            f"{self}: {code}" + (f": {reason}" if reason else ""),
            status=status,
            errors=(RegistryErrorDetail(code, reason),),
            operation=self.operation,
            registry=self.registry,
        )


def failure_error(failure: Mapping[str, Any], where: Where) -> RegistryError:
    """The error for one ``failures`` entry of ``BatchDeleteImage``."""
    code = str(failure.get("failureCode") or "UnknownFailure")
    cls, status = FAILURES.get(code, (RegistryError, 400))
    return where.error(cls, status, code, str(failure.get("failureReason") or ""))


def client_error(exc: Any, where: Where) -> OciregError:
    """The error for a botocore ``ClientError`` (AWS answered with an error code)."""
    response = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    code = str(error.get("Code") or "UnknownError")
    reason = str(error.get("Message") or "")
    if code in IDENTITY_REFUSED:
        return AuthenticationError(f"{where}: AWS refused the credentials: {code}")
    status = _status(response)
    cls, status = CODES.get(code, (STATUSES.get(status, RegistryError), status or 400))
    return where.error(cls, status, code, reason)


def botocore_error(exc: Exception, where: Where) -> OciregError:
    """The error for a ``BotoCoreError`` (no answer from AWS, or none it could use)."""
    from botocore import exceptions as aws

    kind = type(exc).__name__
    if isinstance(
        exc, aws.NoCredentialsError | aws.PartialCredentialsError | aws.CredentialRetrievalError
    ):
        return AuthenticationError(f"{where}: no usable AWS credentials ({kind})")
    if isinstance(exc, aws.ConnectionError | aws.HTTPClientError):  # refused, TLS, timeouts, resets
        return TransportError(f"{where}: {kind}: {_clip(str(exc))}")
    return where.error(RegistryError, 400, kind, str(exc))


def _status(response: Mapping[str, Any]) -> int:
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return status if isinstance(status, int) else 0


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."
