"""One vendor REST API spoken over HTTP, as a registry-native API plugin needs it.

Shared by the native API plugins (``ocireg-dockerhub``, ``ocireg-github``,
``ocireg-gitlab``, ``ocireg-harbor``) and public for third-party ones.

What it guarantees, for an untrusted server:

* the base URL is ``https``, or plain ``http`` on loopback only (tests), so no token goes
  out in clear; redirects are not followed (a custom auth header would go along);
* every body read is bounded (:func:`ocireg.limits.read_bounded`), every list by
  :data:`MAX_PAGES`, and a next page is followed only on the base URL's origin;
* 429 (and a 403 that says the rate limit is used up) waits as the server asks
  (``Retry-After``, ``X-RateLimit-Reset``, ``RateLimit-Reset``), at most ``max_wait``
  seconds in all, then raises :class:`~ocireg.errors.TooManyRequestsError`;
* 401/403/404/405/5xx become :class:`~ocireg.errors.AuthenticationError`,
  :class:`~ocireg.errors.DeniedError`, :class:`~ocireg.errors.NotFoundError`,
  :class:`~ocireg.errors.UnsupportedError`, :class:`~ocireg.errors.RegistryError`, whose
  messages hold the vendor's own message with every known secret masked, and no
  exception chain (a session's exception may hold the request's headers).
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from . import wire
from .digest import Digest
from .errors import (
    AuthenticationError,
    DeniedError,
    InvalidDigestError,
    NotFoundError,
    PluginError,
    RegistryError,
    TooManyRequestsError,
    TransportError,
    UnsupportedError,
)
from .hookspecs import hookimpl
from .hosts import is_loopback
from .http_errors import request_failures
from .limits import PAGE_BODY_LIMIT, SMALL_BODY_LIMIT, read_bounded
from .redaction import redact_url

if TYPE_CHECKING:
    from .registry_api import CredentialLookup, RegistryAPI

__all__ = ["MAX_PAGES", "HostedAPIPlugin", "WebAPI", "next_link", "parse_digest", "parse_time"]

#: The most pages one listing reads (with 100 a page: 100,000 entries).
MAX_PAGES = 1000
_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_digest(text: object, what: str) -> str:
    """``text`` as a checked ``sha256``/``sha384``/``sha512`` digest string, or a
    :class:`RegistryError` naming ``what``."""
    try:
        digest = Digest.parse(text)  # type: ignore[arg-type]
    except InvalidDigestError:
        digest = None
    if digest is None or not digest.verifiable:
        raise RegistryError(f"{what}: the API sent an invalid digest", status=200)
    return str(digest)


def parse_time(text: object) -> datetime | None:
    """An ISO 8601 time (``Z``, offsets, up to 7 fractional digits) as aware UTC; None for
    anything else (a missing time is no error: it only makes ``pushed_at`` unknown)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def next_link(resp: wire.Response) -> str | None:
    """The ``rel="next"`` target of a ``Link`` header (RFC 8288), as given, or None."""
    for target, params in _LINK.findall(resp.headers.get("Link", "")):
        if re.search(r'rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?', params):
            return str(target)
    return None


