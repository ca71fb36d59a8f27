"""Docker token authentication (distribution "Token Authentication Specification" and its OAuth2
variant): fetching bearer tokens from a challenge's realm, and a process-wide token cache.

One token request per (realm, service, scopes, credentials) per process: the cache is shared by
every :class:`~ocireg.Client`, a lock per key makes concurrent callers wait for one fetch, and
a cached token that was asked for a superset of the wanted scopes is reused.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import AuthenticationError, TransportError
from .credentials import BasicCredentials, Credentials, IdentityToken, RegistryToken
from .scope import scope_covers

if TYPE_CHECKING:
    import requests

    from .challenge import Challenge

__all__ = ["Token", "TokenCache", "basic_header", "check_realm", "fetch_token"]

log = logging.getLogger("ocireg.auth")

DEFAULT_EXPIRES_IN = 60.0  # the token spec's default when expires_in is missing
MIN_EXPIRES_IN = 60.0  # regclient and containers/image never trust less than this
REFRESH_MARGIN = 10.0  # refresh this long before expiry so a request never carries a dead token
CLIENT_ID = "ocireg"


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    expires_at: float
    scopes: tuple[str, ...] = ()

    def fresh(self, now: float | None = None) -> bool:
        return (now if now is not None else time.monotonic()) < self.expires_at - REFRESH_MARGIN

    def __repr__(self) -> str:  # never show the token itself
        return f"Token(scopes={self.scopes!r}, expires_at={self.expires_at:.0f})"


def basic_header(creds: BasicCredentials) -> str:
    raw = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def check_realm(realm: str, registry_url: str) -> None:
    """Refuse realms that would leak credentials (REGISTRY-FACTS 3.5, "Realm safety").

    An https registry may not send us to a plain-http realm on another host, and a realm must
    be an http(s) URL.
    """
    problem = _realm_problem(realm, registry_url)
    if problem:
        raise AuthenticationError(problem)


@functools.lru_cache(maxsize=256)
def _realm_problem(realm: str, registry_url: str) -> str | None:
    # Checked before every authorised request, for a handful of distinct pairs: cached.
    parts = urlsplit(realm)
    reg = urlsplit(registry_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"token realm {realm!r} of {reg.netloc} is not an http(s) URL"
    if reg.scheme == "https" and parts.scheme == "http" and parts.hostname != reg.hostname:
        return (
            f"refusing plain-http token realm {parts.scheme}://{parts.netloc} "
            f"for https registry {reg.netloc}"
        )
    if reg.scheme == "https" and not _is_loopback(reg.hostname) and _is_loopback(parts.hostname):
        return f"refusing loopback token realm {parts.netloc} for {reg.netloc}"
    return None


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def fetch_token(
    session: requests.Session,
    challenge: Challenge,
    scopes: tuple[str, ...],
    creds: Credentials | None,
    *,
    timeout: float | tuple[float, float],
    verify: bool | str = True,
    cert: str | tuple[str, str] | None = None,
    proxies: dict[str, str] | None = None,
) -> Token:
    """Ask the challenge's realm for a token covering ``scopes``.

    ``verify`` and ``cert`` are the TLS settings of the registry (``requests``' meaning): a
    realm on a registry with a private CA needs that CA too.
    """
    if isinstance(creds, RegistryToken):
        return Token(creds.token, float("inf"), scopes)
    realm = challenge.realm
    if not realm:
        raise AuthenticationError("bearer challenge without a realm")
    service = challenge.service
    host = urlsplit(realm).netloc
    try:
        resp = None
        if isinstance(creds, IdentityToken):
            resp = _oauth2_post(
                session, realm, service, scopes, creds, timeout, verify, cert, proxies
            )
            if resp.status_code in (404, 405):
                # Token servers without the OAuth2 endpoint (ggcr falls back the same way).
                resp = None
        if resp is None:
            params: list[tuple[str, str]] = []
            if service:
                params.append(("service", service))
            params.extend(("scope", s) for s in scopes)
            auth = None
            if isinstance(creds, BasicCredentials):
                params.append(("account", creds.username))
                auth = (creds.username, creds.password)
            elif isinstance(creds, IdentityToken):
                auth = (creds.username, creds.token)
            resp = session.get(
                realm,
                params=params,
                auth=auth,
                timeout=timeout,
                verify=verify,
                cert=cert,
                proxies=proxies,
            )
    except Exception as exc:  # requests.RequestException and friends
        raise TransportError(f"token request to {host} failed: {type(exc).__name__}") from exc
    if resp.status_code in (401, 403):
        who = f"user {_user(creds)!r}" if creds else "anonymous access"
        raise AuthenticationError(
            f"token server {host} refused {who} for {' '.join(scopes) or 'no scope'}"
            f" ({resp.status_code})"
        )
    if resp.status_code != 200:
        raise AuthenticationError(f"token server {host} answered {resp.status_code}")
    try:
        body: Any = resp.json()
    except ValueError:
        raise AuthenticationError(f"token server {host} sent no JSON") from None
    value = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise AuthenticationError(f"token server {host} sent no token")
    expires_in = body.get("expires_in")
    lifetime = DEFAULT_EXPIRES_IN
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        lifetime = max(float(expires_in), MIN_EXPIRES_IN)
    log.debug("token from %s for %s, valid %.0f s", host, " ".join(scopes), lifetime)
    return Token(value, time.monotonic() + lifetime, scopes)


def _user(creds: Credentials | None) -> str:
    if isinstance(creds, BasicCredentials | IdentityToken):
        return creds.username
    return "<token>"


def _oauth2_post(
    session: requests.Session,
    realm: str,
    service: str | None,
    scopes: tuple[str, ...],
    creds: IdentityToken,
    timeout: float | tuple[float, float],
    verify: bool | str = True,
    cert: str | tuple[str, str] | None = None,
    proxies: dict[str, str] | None = None,
) -> requests.Response:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": creds.token,
        "client_id": CLIENT_ID,
        "scope": " ".join(scopes),
    }
    if service:
        form["service"] = service
    return session.post(
        realm, data=form, timeout=timeout, verify=verify, cert=cert, proxies=proxies
    )


class TokenCache:
    """Tokens by (realm, service, credentials); a lock per key so one fetch serves all waiters."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], list[Token]] = {}
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self.fetches = 0

    def get(
        self,
        key: tuple[str, str, str],
        scopes: tuple[str, ...],
        fetch: Any,
    ) -> Token:
        """Return a fresh cached token covering ``scopes``, or call ``fetch()`` once for it."""
        # Nearly always the token is there: one lock, and no per-key lock to wait behind.
        with self._guard:
            found = self._find_locked(key, scopes)
            if found is not None:
                return found
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
        with lock:
            found = self._find(key, scopes)
            if found is not None:
                return found
            token: Token = fetch()
            self.fetches += 1
            with self._guard:
                bucket = [t for t in self._tokens.get(key, []) if t.fresh()]
                bucket.append(token)
                self._tokens[key] = bucket
            return token

    def _find(self, key: tuple[str, str, str], scopes: tuple[str, ...]) -> Token | None:
        with self._guard:
            return self._find_locked(key, scopes)

    def _find_locked(self, key: tuple[str, str, str], scopes: tuple[str, ...]) -> Token | None:
        bucket = self._tokens.get(key)
        if bucket:
            now = time.monotonic()
            for token in reversed(bucket):
                if token.fresh(now) and scope_covers(token.scopes, scopes):
                    return token
        return None

    def forget(self, key: tuple[str, str, str], token: Token) -> None:
        with self._guard:
            bucket = self._tokens.get(key, [])
            if token in bucket:
                bucket.remove(token)

    def clear(self) -> None:
        with self._guard:
            self._tokens.clear()


#: The process-wide cache every Client shares.
TOKENS = TokenCache()
