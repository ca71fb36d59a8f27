"""HTTP transport: one pooled session per client, scheme choice, authentication, redirects,
retries and redacted logging.

Every registry request goes through :meth:`Transport.request`, which

1. pings the registry once (``GET /v2/``) to learn its scheme and challenge, so later requests
   carry credentials or a token from the start (no 401 round trip per call; go-containerregistry
   and regclient do the same);
2. answers a 401 by (re)authenticating once, or once more for a wider scope on
   ``insufficient_scope``;
3. follows redirects itself, dropping ``Authorization`` whenever the host changes and refusing
   https -> http downgrades (distribution spec: clients MUST NOT forward credentials);
4. retries connection failures, 429, 502, 503 and 504 with exponential backoff that honours
   ``Retry-After``, but only for requests that are safe to repeat and whose body can be replayed.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import ipaddress
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from .auth.challenge import Challenge, parse_challenges
from .auth.credentials import BasicCredentials, Credentials, IdentityToken, RegistryToken
from .auth.scope import merge_scopes
from .auth.token import TOKENS, Token, TokenCache, basic_header, check_realm, fetch_token
from .errors import (
    AuthenticationError,
    DeniedError,
    NotFoundError,
    RegistryError,
    RegistryErrorDetail,
    TooManyRequestsError,
    TransportError,
    UnsupportedError,
)
from .reference import DOCKER_HUB_ALIASES

__all__ = [
    "Transport",
    "endpoint_for",
    "is_loopback",
    "raise_for_status",
    "redact_headers",
    "redact_url",
]

log = logging.getLogger("ocireg.http")
header_log = logging.getLogger("ocireg.http.headers")
warn_log = logging.getLogger("ocireg")

DOCKER_HUB = "docker.io"
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"
_REDIRECTS = {301, 302, 303, 307, 308}
_RETRY_STATUS = {429, 502, 503, 504}
_IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
_SECRET_QUERY = {"access_token", "token", "refresh_token", "password", "auth", "sig", "signature"}
_SECRET_HEADERS = {
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-registry-auth",
}
MAX_REDIRECTS = 10
#: ``Warning: 299 <agent> "<text>"`` (RFC 7234 section 5.5); several may share one header.
_WARNING = re.compile(r'(?:^|,)\s*299\s+\S+\s+"((?:[^"\\]|\\.)*)"')
#: ``scheme://netloc`` at the start of an absolute URL (the key of the proxy cache).
_URL_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
#: What makes ``urljoin`` do more than append a path to an origin: dot segments, doubled
#: slashes (dropped), empty ``;params``, query or fragment (dropped), control characters.
_JOIN_SPECIAL = ("/.", "//", ";", "?", "#")
#: Bodies up to this size are read before a response is dropped, to keep its connection.
_DRAIN_LIMIT = 64 * 1024
USER_AGENT = "ocireg/{version} python-requests/{requests}"


def endpoint_for(domain: str) -> str:
    """The API host of a registry name: ``docker.io`` is served by ``registry-1.docker.io``."""
    return DOCKER_HUB_ENDPOINT if domain.lower() in DOCKER_HUB_ALIASES else domain


def _hostname(registry: str) -> str:
    host = registry
    if host.startswith("["):
        return host[1 : host.index("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback(registry: str) -> bool:
    """``localhost``, 127.0.0.0/8 and ``::1``, with or without a port."""
    return _is_loopback(registry)


@functools.lru_cache(maxsize=512)
def _is_loopback(registry: str) -> bool:
    # Asked on every authorised request; parsing an IP address costs microseconds.
    host = _hostname(registry).lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """The URL with userinfo and secret-looking query values replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _SECRET_QUERY for k, _ in pairs):
            query = urlencode(
                [(k, "***" if k.lower() in _SECRET_QUERY else v) for k, v in pairs], safe="*:/"
            )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for name, value in headers.items():
        if name.lower() in _SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            out[name] = f"{scheme} ***".strip()
        else:
            out[name] = value
    return out


@dataclass
class _RegistryState:
    base_url: str
    challenge: Challenge | None = None
    pinged: bool = False
    ping_status: int | None = None
    ping_headers: dict[str, str] = field(default_factory=dict)


CredentialsLookup = Callable[[str, str | None], Credentials | None]


