"""HTTP transport: one pooled session per client, scheme choice, authentication, redirects,
retries and redacted logging.

Every registry request goes through :meth:`Transport.request`, which

1. pings the registry once (``GET /v2/``) to learn its scheme and challenge, so later requests
   carry credentials or a token from the start (no 401 round trip per call; go-containerregistry
   and regclient do the same);
2. answers a 401 by (re)authenticating once, or once more for a wider scope on
   ``insufficient_scope``;
3. follows redirects itself, dropping ``Authorization`` (and every other secret header)
   whenever the origin (scheme, host, port) changes and refusing https -> http downgrades
   (distribution spec: clients MUST NOT forward credentials);
4. retries connection failures, 429, 502, 503 and 504 with exponential backoff that honours
   ``Retry-After`` up to ``max_retry_wait`` per wait and ``retry_budget`` per call, but only for
   requests that are safe to repeat and whose body can be replayed;
5. bounds what comes back (:mod:`ocireg.limits`): a body read for a caller that does not stream
   is at most 16 MiB, decoded, and every body read through the response (``iter_content``,
   ``.content``, ``.json()``) must keep a minimum rate (``speed_limit`` bytes/s over
   ``speed_time`` seconds) and end before the call's optional ``deadline``.

Error mapping: :mod:`ocireg.http_errors`; redaction: :mod:`ocireg.redaction`; host facts:
:mod:`ocireg.hosts`; redirects: :mod:`ocireg.redirects`; waits: :mod:`ocireg.retry`.
Credentials come from ``credentials_for`` (the Client's keychain), asked on every request.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urljoin

from . import wire
from .auth.authorizer import Authorizer, TokenKey
from .auth.challenge import Challenge, pick_challenge
from .auth.credentials import Credentials
from .auth.realm import Resolver, system_resolver
from .auth.scope import merge_scopes
from .auth.token import TOKENS, Token, TokenCache, fetch_token
from .bodies import ReplayableBody, discard
from .errors import TransportError
from .hosts import (
    EnvironmentProxies,
    add_query,
    bare_origin,
    origin,
    plain_path,
)
from .http_errors import (
    connection_failures,
    is_transient,
    note_response,
    observe,
    request_failures,
    retry_after,
    transport_error,
)
from .limits import PAGE_BODY_LIMIT, SMALL_BODY_LIMIT, GuardedRaw, RateGuard, preload
from .redaction import redact_headers, redact_url
from .redirects import MAX_REDIRECTS, follow_redirects
from .registry_state import RegistryState, RegistryStates
from .retry import RetryPolicy
from .scheme import answers_plain_http

__all__ = ["MAX_REDIRECTS", "USER_AGENT", "CredentialsLookup", "RegistryState", "Transport"]

log = logging.getLogger("ocireg.http")
header_log = logging.getLogger("ocireg.http.headers")

_RETRY_STATUS = {429, 502, 503, 504}
_IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
USER_AGENT = "ocireg/{version}"


CredentialsLookup = Callable[[str, str | None], Credentials | None]


class Transport:
    """Sends registry requests for one :class:`~ocireg.Client`."""

    def __init__(
        self,
        *,
        credentials_for: CredentialsLookup,
        session: Any = None,
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
        max_retry_wait: float = 60.0,
        retry_budget: float = 120.0,
        speed_limit: int = 1024,
        speed_time: float = 30.0,
        deadline: float | None = None,
        allow_private_realms: bool = False,
        resolver: Resolver = system_resolver,
    ) -> None:
        """See the module docstring. ``max_retry_wait``/``retry_budget``: the longest single
        wait and total sleep of a call; ``speed_limit`` (bytes/s, 0: off) over ``speed_time``
        (s): the minimum body rate; ``deadline``: seconds a call may take, body included;
        ``allow_private_realms``: loopback/private token realms for a registry not on such
        an address; ``resolver``: resolves realm names for that rule."""
        from . import __version__

        self._credentials_for = credentials_for
        #: ocireg's own :class:`~ocireg.wire.Session`, or the caller's (a ``requests.Session``
        #: works: the wire layer keeps its names). Ours reads neither proxy variables nor
        #: ``~/.netrc``: proxies are read once per host (_environment).
        self.session: Any = session if session is not None else wire.Session(pool_size=pool_size)
        self._own_session = session is None
        self._proxies = EnvironmentProxies()
        #: Hosts spoken to over plain http only (the caller said so: no TLS attempt first).
        self.plain_http = {r.lower() for r in plain_http}
        self.insecure = {r.lower() for r in insecure_registries} | self.plain_http
        env_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self.verify: bool | str = (
            ca_cert if ca_cert else (env_bundle or True) if verify_tls else False
        )
        self.client_cert = client_cert
        self.user_agent = user_agent or USER_AGENT.format(version=__version__)
        self.timeout = timeout
        self.retry = RetryPolicy(max_retries, backoff, max_backoff, max_retry_wait, retry_budget)
        self.speed_limit = speed_limit
        self.speed_time = speed_time
        self.deadline = deadline
        self.authorizer = Authorizer(
            credentials_for=self.credentials,
            fetch=self._fetch_token,
            tokens=token_cache or TOKENS,
            insecure=self.insecure,
            allow_private_realms=allow_private_realms,
            resolver=resolver,
        )
        self._sleep = sleep
        self.states = RegistryStates(
            plain_http=self.plain_http,
            insecure=self.insecure,
            ping=lambda registry, url, guard: self._send_once(
                "GET", url, registry, headers={}, timeout=None, guard=guard
            ),
            probe=self._probe_first,
            guard=lambda registry: self.guard(f"ping {registry}"),
        )
        self._states = self.states.known  # by registry name
        self._warned: set[str] = set()
        #: The last Docker Hub style rate-limit headers seen, by registry.
        self.rate_limits: dict[str, dict[str, str]] = {}

    # -- registry state --------------------------------------------------------------------

    def close(self) -> None:
        self.session.close()

    @property
    def tokens(self) -> TokenCache:
        """The token cache (the process-wide one unless ``token_cache`` was given)."""
        return self.authorizer.tokens

    @tokens.setter
    def tokens(self, cache: TokenCache) -> None:
        self.authorizer.tokens = cache

    def _verify_for(self, registry: str) -> bool | str:
        return False if registry.lower() in self.insecure else self.verify

    def credentials(self, registry: str, repository: str | None = None) -> Credentials | None:
        """What ``credentials_for`` answers, asked on every request: the caller (the Client's
        :class:`~ocireg.auth.keychain.Keychain`) caches, for as long as a credential lives."""
        return self._credentials_for(registry, repository)

    def state(
        self, registry: str, scheme: str | None = None, *, ping: bool = True
    ) -> RegistryState:
        """The registry's base URL and challenge (:meth:`RegistryStates.get
        <ocireg.registry_state.RegistryStates.get>`)."""
        return self.states.get(registry, scheme, ping=ping)

    def _probe_first(self, endpoint: str) -> bool:
        """A loopback registry, reached directly (our session, no proxy), speaks plain http."""
        direct = self._own_session and not self._environment(f"https://{endpoint}/")
        timeout = self.timeout if isinstance(self.timeout, int | float) else self.timeout[0]
        return direct and answers_plain_http(endpoint, timeout)

    def base_url(self, registry: str) -> str:
        return self.state(registry, ping=False).base_url

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
    ) -> wire.Response:
        """Send one logical request; returns the final response whatever its status.

        ``retry`` allows repeating the request after a connection failure or a 429/502/503/504
        when its body can be replayed. Pass ``retry=False`` for requests that must not be
        repeated blindly, such as a PUT or PATCH into an upload session, which may already
        have taken part of the data.

        ``path_or_url`` is ``/v2/...`` or an absolute URL the registry gave (a ``Location``).
        Callers map statuses to errors with :func:`ocireg.http_errors.raise_for_status`.
        """
        replay = ReplayableBody(data)
        # A body should not be sent only to meet a 401 (nor can every body be sent twice):
        # until the registry has answered, a request with one pings first (registry_state).
        empty = data is None or (isinstance(data, bytes | bytearray | str) and not data)
        st = self.state(registry, ping=not empty)
        own_origin: bool | None = None
        if plain_path(path_or_url) and bare_origin(st.base_url):
            # "/v2/...": what urljoin would give, and on the registry's own origin.
            url, own_origin = st.base_url + path_or_url, True
        else:
            url = urljoin(st.base_url + "/", path_or_url)
        if params:
            url = add_query(url, params)
        wanted = merge_scopes(scopes)
        # Credentials and tokens go to the registry's own origin only: a Link or Location
        # naming another host gets none (as go-containerregistry's bearer transport does).
        if own_origin is None:
            own_origin = origin(url) == origin(st.base_url)
        retries_left = self.retry.max_retries if (retry and replay.replayable) else 0
        reauthenticated = False
        failures = 0
        waited = 0.0
        guard = self.guard(f"{method} {redact_url(url)}")
        # Until the registry has answered once, its requests go one at a time (registry_state).
        with contextlib.nullcontext() if st.pinged else st.first:
            while True:
                guard.check()
                hdrs = {"User-Agent": self.user_agent, **(headers or {})}
                used = (
                    self.authorizer.authorize(
                        registry, repository, st.challenge, st.base_url, wanted, hdrs
                    )
                    if own_origin
                    else None
                )
                try:
                    resp = self._send(method, url, registry, hdrs, replay, timeout, guard)
                except TransportError as exc:
                    delay = self.retry.delay(failures + 1, None)
                    if (
                        retries_left > 0
                        and method in _IDEMPOTENT
                        and is_transient(exc)
                        and self.retry.refusal(None, delay, waited, guard) is None
                    ):
                        retries_left -= 1
                        failures += 1
                        waited += delay
                        self._sleep(delay)
                        continue
                    raise
                st.pinged = True  # it has answered: its challenge, if any, is known now
                if resp.status_code == 401 and not reauthenticated and replay.replayable:
                    challenge = pick_challenge(resp.headers.get("WWW-Authenticate"))
                    if challenge is not None and self._reauthenticate(st, challenge, used):
                        reauthenticated = True
                        if challenge.scheme == "bearer" and challenge.scope:
                            # One challenge may name several scopes, space-separated.
                            wanted = merge_scopes((*wanted, *challenge.scope.split()))
                        discard(resp)
                        continue
                if resp.status_code in _RETRY_STATUS and retries_left > 0:
                    wait = retry_after(resp)
                    safe = method in _IDEMPOTENT or resp.status_code == 429
                    delay = self.retry.delay(failures + 1, wait)
                    refused = self.retry.refusal(wait, delay, waited, guard) if safe else None
                    if safe and refused is None:
                        retries_left -= 1
                        failures += 1
                        waited += delay
                        discard(resp)
                        self._sleep(delay)
                        continue
                    if refused:
                        note_response(resp, refused)
                observe(registry, resp, self._warned, self.rate_limits)
                if not stream and isinstance(resp.raw, GuardedRaw):
                    # Read now, 16 MiB at most; an error body is left for registry_errors (64 KiB).
                    if resp.status_code < 400:
                        preload(resp, PAGE_BODY_LIMIT)
                    else:
                        resp.raw.limit = SMALL_BODY_LIMIT
                return resp

    def guard(self, what: str) -> RateGuard:
        """A :class:`~ocireg.limits.RateGuard` with this transport's rate and deadline."""
        s = self
        return RateGuard(
            speed_limit=s.speed_limit, speed_time=s.speed_time, deadline=s.deadline, what=what
        )

    def _fetch_token(
        self, ch: Challenge, scopes: tuple[str, ...], creds: Credentials | None, tls_host: str
    ) -> Token:
        return fetch_token(
            self.session,
            ch,
            scopes,
            creds,
            timeout=self._timeout(None),
            verify=self._verify_for(tls_host),
            cert=self.client_cert,
            proxies=self._environment(ch.realm or ""),
            guard=self.guard(f"token request to {origin(ch.realm or '')[1]}"),
        )

    def _reauthenticate(
        self,
        st: RegistryState,
        challenge: Challenge,
        used: tuple[TokenKey, Token] | None,
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

    def _timeout(self, timeout: float | tuple[float, float] | None) -> float | tuple[float, float]:
        return timeout if timeout is not None else self.timeout

    def _send(
        self,
        method: str,
        url: str,
        registry: str,
        headers: dict[str, str],
        replay: ReplayableBody,
        timeout: float | tuple[float, float] | None,
        guard: RateGuard | None = None,
    ) -> wire.Response:
        """One attempt, following redirects (:func:`~ocireg.redirects.follow_redirects`)."""

        def send(method: str, url: str, headers: dict[str, str], body: Any) -> wire.Response:
            return self._send_once(
                method, url, registry, headers=headers, data=body, timeout=timeout, guard=guard
            )

        return follow_redirects(send, method, url, headers, replay, guard)

    def _send_once(
        self,
        method: str,
        url: str,
        registry: str,
        *,
        headers: Mapping[str, str],
        data: Any = None,
        timeout: float | tuple[float, float] | None,
        guard: RateGuard | None = None,
    ) -> wire.Response:
        """Send once; the response is streamed (a HEAD's is not: it has no body, and an unread
        streamed response would cost its connection), its ``raw`` read through ``guard``."""
        # request() has put the User-Agent in already; only ping() and others come here bare.
        hdrs = headers if "User-Agent" in headers else {"User-Agent": self.user_agent, **headers}
        started = time.perf_counter()
        failure: str | None = None
        try:
            resp: wire.Response = self.session.request(
                method,
                url,
                headers=hdrs,
                data=data,
                stream=method != "HEAD",
                allow_redirects=False,
                proxies=self._environment(url),
                verify=self._verify_for(registry),
                cert=self.client_cert,
                timeout=self._timeout(timeout),
            )
        except connection_failures() as exc:
            log.debug("%s %s -> %s", method, redact_url(url), type(exc).__name__)
            raise transport_error(f"{method} {redact_url(url)}", exc) from exc
        except request_failures() as exc:
            # InvalidHeader and friends may quote the header (a secret): no chain at all.
            failure = type(exc).__name__
        if failure is not None:
            log.debug("%s %s -> %s", method, redact_url(url), failure)
            raise TransportError(f"{method} {redact_url(url)} failed: {failure}")
        if method != "HEAD":
            resp.raw = GuardedRaw(resp.raw, guard or self.guard(f"{method} {redact_url(url)}"))
        if log.isEnabledFor(logging.DEBUG):  # redact_url parses the URL: only when logged
            elapsed = (time.perf_counter() - started) * 1000
            log.debug("%s %s -> %d (%.0f ms)", method, redact_url(url), resp.status_code, elapsed)
        if header_log.isEnabledFor(logging.DEBUG):
            header_log.debug("> %s", redact_headers(resp.request.headers))
            header_log.debug("< %s", redact_headers(resp.headers))
        return resp

    def _environment(self, url: str) -> dict[str, str]:
        """Proxies for ``url`` from the environment (see :class:`~ocireg.hosts.EnvironmentProxies`);
        empty when the caller's own session trusts the environment."""
        if self.session.trust_env:
            return {}
        return self._proxies.for_url(url)
