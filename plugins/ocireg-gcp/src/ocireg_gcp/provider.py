"""The GCP credential provider: Container Registry and Artifact Registry.

Two ways in, as REGISTRY-FACTS 3.4 and the Artifact Registry docs describe them:

- a service-account JSON key named by ``$OCIREG_GCP_JSON_KEY_FILE`` (or ``key_file=``):
  ``BasicCredentials("_json_key", <the JSON text>)``; the registry checks the key itself, and
  google-auth is not even imported;
- otherwise Application Default Credentials, ``google.auth.default(scopes=[cloud-platform])``
  (``GOOGLE_APPLICATION_CREDENTIALS``, ``gcloud auth application-default login``, the metadata
  server on GCE / GKE / Cloud Run, workload identity federation), refreshed by google-auth when
  expired: ``BasicCredentials("oauth2accesstoken", <access token>)``, with ``expires_at`` set
  from the token's expiry so that a long-lived Client asks again before it lapses.

google-auth is imported only when a Google registry host is asked and no key file is set.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocireg.auth.credentials import BasicCredentials, Credentials
from ocireg.errors import PluginError
from ocireg.hookspecs import hookimpl

__all__ = [
    "ACCESS_TOKEN_USERNAME",
    "JSON_KEY_USERNAME",
    "KEY_FILE_ENV",
    "SCOPE",
    "GcpCredentials",
    "is_gcp_host",
]

log = logging.getLogger("ocireg_gcp")

#: ``gcr.io`` and its regional / special hosts (``us.gcr.io``, ``eu.gcr.io``, ``k8s.gcr.io``).
GCR_HOST = re.compile(r"^(?:[a-z0-9-]+\.)?gcr\.io$")
#: Artifact Registry: ``<location>-docker.pkg.dev`` and regional ``docker.<region>.rep.pkg.dev``.
ARTIFACT_REGISTRY_HOST = re.compile(
    r"^(?:[a-z0-9-]+-docker\.pkg\.dev|docker\.[a-z0-9-]+\.rep\.pkg\.dev)$"
)

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
#: The environment variable naming a service-account JSON key file.
KEY_FILE_ENV = "OCIREG_GCP_JSON_KEY_FILE"
ACCESS_TOKEN_USERNAME = "oauth2accesstoken"
JSON_KEY_USERNAME = "_json_key"
#: How long "no application default credentials" is remembered (finding out can mean probing
#: the metadata server for seconds).
NEGATIVE_TTL = 300.0


def is_gcp_host(registry: str) -> bool:
    host = registry.lower()
    return bool(GCR_HOST.match(host) or ARTIFACT_REGISTRY_HOST.match(host))


@dataclass(frozen=True, slots=True)
class _KeyFile:
    stamp: tuple[str, int, int]  # path, mtime_ns, size: a changed file is read again
    credentials: BasicCredentials


class GcpCredentials:
    """Answers for ``gcr.io``, ``*.gcr.io``, ``*-docker.pkg.dev`` and
    ``docker.<region>.rep.pkg.dev``.

    :param key_file: a service-account JSON key to use (default ``$OCIREG_GCP_JSON_KEY_FILE``).
    :param credentials: a ``google.auth.credentials.Credentials`` to use instead of ADC.
    :param request: the ``google.auth.transport.Request`` refreshes go through (default:
        ``google.auth.transport.requests.Request()``).
    :param clock: a monotonic clock, for the negative cache; tests pass a fake one.

    No ADC at all: None (public images pull anonymously), logged and remembered for five
    minutes. ADC that fails to refresh, or an unreadable key file: :class:`ocireg.PluginError`.
    """

    name = "gcp"

    def __init__(
        self,
        *,
        key_file: str | os.PathLike[str] | None = None,
        credentials: Any = None,
        request: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._key_file = key_file
        self._credentials: Any = credentials
        self._own_credentials = credentials is None
        self._project: str | None = None
        self._request: Any = request
        self._clock = clock
        self._lock = threading.Lock()
        self._key_cache: _KeyFile | None = None
        self._adc_missing_until = float("-inf")

    def clear_cache(self) -> None:
        """Forget the key file, the ADC found (unless given) and any remembered failure."""
        with self._lock:
            self._key_cache = None
            self._adc_missing_until = float("-inf")
            if self._own_credentials:
                self._credentials = None

    # Cloud plugins answer last: after the built-ins, and after plugins given to the Client.
    @hookimpl(trylast=True)
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        if not is_gcp_host(registry):
            return None
        with self._lock:
            if self._key_file is not None:
                return self._from_key_file(Path(self._key_file), "key_file=")
            from_env = os.environ.get(KEY_FILE_ENV)
            if from_env:
                return self._from_key_file(Path(from_env), f"${KEY_FILE_ENV}")
            return self._from_adc(registry)

    # -- service-account key --------------------------------------------------------------

    def _from_key_file(self, path: Path, named_by: str) -> BasicCredentials:
        try:
            info = path.stat()
            stamp = (str(path), info.st_mtime_ns, info.st_size)
            if self._key_cache is not None and self._key_cache.stamp == stamp:
                return self._key_cache.credentials
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise PluginError(
                f"gcp: cannot read {named_by} {path}: {reason}", plugin=self.name
            ) from None
        email = _service_account_email(text)
        if email is None:
            raise PluginError(
                f"gcp: {named_by} {path} is not a service-account JSON key", plugin=self.name
            )
        credentials = BasicCredentials(
            JSON_KEY_USERNAME,
            text,
            source=f"gcp: service-account key {email} from {path} ({named_by})",
        )
        self._key_cache = _KeyFile(stamp, credentials)
        return credentials

    # -- application default credentials ---------------------------------------------------

    def _from_adc(self, registry: str) -> Credentials | None:
        credentials = self._adc(registry)
        if credentials is None:
            return None
        if not credentials.valid:  # no token yet, or expired (google-auth's own margin)
            from google.auth.exceptions import GoogleAuthError

            try:
                credentials.refresh(self._transport())
            except GoogleAuthError as exc:
                raise PluginError(
                    f"gcp: refreshing {self._describe(credentials)} failed: {_short(exc)}",
                    plugin=self.name,
                ) from None
        token = getattr(credentials, "token", None)
        if not token:  # anonymous credentials: nothing to send
            return None
        return BasicCredentials(
            ACCESS_TOKEN_USERNAME,
            token,
            source=self._describe(credentials),
            expires_at=_epoch(getattr(credentials, "expiry", None)),
        )

    def _adc(self, registry: str) -> Any:
        if self._credentials is not None:
            return self._credentials
        now = self._clock()
        if now < self._adc_missing_until:
            return None
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError

        try:
            credentials, project = google.auth.default(scopes=[SCOPE])
        except DefaultCredentialsError as exc:
            log.warning(
                "gcp: no application default credentials (%s); asking %s anonymously",
                _short(exc),
                registry,
            )
            self._adc_missing_until = now + NEGATIVE_TTL
            return None
        self._credentials, self._project = credentials, project
        return credentials

    def _transport(self) -> Any:
        if self._request is None:
            import google.auth.transport.requests

            self._request = google.auth.transport.requests.Request()
        return self._request

    def _describe(self, credentials: Any) -> str:
        kind = type(credentials)
        parts = [f"{kind.__module__}.{kind.__qualname__}"]
        account = getattr(credentials, "service_account_email", None) or getattr(
            credentials, "account", None
        )
        if isinstance(account, str) and account:
            parts.append(account)
        if self._project:
            parts.append(f"project {self._project}")
        origin = "application default credentials" if self._own_credentials else "credentials"
        return f"gcp: {origin} ({', '.join(parts)})"


def _service_account_email(text: str) -> str | None:
    try:
        key = json.loads(text)
    except ValueError:
        return None
    if not isinstance(key, dict) or key.get("type") != "service_account":
        return None
    email = key.get("client_email")
    if not isinstance(email, str) or not email or not key.get("private_key"):
        return None
    return email


def _epoch(expiry: Any) -> float | None:
    """google-auth's ``expiry`` (a naive UTC datetime, or None when unknown) as seconds since
    the epoch, for ``expires_at``: the Client's keychain asks again before it."""
    if not isinstance(expiry, datetime):
        return None
    when: datetime = expiry if expiry.tzinfo is not None else expiry.replace(tzinfo=UTC)
    return when.timestamp()


def _short(exc: Exception) -> str:
    # google-auth's messages quote the token endpoint's error ("invalid_grant: ..."), never
    # the refresh token or the key; keep them short all the same.
    return f"{type(exc).__name__}: {exc}"[:300]