class Transport:
    """Sends registry requests for one :class:`~ocireg.Client`."""

    def __init__(
        self,
        *,
        credentials_for: CredentialsLookup,
        session: requests.Session | None = None,
        insecure_registries: Iterable[str] = (),
        plain_http: Iterable[str] = (),
        ca_cert: str | None = None,
        client_cert: str | tuple[str, str] | None = None,
        verify_tls: bool = True,
        user_agent: str | None = None,
        timeout: float | tuple[float, float] = (10.0, 300.0),
        max_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        pool_size: int = 16,
        token_cache: TokenCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from . import __version__

        self._credentials_for = credentials_for
        self.session = session or requests.Session()
        if session is None:
            adapter = HTTPAdapter(pool_connections=8, pool_maxsize=pool_size, max_retries=0)
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)
            # requests re-reads proxy variables (and ~/.netrc, which could override our
            # Authorization) on every request: about a third of a HEAD's client CPU. We read
            # the environment once per host instead (see _environment).
            self.session.trust_env = False
        self._proxies: dict[str, dict[str, str]] = {}
        #: The proxies of an origin as written at the start of a URL (see _environment).
        self._origin_proxies: dict[str, dict[str, str]] = {}
        #: Token cache key part of each credential, by identity (a sha256 per request else).
        self._fingerprints: dict[int, tuple[Credentials, str]] = {}
        #: Hosts spoken to over plain http only (the caller said so: no TLS attempt first).
        self.plain_http = {r.lower() for r in plain_http}
        self.insecure = {r.lower() for r in insecure_registries} | self.plain_http
        env_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self.verify: bool | str = (
            ca_cert if ca_cert else (env_bundle or True) if verify_tls else False
        )
        self.client_cert = client_cert
        self.user_agent = user_agent or USER_AGENT.format(
            version=__version__, requests=requests.__version__
        )
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.tokens = token_cache or TOKENS
        self._sleep = sleep
        self._states: dict[str, _RegistryState] = {}
        self._creds_cache: dict[tuple[str, str | None], Credentials | None] = {}
        self._warned: set[str] = set()
        #: The last Docker Hub style rate-limit headers seen, by registry.
        self.rate_limits: dict[str, dict[str, str]] = {}

    # -- registry state --------------------------------------------------------------------

    def close(self) -> None:
        self.session.close()

    def _verify_for(self, registry: str) -> bool | str:
        return False if registry.lower() in self.insecure else self.verify

    def credentials(self, registry: str, repository: str | None = None) -> Credentials | None:
        key = (registry, repository)
        if key not in self._creds_cache:
            self._creds_cache[key] = self._credentials_for(registry, repository)
        return self._creds_cache[key]

    def state(self, registry: str, scheme: str | None = None) -> _RegistryState:
        """The registry's base URL and challenge, pinging it on first use."""
        st = self._states.get(registry)
        if st is not None and st.pinged:
            return st
        endpoint = endpoint_for(registry)
        if scheme:
            candidates = [scheme]
        elif registry.lower() in self.plain_http:
            candidates = ["http"]
        elif registry.lower() in self.insecure or is_loopback(registry):
            # Like docker for insecure registries: TLS first, plain http when TLS fails.
            candidates = ["https", "http"]
        else:
            candidates = ["https"]
        last_exc: Exception | None = None
        for candidate in candidates:
            base = f"{candidate}://{endpoint}"
            try:
                resp = self._send_once("GET", f"{base}/v2/", registry, headers={}, timeout=None)
            except TransportError as exc:
                if "CERTIFICATE_VERIFY_FAILED" in repr(exc.__cause__):
                    raise  # a TLS registry whose certificate we do not trust: say so
                last_exc = exc
                continue
            with contextlib.closing(resp):
                st = _RegistryState(base_url=base, pinged=True, ping_status=resp.status_code)
                st.ping_headers = dict(resp.headers)
                if resp.status_code == 401:
                    st.challenge = _pick_challenge(resp.headers.get("WWW-Authenticate"))
            self._states[registry] = st
            return st
        assert last_exc is not None
        raise last_exc

    def base_url(self, registry: str) -> str:
        return self.state(registry).base_url

    # -- requests --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        registry: str,
        path_or_url: str,
        *,
        scopes: Iterable[str] = (),
        repository: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | list[tuple[str, str]] | None = None,
        data: Any = None,
        stream: bool = False,
        timeout: float | tuple[float, float] | None = None,
        retry: bool = True,
    ) -> requests.Response:
        """Send one logical request; returns the final response whatever its status.

        ``retry`` allows repeating the request after a connection failure or a 429/502/503/504
        when its body can be replayed. Pass ``retry=False`` for requests that must not be
        repeated blindly, such as a PUT or PATCH into an upload session, which may already
        have taken part of the data.

        ``path_or_url`` is ``/v2/...`` or an absolute URL the registry gave (a ``Location``).
        Callers map statuses to errors with :func:`raise_for_status`.
        """
        st = self.state(registry)
        own_origin: bool | None = None
        if _plain_path(path_or_url) and _bare_origin(st.base_url):
            # "/v2/...": what urljoin would give, and on the registry's own origin.
            url, own_origin = st.base_url + path_or_url, True
        else:
            url = urljoin(st.base_url + "/", path_or_url)
        if params:
            url = _add_query(url, params)
        wanted = merge_scopes(scopes)
        # Credentials and tokens go to the registry's own origin only: a Link or Location
        # naming another host gets none (as go-containerregistry's bearer transport does).
        if own_origin is None:
            own_origin = _origin(url) == _origin(st.base_url)
        replay = _Replay(data)
        retries_left = self.max_retries if (retry and replay.replayable) else 0
        reauthenticated = False
        failures = 0
        while True:
            hdrs = {"User-Agent": self.user_agent, **(headers or {})}
            used = self._authorize(registry, repository, st, wanted, hdrs) if own_origin else None
            try:
                resp = self._send(method, url, registry, hdrs, replay, stream, timeout)
            except TransportError as exc:
                if retries_left > 0 and method in _IDEMPOTENT and _transient(exc):
                    retries_left -= 1
                    failures += 1
                    self._sleep(self._backoff(failures, None))
                    continue
                raise
            if resp.status_code == 401 and not reauthenticated and replay.replayable:
                challenge = _pick_challenge(resp.headers.get("WWW-Authenticate"))
                if challenge is not None and self._reauthenticate(st, challenge, used):
                    reauthenticated = True
                    if challenge.scheme == "bearer" and challenge.scope:
                        # One challenge may name several scopes, space-separated.
                        wanted = merge_scopes((*wanted, *challenge.scope.split()))
                    _discard(resp)
                    continue
            if resp.status_code in _RETRY_STATUS and retries_left > 0:
                wait = _retry_after(resp)
                safe = method in _IDEMPOTENT or resp.status_code == 429
                if safe and (wait is None or wait <= self.max_backoff * 2):
                    retries_left -= 1
                    failures += 1
                    _discard(resp)
                    self._sleep(self._backoff(failures, wait))
                    continue
            self._observe(registry, resp)
            return resp

    def _backoff(self, failures: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        return float(min(self.max_backoff, self.backoff * (2 ** (failures - 1))))

    def _authorize(
        self,
        registry: str,
        repository: str | None,
        st: _RegistryState,
        scopes: tuple[str, ...],
        headers: dict[str, str],
    ) -> tuple[tuple[str, str, str], Token] | None:
        ch = st.challenge
        if ch is None or "Authorization" in headers:
            return None
        creds = self.credentials(registry, repository)
        if ch.scheme == "basic":
            if isinstance(creds, BasicCredentials):
                self._check_plain_http(registry, st)
                headers["Authorization"] = basic_header(creds)
            return None
        if ch.scheme != "bearer":
            return None
        if isinstance(creds, RegistryToken):
            headers["Authorization"] = f"Bearer {creds.token}"
            return None
        if creds is not None:
            self._check_plain_http(registry, st)
        realm = ch.realm or ""
        check_realm(realm, st.base_url)
        # The token request carries the credentials: the plain-http rule of the registry.
        realm_host, plain_http_realm, same_host = _realm_facts(realm, st.base_url)
        if (
            creds is not None
            and plain_http_realm
            and realm_host not in self.insecure
            and registry.lower() not in self.insecure
        ):
            raise AuthenticationError(
                f"refusing to send credentials for {registry} to the plain-http token realm"
                f" {realm_host}; name the registry insecure to allow this"
            )
        # The realm is verified like the registry it serves (same CA bundle, client cert).
        verify = self._verify_for(registry if same_host else realm_host)
        key = (realm, ch.service or "", self._fingerprint(creds))
        token = self.tokens.get(
            key,
            scopes,
            lambda: fetch_token(
                self.session,
                ch,
                scopes,
                creds,
                timeout=self._timeout(None),
                verify=verify,
                cert=self.client_cert,
                proxies=self._environment(realm),
            ),
        )
        headers["Authorization"] = f"Bearer {token.value}"
        return key, token

    def _fingerprint(self, creds: Credentials | None) -> str:
        if creds is None:
            return "anonymous"
        known = self._fingerprints.get(id(creds))
        if known is not None and known[0] is creds:
            return known[1]
        value = creds.fingerprint
        self._fingerprints[id(creds)] = (creds, value)  # keeps creds alive: ids stay unique
        return value

    def _reauthenticate(
        self,
        st: _RegistryState,
        challenge: Challenge,
        used: tuple[tuple[str, str, str], Token] | None,
    ) -> bool:
        """Decide whether a 401 is worth another try, updating what we know."""
        if st.challenge is None or st.challenge.scheme != challenge.scheme:
            st.challenge = challenge  # first challenge, or the registry changed its mind
            return True
        if challenge.scheme == "bearer" and used is not None:
            # insufficient_scope names the scope it wants; an expired token gets a fresh one.
            self.tokens.forget(*used)
            return True
        return False

    def _check_plain_http(self, registry: str, st: _RegistryState) -> None:
        if (
            st.base_url.startswith("http://")
            and not is_loopback(registry)
            and registry.lower() not in self.insecure
        ):
            raise AuthenticationError(
                f"refusing to send credentials to {registry} over plain http; "
                "name it an insecure registry to allow this"
            )

    def _timeout(self, timeout: float | tuple[float, float] | None) -> float | tuple[float, float]:
        return timeout if timeout is not None else self.timeout

    def _send(
        self,
        method: str,
        url: str,
        registry: str,
        headers: dict[str, str],
        replay: _Replay,
        stream: bool,
        timeout: float | tuple[float, float] | None,
    ) -> requests.Response:
        """One attempt, following redirects by hand.

        Each hop sends the body again from its start; a body that cannot be rewound (a pipe)
        is not sent to a redirect target, since it would go out empty.
        """
        body: Any = replay.body()
        for hop in range(MAX_REDIRECTS + 1):
            if hop and body is not None:
                if not replay.replayable:
                    raise TransportError(
                        f"{method} {redact_url(url)}: redirected, and the body cannot be resent"
                    )
                body = replay.body()
            resp = self._send_once(
                method, url, registry, headers=headers, data=body, stream=stream, timeout=timeout
            )
            if resp.status_code not in _REDIRECTS or "Location" not in resp.headers:
                return resp
            target = urljoin(url, resp.headers["Location"])
            _discard(resp)
            old, new = urlsplit(url), urlsplit(target)
            if old.scheme == "https" and new.scheme == "http":
                raise TransportError(f"refusing redirect from https to http ({redact_url(target)})")
            if (old.scheme, old.netloc) != (new.scheme, new.netloc):
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if resp.status_code == 303 or (resp.status_code in (301, 302) and method == "POST"):
                method, body = ("GET" if method != "HEAD" else "HEAD"), None
            url = target
        raise TransportError(f"too many redirects for {redact_url(url)}")

    def _send_once(
        self,
        method: str,
        url: str,
        registry: str,
        *,
        headers: Mapping[str, str],
        data: Any = None,
        stream: bool = False,
        timeout: float | tuple[float, float] | None,
    ) -> requests.Response:
        # request() has put the User-Agent in already; only ping() and others come here bare.
        hdrs = headers if "User-Agent" in headers else {"User-Agent": self.user_agent, **headers}
        started = time.perf_counter()
        try:
            resp = self.session.request(
                method,
                url,
                headers=hdrs,
                data=data,
                # Not streamed for HEAD: an unread streamed response is closed by dropping its
                # connection, so every HEAD would cost a new TCP (and TLS) connection.
                stream=stream,
                allow_redirects=False,
                proxies=self._environment(url),
                verify=self._verify_for(registry),
                cert=self.client_cert,
                timeout=self._timeout(timeout),
            )
        except requests.RequestException as exc:
            log.debug("%s %s -> %s", method, redact_url(url), type(exc).__name__)
            raise TransportError(f"{method} {redact_url(url)} failed: {_describe(exc)}") from exc
        if log.isEnabledFor(logging.DEBUG):  # redact_url parses the URL: only when logged
            elapsed = (time.perf_counter() - started) * 1000
            log.debug("%s %s -> %d (%.0f ms)", method, redact_url(url), resp.status_code, elapsed)
        if header_log.isEnabledFor(logging.DEBUG):
            header_log.debug("> %s", redact_headers(resp.request.headers))
            header_log.debug("< %s", redact_headers(resp.headers))
        return resp

    def _environment(self, url: str) -> dict[str, str]:
        """Proxies for ``url`` from the environment (``HTTPS_PROXY``, ``NO_PROXY``...), read
        once per scheme and host; empty when the caller's own session trusts the environment."""
        if self.session.trust_env:
            return {}
        # The origin as written, found without parsing the URL: it maps to one key always.
        m = _URL_ORIGIN.match(url)
        written = m.group(0) if m else None
        if written is not None:
            known = self._origin_proxies.get(written)
            if known is not None:
                return known
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        found = self._proxies.get(key)
        if found is None:
            found = dict(requests.utils.get_environ_proxies(key + "/"))
            self._proxies[key] = found
        if written is not None:
            self._origin_proxies[written] = found
        return found

    def _observe(self, registry: str, resp: requests.Response) -> None:
        headers = resp.headers
        warning = headers.get("Warning")
        if warning:
            for match in _WARNING.finditer(warning):
                text = re.sub(r"\\(.)", r"\1", match.group(1))
                if text not in self._warned:
                    self._warned.add(text)
                    warn_log.warning("registry %s: %s", registry, text)
        # One look at all the names first: most responses have no rate-limit headers.
        if "ratelimit-" not in " ".join(headers).lower():
            return
        limits = {k: v for k, v in headers.items() if k.lower().startswith("ratelimit-")}
        if limits:
            self.rate_limits[registry] = limits
            log.debug("rate limit at %s: %s", registry, limits)


class _Replay:
    """Lets a request body be sent again: bytes always, seekable files from where they were."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.start: int | None = None
        if data is not None and not isinstance(data, bytes | bytearray | str | dict | list):
            try:
                self.start = data.tell()
            except (AttributeError, OSError):
                self.start = None
        self.replayable = (
            data is None
            or isinstance(data, bytes | bytearray | str | dict | list)
            or (self.start is not None)
        )

    def body(self) -> Any:
        if self.start is not None:
            self.data.seek(self.start)
        return self.data


def _transient(exc: TransportError) -> bool:
    """Whether trying again may help: a lost or timed-out connection, not a refused redirect,
    an untrusted certificate or a malformed URL."""
    cause = exc.__cause__
    if isinstance(cause, requests.exceptions.SSLError):
        return False
    return isinstance(cause, requests.ConnectionError | requests.Timeout)


def _plain_path(path: str) -> bool:
    """Whether ``urljoin(origin + "/", path)`` is just ``origin + path``."""
    return (
        path[:1] == "/"
        and path.isprintable()
        and not any(special in path for special in _JOIN_SPECIAL)
    )


@functools.lru_cache(maxsize=256)
def _bare_origin(base_url: str) -> bool:
    """``http(s)://host[:port]`` with nothing after it (as :meth:`Transport.state` makes)."""
    return (
        base_url.startswith(("https://", "http://"))
        and base_url.count("/") == 2
        and base_url.isprintable()
        and not any(special in base_url for special in "?#")
    )


@functools.lru_cache(maxsize=256)
def _realm_facts(realm: str, base_url: str) -> tuple[str, bool, bool]:
    """``(realm host, is it plain http off loopback, same host name as the registry)``."""
    parts = urlsplit(realm)
    realm_host = parts.netloc.lower()
    plain_http = realm.lower().startswith("http://") and not is_loopback(realm_host)
    return realm_host, plain_http, parts.hostname == urlsplit(base_url).hostname


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _discard(resp: requests.Response) -> None:
    """Close a response we will not use; a small body is read first so that closing it
    returns the connection to the pool instead of dropping it."""
    length = resp.headers.get("Content-Length", "")
    small = length.isdigit() and int(length) <= _DRAIN_LIMIT
    if small and not getattr(resp, "_content_consumed", True):
        with contextlib.suppress(requests.RequestException):
            _ = resp.content
    resp.close()


def _pick_challenge(header: str | None) -> Challenge | None:
    challenges = parse_challenges(header)
    for scheme in ("bearer", "basic"):
        for ch in challenges:
            if ch.scheme == scheme:
                return ch
    return None


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _add_query(url: str, params: Mapping[str, str] | list[tuple[str, str]]) -> str:
    """Append ``params``, keeping the URL's own query byte for byte (an upload ``Location``
    must be used verbatim: its ``_state`` is signed)."""
    parts = urlsplit(url)
    extra = urlencode(list(params.items()) if isinstance(params, Mapping) else list(params))
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def _describe(exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error (certificate not trusted? pass ca_cert, or name the registry insecure)"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "read timed out"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection failed"
    return type(exc).__name__


# -- error mapping -------------------------------------------------------------------------

_MAX_ERROR_BODY = 64 * 1024


def registry_errors(resp: requests.Response) -> tuple[RegistryErrorDetail, ...]:
    """The ``{"errors": [...]}`` list of an error response, tolerating anything else."""
    try:
        length = resp.headers.get("Content-Length", "")
        small = length.isdigit() and int(length) <= _MAX_ERROR_BODY
        if getattr(resp, "_content_consumed", True) or small:
            raw = resp.content[:_MAX_ERROR_BODY]
        else:  # a streamed error response: read no more than an error body can sensibly be
            raw = next(resp.iter_content(_MAX_ERROR_BODY), b"")
        body = json.loads(raw)
    except (ValueError, requests.RequestException):
        return ()
    items = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return ()
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("code"), str):
            out.append(
                RegistryErrorDetail(
                    item["code"], str(item.get("message") or ""), item.get("detail")
                )
            )
    return tuple(out)


def raise_for_status(
    resp: requests.Response,
    *,
    operation: str,
    registry: str,
    target: str,
    ok: Iterable[int] = (200,),
) -> requests.Response:
    """Return ``resp`` when its status is in ``ok``; otherwise raise the matching error.

    The message names the operation, the registry and target, the status and the registry's
    error code and message, e.g. ``GET manifest 127.0.0.1:5000/app:1.0: 404 MANIFEST_UNKNOWN:
    manifest unknown``.
    """
    status = resp.status_code
    if status in ok:
        return resp
    details = registry_errors(resp) if resp.request.method != "HEAD" else ()
    if not details and status == 404 and resp.request.method == "HEAD":
        # A HEAD answer has no body; the spec gives 404 on these endpoints one meaning.
        for word, code in (("manifest", "MANIFEST_UNKNOWN"), ("blob", "BLOB_UNKNOWN")):
            if word in operation.lower():
                details = (RegistryErrorDetail(code, f"{word} unknown"),)
    resp.close()
    codes = "; ".join(f"{d.code}: {d.message}" if d.message else d.code for d in details)
    message = f"{operation} {registry}/{target}: {status}" + (f" {codes}" if codes else "")
    kwargs: dict[str, Any] = {
        "status": status,
        "errors": details,
        "operation": operation,
        "registry": registry,
    }
    first = details[0].code if details else ""
    if status == 404 or first.endswith("_UNKNOWN"):
        raise NotFoundError(message, **kwargs)
    if status == 401:
        ch = _pick_challenge(resp.headers.get("WWW-Authenticate"))
        if ch is not None and ch.error == "insufficient_scope":
            raise DeniedError(message + " (insufficient scope)", **kwargs)
        sent = "Authorization" in (resp.request.headers if resp.request else {})
        raise AuthenticationError(
            message + (" (credentials refused)" if sent else " (authentication required)")
        )
    if status == 403 or first == "DENIED":
        raise DeniedError(message, **kwargs)
    if status == 405 or first == "UNSUPPORTED":
        raise UnsupportedError(message, **kwargs)
    if status == 429 or first == "TOOMANYREQUESTS":
        raise TooManyRequestsError(message, retry_after=_retry_after(resp), **kwargs)
    raise RegistryError(message, **kwargs)


__all__ += ["registry_errors"]


def credentials_kind(creds: Credentials | None) -> str:
    if creds is None:
        return "anonymous"
    if isinstance(creds, IdentityToken):
        return "identity-token"
    return creds.kind
