"""Docker token authentication (distribution "Token Authentication Specification" and its OAuth2
variant): fetching bearer tokens from a challenge's realm, and a process-wide token cache.

One token request per (realm, service, scopes, credentials) per process: the cache is shared by
every :class:`~ocireg.Client`, a lock per key makes concurrent callers wait for one fetch, and
a cached token that was asked for a superset of the wanted scopes is reused.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlsplit

from ..errors import AuthenticationError, TransportError
from ..hosts import origin
from ..http_errors import connection_failures, transport_error
from ..limits import TOKEN_BODY_LIMIT, RateGuard, read_bounded
from ..redaction import redact_url
from .credentials import BasicCredentials, Credentials, IdentityToken, RegistryToken, sanitized
from .realm import check_realm
from .scope import scope_covers

if TYPE_CHECKING:
    from .. import wire
    from .challenge import Challenge

__all__ = ["Token", "TokenCache", "basic_header", "check_realm", "fetch_token"]

log = logging.getLogger("ocireg.auth")

DEFAULT_EXPIRES_IN = 60.0  # the token spec's default when expires_in is missing
MIN_EXPIRES_IN = 60.0  # regclient and containers/image never trust less than this
REFRESH_MARGIN = 10.0  # refresh this long before expiry so a request never carries a dead token
CLIENT_ID = "ocireg"
#: Same-origin redirects a token request follows at most.
MAX_REALM_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


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
    """``Basic base64(user:password)``, UTF-8 encoded (RFC 7617 ``charset="UTF-8"``; what
    docker and containerd send), for the registry and the token realm alike."""
    raw = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def fetch_token(
    session: Any,
    challenge: Challenge,
    scopes: tuple[str, ...],
    creds: Credentials | None,
    *,
    timeout: float | tuple[float, float],
    verify: bool | str = True,
    cert: str | tuple[str, str] | None = None,
    proxies: dict[str, str] | None = None,
    guard: RateGuard | None = None,
) -> Token:
    """Ask the challenge's realm for a token covering ``scopes``.

    ``verify`` and ``cert`` are the TLS settings of the registry (as ``requests`` means them): a
    realm on a registry with a private CA needs that CA too. Redirects are followed by hand
    and only within the realm's origin (scheme, host, port): the refresh token or password
    never goes anywhere else. The answer is read up to :data:`~ocireg.limits.TOKEN_BODY_LIMIT`
    through ``guard`` (a minimum rate, a deadline). No exception raised here carries a
    secret in its message, ``__cause__`` or ``__context__``.
    """
    creds = sanitized(creds)
    if isinstance(creds, RegistryToken):
        return Token(creds.token, float("inf"), scopes)
    realm = challenge.realm
    if not realm:
        raise AuthenticationError("bearer challenge without a realm")
    service = challenge.service
    host = urlsplit(realm).netloc
    guard = guard or RateGuard(what=f"token request to {host}")
    send = functools.partial(
        _send_realm, session, guard, timeout=timeout, verify=verify, cert=cert, proxies=proxies
    )
    resp = None
    if isinstance(creds, IdentityToken):
        form = {
            "grant_type": "refresh_token",
            "refresh_token": creds.token,
            "client_id": CLIENT_ID,
            "scope": " ".join(scopes),
        }
        if service:
            form["service"] = service
        resp = send("POST", realm, urlencode(form).encode(), _FORM)
        if resp.status_code in (404, 405):
            # Token servers without the OAuth2 endpoint (ggcr falls back the same way).
            resp.close()
            resp = None
    if resp is None:
        params: list[tuple[str, str]] = []
        if service:
            params.append(("service", service))
        params.extend(("scope", s) for s in scopes)
        headers: dict[str, str] = {}
        if isinstance(creds, BasicCredentials):
            params.append(("account", creds.username))
            headers["Authorization"] = basic_header(creds)
        elif isinstance(creds, IdentityToken):
            headers["Authorization"] = basic_header(BasicCredentials(creds.username, creds.token))
        url = realm + ("&" if urlsplit(realm).query else "?") + urlencode(params)
        resp = send("GET", url if params else realm, None, headers)
    with contextlib.closing(resp):
        if resp.status_code in (401, 403):
            who = f"user {_user(creds)!r}" if creds else "anonymous access"
            raise AuthenticationError(
                f"token server {host} refused {who} for {' '.join(scopes) or 'no scope'}"
                f" ({resp.status_code})",
                status=resp.status_code,
                code="UNAUTHORIZED" if resp.status_code == 401 else "DENIED",
            )
        if resp.status_code != 200:
            raise AuthenticationError(
                f"token server {host} answered {resp.status_code}", status=resp.status_code
            )
        raw = read_bounded(resp, TOKEN_BODY_LIMIT, f"token response from {host}", guard=guard)
    body = _json(raw)
    value = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise AuthenticationError(f"token server {host} sent no token")
    if not value.isprintable() or value != value.strip():
        raise AuthenticationError(f"token server {host} sent a token with control characters")
    expires_in = body.get("expires_in")
    lifetime = DEFAULT_EXPIRES_IN
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        lifetime = max(float(expires_in), MIN_EXPIRES_IN)
    log.debug("token from %s for %s, valid %.0f s", host, " ".join(scopes), lifetime)
    return Token(value, time.monotonic() + min(lifetime, 1e9), scopes)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _user(creds: Credentials | None) -> str:
    if isinstance(creds, BasicCredentials | IdentityToken):
        return creds.username
    return "<token>"


def _send_realm(
    session: Any,
    guard: RateGuard,
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    *,
    timeout: float | tuple[float, float],
    verify: bool | str,
    cert: str | tuple[str, str] | None,
    proxies: dict[str, str] | None,
) -> wire.Response:
    """One token request, following same-origin redirects only (at most
    :data:`MAX_REALM_REDIRECTS`); 303 (and 301/302 after a POST) would drop the form, so only
    307/308 are followed for a POST."""
    start = origin(url)
    host = urlsplit(url).netloc
    for _ in range(MAX_REALM_REDIRECTS + 1):
        guard.check()
        failure: str | None = None
        try:
            resp: wire.Response = session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                verify=verify,
                cert=cert,
                proxies=proxies,
                allow_redirects=False,
                stream=True,
            )
        except connection_failures() as exc:
            # Their messages name host, port and path (the GET's query holds no secret).
            raise transport_error(f"token request to {host}", exc) from exc
        except Exception as exc:  # anything else may quote a header: keep no chain at all
            failure = type(exc).__name__
        if failure is not None:
            raise TransportError(f"token request to {host} failed: {failure}")
        if resp.status_code not in _REDIRECTS or "Location" not in resp.headers:
            return resp
        target = urljoin(url, resp.headers["Location"])
        resp.close()
        if origin(target) != start:
            raise AuthenticationError(
                f"token server {host} redirected to another origin"
                f" ({redact_url(target)}); refusing to send credentials there"
            )
        if method == "POST" and resp.status_code not in (307, 308):
            raise AuthenticationError(f"token server {host} answered {resp.status_code}")
        url = target
    raise AuthenticationError(f"token server {host}: too many redirects")


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
