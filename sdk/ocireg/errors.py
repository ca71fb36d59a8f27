"""The one exception tree of ocireg.

::

    OciregError
    ├── InvalidReferenceError (also ValueError)   bad image reference text
    ├── InvalidDigestError (also ValueError)      bad digest text
    ├── InvalidSelectionError (also ValueError)   bad tag selection (pattern, match, sort...)
    ├── AuthenticationError                       credentials refused, token not obtained
    ├── RegistryError                             the registry answered with an error status
    │   ├── NotFoundError                         404 / *_UNKNOWN codes
    │   ├── DeniedError                           403 / DENIED, or 401 after authenticating
    │   ├── UnsupportedError                      405 / UNSUPPORTED (e.g. delete disabled)
    │   ├── StillReferencedError                  a native API keeps a tag an index needs
    │   └── TooManyRequestsError                  429, carries ``retry_after``
    ├── DigestMismatchError                       content does not hash to the expected digest
    ├── ManifestError                             a manifest that cannot be parsed or is refused
    │   └── InvalidPlatformError (also ValueError) bad platform text (``linux/arm64/v8``)
    ├── DeleteRefusedError                        a digest that tags still need, without force
    ├── SharedDigestError                         shared_digest="fail" met a tag another needs
    ├── SurveyError                               a repository could not be read consistently
    ├── TransportError                            connection, TLS, timeout (cause: the session's)
    └── PluginError                               a plugin (or credential helper) failed; names it

Messages say what was asked, of which registry, and what came back. They never carry a
secret: callers must not put credentials into them, and :func:`redact` is applied to URLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .deletion.records import BatchPlan, DeletePlan

__all__ = [
    "AuthenticationError",
    "DeleteRefusedError",
    "DeniedError",
    "DigestMismatchError",
    "InvalidDigestError",
    "InvalidPlatformError",
    "InvalidReferenceError",
    "InvalidSelectionError",
    "ManifestError",
    "NotFoundError",
    "OciregError",
    "PluginError",
    "RegistryError",
    "RegistryErrorDetail",
    "SharedDigestError",
    "StillReferencedError",
    "SurveyError",
    "TooManyRequestsError",
    "TransportError",
    "UnsupportedError",
]


class OciregError(Exception):
    """Root of every error raised by ocireg."""


class InvalidReferenceError(OciregError, ValueError):
    """An image reference that does not follow the grammar; the message names the bad part."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"invalid reference {text!r}: {reason}")


class InvalidDigestError(OciregError, ValueError):
    """A digest string that is malformed or of an unsupported algorithm."""


class InvalidSelectionError(OciregError, ValueError):
    """A tag selection that cannot be applied (a bad regular expression, ``match``,
    ``keep_latest``, ``older_than``, ``age_from`` or ``sort``); the message names it."""


class AuthenticationError(OciregError):
    """Credentials were refused, or no token could be obtained.

    :ivar status: the HTTP status that said so (the registry's 401, or the token server's
        401/403), or None when no answer was involved (a realm refused before asking).
    :ivar code: the registry error code: the registry's own, else ``UNAUTHORIZED`` for a
        401 and ``DENIED`` for a 403 from a token server; None without a status.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class RegistryErrorDetail:
    """One entry of the registry's ``{"errors": [...]}`` body (distribution spec, Error codes)."""

    code: str
    message: str = ""
    detail: Any = None


class RegistryError(OciregError):
    """The registry answered an error status.

    :ivar status: the HTTP status code.
    :ivar errors: the registry's error list, possibly empty.
    :ivar operation: what was asked (``"GET manifest"``), for the message.
    :ivar registry: the registry host the request went to.
    :ivar temporary: whether trying again later may succeed (429, 5xx).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        errors: tuple[RegistryErrorDetail, ...] = (),
        operation: str = "",
        registry: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors
        self.operation = operation
        self.registry = registry

    @property
    def temporary(self) -> bool:
        return self.status == 429 or self.status >= 500

    @property
    def code(self) -> str | None:
        """The first registry error code (``MANIFEST_UNKNOWN``, ``DENIED``...), if any."""
        return self.errors[0].code if self.errors else None


class NotFoundError(RegistryError):
    """404, or a ``*_UNKNOWN`` error code."""


class DeniedError(RegistryError):
    """403 / ``DENIED``, or 401 after credentials were presented."""


class UnsupportedError(RegistryError):
    """405 / ``UNSUPPORTED``: the registry does not allow the operation (delete disabled...)."""


class StillReferencedError(RegistryError):
    """A registry-native API refused to delete a tag because an index still lists its image
    (Amazon ECR's ``ImageReferencedByManifestList``). Raise it from
    :meth:`~ocireg.registry_api.RegistryAPI.delete_tag`: where the API deletes manifests, the
    deletion engine then moves the tag to a placeholder and deletes that instead."""


class TooManyRequestsError(RegistryError):
    """429 / ``TOOMANYREQUESTS``; ``retry_after`` is the server's wish in seconds, if given."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class DigestMismatchError(OciregError):
    """Content did not hash to the digest it was asked for or announced with."""

    def __init__(self, message: str, *, expected: str, actual: str) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class ManifestError(OciregError):
    """A manifest that cannot be parsed, is of an unknown type, or is too large."""


class InvalidPlatformError(ManifestError, ValueError):
    """Platform text that cannot be parsed (also a ``ValueError``, like a bad reference)."""


class DeleteRefusedError(OciregError):
    """A digest was to be deleted that tags still need; :attr:`plan` names them."""

    def __init__(self, message: str, *, plan: DeletePlan) -> None:
        super().__init__(message)
        self.plan = plan


class SharedDigestError(OciregError):
    """``shared_digest="fail"`` and a chosen tag's manifest is needed by a tag that stays;
    nothing was changed. :attr:`plan` has them in ``skipped``."""

    def __init__(self, plan: BatchPlan) -> None:
        details = "; ".join(f"tag {p.tag}: {p.reason}" for p in plan.skipped)
        super().__init__(f"nothing was changed: shared_digest=fail and {details}")
        self.plan = plan


class TransportError(OciregError):
    """Connection, TLS or timeout failure; the requests exception is ``__cause__`` (none
    where that exception could quote a secret).

    :ivar kind: what failed, for programs to act on: ``tls`` (certificate not trusted or
        not matching), ``refused`` (nothing listens there), ``dns`` (the name does not
        resolve), ``timeout`` (connecting or waiting for an answer), ``connection`` (reset,
        cut, or another failure), ``limit`` (a body, rate or deadline bound was hit) or
        ``redirect`` (a redirect that was refused).
    """

    def __init__(self, message: str, *, kind: str = "connection") -> None:
        super().__init__(message)
        self.kind = kind


class PluginError(OciregError):
    """A plugin or an external credential helper failed."""

    def __init__(self, message: str, *, plugin: str) -> None:
        super().__init__(message)
        self.plugin = plugin


class SurveyError(OciregError):
    """Deletion could not see the whole repository graph consistently (a tag the tag list
    names answers 404 again and again, a manifest an index lists is missing, a name that is
    no tag): the run stops before anything is changed. Fail closed: what cannot be seen
    might be needed."""