class WebAPI:
    """Requests to one vendor API at ``base_url`` (``https://hub.docker.com``).

    :param vendor: names the API in messages (``"Docker Hub API"``).
    :param registry: the registry host, for errors' ``registry``.
    :param session: an :class:`ocireg.wire.Session` or a ``requests.Session`` (default: a
        new wire session).
    :param timeout: seconds, or ``(connect, read)``.
    :param max_wait: the most seconds spent waiting on rate limits, per call.
    :param sleep: and ``clock``: for tests.
    """

    def __init__(
        self,
        vendor: str,
        base_url: str,
        *,
        registry: str,
        session: Any = None,
        timeout: float | tuple[float, float] = (10.0, 60.0),
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        split = urlsplit(base_url)
        if split.scheme not in ("https", "http") or not split.netloc:
            raise PluginError(f"{vendor}: {base_url!r} is no http(s) URL", plugin=vendor)
        if split.scheme == "http" and not is_loopback(split.netloc):
            raise PluginError(
                f"{vendor}: refusing plain http to {split.netloc}: tokens would go in clear",
                plugin=vendor,
            )
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.registry = registry
        self.session: Any = session if session is not None else wire.Session()
        self.timeout = timeout
        self.max_wait = max_wait
        self._sleep = sleep
        self._clock = clock
        self._secrets: set[str] = set()
        self._log = logging.getLogger(f"ocireg.native.{vendor.split()[0].lower()}")

    def add_secret(self, secret: str | None) -> None:
        """Mask ``secret`` wherever a message would quote the server."""
        if secret:
            self._secrets.add(secret)

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- calls -----------------------------------------------------------------------------

    def call(
        self,
        method: str,
        url: str,
        *,
        what: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        ok: Iterable[int] = (200,),
    ) -> wire.Response:
        """Send one request (``url`` absolute, or a path under the base URL), waiting out
        rate limits; the response when its status is in ``ok`` (body unread), else the
        error of :meth:`error`."""
        if url.startswith("/"):
            url = self.url(url)
        self._check_origin(url, what)
        waited = 0.0
        while True:
            try:
                resp: wire.Response = self.session.request(
                    method,
                    url,
                    headers=dict(headers or {}),
                    params=dict(params) if params else None,
                    json=json_body,
                    data=dict(form) if form is not None else None,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                )
            except request_failures() as exc:
                raise TransportError(
                    f"{self.vendor}: {what}: {type(exc).__name__} talking to {urlsplit(url).netloc}"
                ) from None
            self._log.debug("%s %s -> %s", method, redact_url(resp.url), resp.status_code)
            if resp.status_code in tuple(ok):
                return resp
            wait = self.rate_limit_wait(resp)
            if wait is None or waited + wait > self.max_wait:
                raise self.error(resp, what, wait)
            resp.close()
            self._log.info("%s: rate limited; waiting %.1f s", self.vendor, wait)
            self._sleep(wait)
            waited += wait

    def json(self, resp: wire.Response, what: str, limit: int = PAGE_BODY_LIMIT) -> Any:
        """The JSON body of ``resp``, read up to ``limit`` bytes."""
        with resp:
            raw = read_bounded(resp, limit, f"{self.vendor}: {what}")
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise RegistryError(
                f"{self.vendor}: {what}: the answer is not JSON", status=resp.status_code
            ) from None

    def next_page(self, resp: wire.Response, target: str | None) -> str | None:
        """The absolute URL of the next page named by ``target`` (a ``Link`` target or a
        body's ``next``), checked to be on the base URL's origin; None at the end."""
        if not target:
            return None
        url = urljoin(resp.url, target)
        self._check_origin(url, "next page")
        return url

    # -- answers ---------------------------------------------------------------------------

    def rate_limit_wait(self, resp: wire.Response) -> float | None:
        """Seconds the server asks us to wait, for a rate-limit answer; None for others."""
        limited = resp.status_code == 429 or (
            resp.status_code == 403
            and (resp.headers.get("X-RateLimit-Remaining") == "0" or "Retry-After" in resp.headers)
        )
        if not limited:
            return None
        after = resp.headers.get("Retry-After", "").strip()
        if after.isdigit():
            return float(after)
        if after:
            try:
                return max(
                    0.0, email.utils.parsedate_to_datetime(after).timestamp() - self._clock()
                )
            except (TypeError, ValueError):
                pass
        for name in ("X-RateLimit-Reset", "RateLimit-Reset"):
            value = resp.headers.get(name, "").strip()
            if value.isdigit():
                number = float(value)
                # An epoch time (GitHub, Docker Hub, GitLab) or seconds from now (the IETF draft).
                return max(0.0, number - self._clock()) if number > 1e9 else number
        return 1.0

    def error(
        self, resp: wire.Response, what: str, retry_after: float | None = None
    ) -> RegistryError | AuthenticationError:
        """The :mod:`ocireg.errors` exception for an error answer (the body is read, bounded,
        for the vendor's message)."""
        status = resp.status_code
        message = f"{self.vendor}: {what}: {status}"
        said = self._message(resp)
        if said:
            message += f" {said}"
        kwargs: dict[str, Any] = {"status": status, "operation": what, "registry": self.registry}
        if retry_after is not None or status == 429:
            if retry_after is not None:
                message += (
                    f" (asked to wait {retry_after:.0f} s, over the {self.max_wait:g} s allowed)"
                )
            return TooManyRequestsError(message, retry_after=retry_after, **kwargs)
        if status == 401:
            return AuthenticationError(message + " (credentials refused or missing)")
        if status == 403:
            return DeniedError(message, **kwargs)
        if status == 404:
            return NotFoundError(message, **kwargs)
        if status == 405:
            return UnsupportedError(message, **kwargs)
        if 300 <= status < 400:
            return RegistryError(message + " (redirects are not followed)", **kwargs)
        return RegistryError(message, **kwargs)

    def _message(self, resp: wire.Response) -> str:
        """The vendor's words: ``message``/``detail``/``error``, or the first of ``errors``."""
        try:
            with resp:
                raw = read_bounded(resp, SMALL_BODY_LIMIT, "error body", truncate=True)
            body = json.loads(raw)
        except (ValueError, RecursionError, RegistryError, TransportError):
            return ""
        said: object = None
        if isinstance(body, dict):
            errors = body.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                first = errors[0]
                said = f"{first.get('code', '')}: {first.get('message', '')}".strip(": ")
            else:
                said = body.get("message") or body.get("detail") or body.get("error")
        if not isinstance(said, str):
            return ""
        for secret in self._secrets:
            said = said.replace(secret, "***")
        return _CONTROL.sub(" ", said)[:300]

    def _check_origin(self, url: str, what: str) -> None:
        base, there = urlsplit(self.base_url), urlsplit(url)
        if (there.scheme, there.netloc) != (base.scheme, base.netloc):
            raise RegistryError(
                f"{self.vendor}: {what}: refusing to follow {there.scheme}://{there.netloc},"
                f" not the API's origin {base.scheme}://{base.netloc}",
                status=200,
                registry=self.registry,
            )


class HostedAPIPlugin:
    """The ``ocireg_registry_api`` hook of a plugin for one hosted registry's API: it answers
    for the registries :meth:`api_base` knows, with the :class:`~ocireg.registry_api.RegistryAPI`
    that :meth:`make_api` builds on a :class:`WebAPI` for that base URL.

    Subclasses set ``name`` (the plugin's) and ``vendor`` (the API's, in messages) and
    implement both methods; ``session`` and ``max_wait`` go to every :class:`WebAPI`.
    """

    name = ""
    vendor = ""

    def __init__(self, *, session: Any = None, max_wait: float = 60.0):
        self.session = session
        self.max_wait = max_wait

    def api_base(self, registry: str) -> str | None:
        """The API's base URL for ``registry``, or None for a registry not this plugin's."""
        raise NotImplementedError

    def make_api(self, credentials: CredentialLookup, web: WebAPI) -> RegistryAPI:
        """The native API, speaking through ``web``, with the chain's ``credentials``."""
        raise NotImplementedError

    @hookimpl
    def ocireg_registry_api(
        self, registry: str, credentials: CredentialLookup
    ) -> RegistryAPI | None:
        base = self.api_base(registry)
        if base is None:
            return None
        web = WebAPI(
            self.vendor, base, registry=registry, session=self.session, max_wait=self.max_wait
        )
        return self.make_api(credentials, web)
