"""Where a request goes: the API host of a registry name, loopback hosts, URL origins, and the
proxies the environment names for them. No I/O.

A registry *name* (``docker.io``, a reference's domain) is not always the host that serves its
API (``registry-1.docker.io``): :func:`endpoint_for` maps one to the other. Loopback hosts get
the leniencies docker gives them (TLS first, then plain http; credentials over plain http).
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from .reference import DOCKER_HUB_ALIASES

__all__ = [
    "DOCKER_HUB",
    "DOCKER_HUB_ENDPOINT",
    "EnvironmentProxies",
    "add_query",
    "bare_origin",
    "endpoint_for",
    "environ_proxies",
    "hostname",
    "is_loopback",
    "origin",
    "plain_path",
    "realm_facts",
]

DOCKER_HUB = "docker.io"
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"
#: ``scheme://netloc`` at the start of an absolute URL (the key of the proxy cache).
_URL_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
#: What makes ``urljoin`` do more than append a path to an origin: dot segments, doubled
#: slashes (dropped), empty ``;params``, query or fragment (dropped), control characters.
_JOIN_SPECIAL = ("/.", "//", ";", "?", "#")


def endpoint_for(domain: str) -> str:
    """The API host of a registry name: ``docker.io`` is served by ``registry-1.docker.io``."""
    return DOCKER_HUB_ENDPOINT if domain.lower() in DOCKER_HUB_ALIASES else domain


def hostname(registry: str) -> str:
    """The host of ``host[:port]`` or ``[v6]:port``, without port or brackets."""
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
    host = hostname(registry).lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_path(path: str) -> bool:
    """Whether ``urljoin(origin + "/", path)`` is just ``origin + path``."""
    return (
        path[:1] == "/"
        and path.isprintable()
        and not any(special in path for special in _JOIN_SPECIAL)
    )


@functools.lru_cache(maxsize=256)
def bare_origin(base_url: str) -> bool:
    """``http(s)://host[:port]`` with nothing after it (as :meth:`Transport.state` makes)."""
    return (
        base_url.startswith(("https://", "http://"))
        and base_url.count("/") == 2
        and base_url.isprintable()
        and not any(special in base_url for special in "?#")
    )


@functools.lru_cache(maxsize=256)
def realm_facts(realm: str, base_url: str) -> tuple[str, bool, bool]:
    """``(realm host, is it plain http off loopback, same host name as the registry)``."""
    parts = urlsplit(realm)
    realm_host = parts.netloc.lower()
    plain_http = realm.lower().startswith("http://") and not is_loopback(realm_host)
    return realm_host, plain_http, parts.hostname == urlsplit(base_url).hostname


def origin(url: str) -> tuple[str, str]:
    """``(scheme, netloc)``, lower-cased: two URLs with one origin may share credentials."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def add_query(url: str, params: Mapping[str, str] | list[tuple[str, str]]) -> str:
    """Append ``params``, keeping the URL's own query byte for byte (an upload ``Location``
    must be used verbatim: its ``_state`` is signed)."""
    parts = urlsplit(url)
    extra = urlencode(list(params.items()) if isinstance(params, Mapping) else list(params))
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` names ``host``: ``*``, the host, a domain (with or without its
    leading dot; a whole label: ``example.com`` is not ``notexample.com``), either with a
    port, or a CIDR block holding an IP address, as curl and Go read it."""
    entries = [e.strip().lower() for e in no_proxy.replace(" ", ",").split(",") if e.strip()]
    host = host.lower()
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    with_port = f"{host}:{port}" if port else host
    for entry in entries:
        if entry == "*":
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry.strip("[]"), strict=False):
                    return True
            except ValueError:
                pass
            continue
        suffix = entry.lstrip(".")
        for name in (host, with_port):  # "example.com" and "example.com:5000" forms
            if name == suffix or name.endswith("." + suffix):
                return True
    return False


def _proxy_variables() -> dict[str, str]:
    """``{"https": ..., "no": ...}`` from the ``*_proxy`` variables, the lower-case name
    winning, as urllib reads them (without importing urllib.request: ~4 ms). Under CGI
    (``REQUEST_METHOD`` set) ``HTTP_PROXY`` may come from a client's ``Proxy:`` header
    ("httpoxy"), so it is ignored there."""
    found: dict[str, str] = {}
    for name, value in os.environ.items():
        if value and name[-6:].lower() == "_proxy":
            found[name[:-6].lower()] = value
    if "REQUEST_METHOD" in os.environ:
        found.pop("http", None)
    for name, value in os.environ.items():  # the lower-case names win, even set empty
        if name[-6:] == "_proxy":
            if value:
                found[name[:-6].lower()] = value
            else:
                found.pop(name[:-6].lower(), None)
    return found


def environ_proxies(host: str, port: int | None = None) -> dict[str, str]:
    """The proxies the environment names for a request to ``host:port``, keyed by scheme as
    the ``*_proxy`` variables name them (the session picks the request's own); empty when
    ``no_proxy`` bypasses the host."""
    proxies = _proxy_variables()
    no_proxy = proxies.pop("no", "")
    if not proxies or (no_proxy and _bypassed(host, port, no_proxy)):
        return {}
    return proxies


class EnvironmentProxies:
    """Proxies for a URL from the environment (``HTTPS_PROXY``, ``NO_PROXY``...), read once
    per scheme and host.

    Reading the variables on every request (as requests does when its session trusts the
    environment) cost about a third of a HEAD's client CPU.
    """

    def __init__(self) -> None:
        self._proxies: dict[str, dict[str, str]] = {}
        #: The proxies of an origin as written at the start of a URL.
        self._origin_proxies: dict[str, dict[str, str]] = {}

    def for_url(self, url: str) -> dict[str, str]:
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
            found = environ_proxies(parts.hostname or "", parts.port)
            self._proxies[key] = found
        if written is not None:
            self._origin_proxies[written] = found
        return found
