"""Which token realms may be asked for a token (REGISTRY-FACTS 3.5, "Realm safety").

The realm of a ``Bearer`` challenge is a URL the registry chooses, and ocireg sends it
credentials (and makes a request from wherever it runs: a CI job, a playbook's host). A
hostile registry could name a realm on the machine's loopback, a cloud metadata service
(169.254.169.254) or the private network behind it. So:

- the realm must be an http(s) URL, and an https registry may not send us to plain http on
  another host (:func:`check_realm`);
- its host is normalised like a resolver would read it: every IPv4 form ``inet_aton`` takes
  (``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``) and IPv4-mapped IPv6
  (``[::ffff:127.0.0.1]``) (:func:`parse_ip`);
- link-local addresses (169.254.0.0/16, fe80::/10) are refused always;
- loopback (and ``0.0.0.0``) and private (any non-global) addresses are refused for a registry
  that is not itself on such an address, unless the caller allows private realms
  (``allow_private``): a loopback registry may use any realm but a link-local one, a private
  one a private or public one;
- a realm *name* is decided on the addresses an injectable resolver (default
  :func:`socket.getaddrinfo`) gives (:func:`check_realm_addresses`), right before the token
  request. (A name that resolves differently a moment later, DNS rebinding, is not caught.)
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from ..errors import AuthenticationError

__all__ = [
    "Resolver",
    "check_realm",
    "check_realm_addresses",
    "host_kind",
    "parse_ip",
    "realm_problem",
    "system_resolver",
]

#: ``resolver(host, port, ...)`` answering like :func:`socket.getaddrinfo`.
Resolver = Callable[..., Iterable[tuple[Any, ...]]]


def system_resolver(host: str, port: int, *args: Any, **kwargs: Any) -> Iterable[tuple[Any, ...]]:
    """:func:`socket.getaddrinfo`, looked up when called (so a test can watch it)."""
    return socket.getaddrinfo(host, port, *args, **kwargs)


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_RANK = {"public": 0, "private": 1, "loopback": 2}


def _ipv4_part(text: str) -> int | None:
    if not text:
        return None
    try:
        if text[:2].lower() == "0x":
            return int(text[2:] or "0", 16)
        if len(text) > 1 and text[0] == "0":
            return int(text[1:], 8)
        return int(text, 10) if text.isdigit() else None
    except ValueError:
        return None


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """``inet_aton``'s reading: 1 to 4 parts, decimal, hex (``0x``) or octal (``0``), the
    last part filling the remaining bytes."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = [_ipv4_part(p) for p in parts]
    if any(v is None for v in values):
        return None
    nums = [v for v in values if v is not None]
    *head, last = nums
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for i, v in enumerate(head):
        value |= v << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


@functools.lru_cache(maxsize=512)
def parse_ip(host: str) -> IPAddress | None:
    """The address ``host`` names literally, as a resolver would read it, or None for a name.

    IPv4-mapped and IPv4-compatible IPv6 addresses give their IPv4 address; a zone
    (``fe80::1%eth0``) is dropped; a trailing dot is ignored.
    """
    text = host.strip().strip("[]").rstrip(".").lower()
    if not text:
        return None
    if ":" in text:
        try:
            v6 = ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            return None
        if v6.ipv4_mapped is not None:
            return v6.ipv4_mapped
        if int(v6) >> 32 == 0 and int(v6) > 1:  # ::a.b.c.d (IPv4-compatible, deprecated)
            return ipaddress.IPv4Address(int(v6) & 0xFFFFFFFF)
        return v6
    return _inet_aton(text)


def kind_of(ip: IPAddress) -> str:
    """``link-local``, ``loopback``, ``private`` (any other non-global address) or
    ``public``."""
    if ip.is_link_local:
        return "link-local"
    if ip.is_loopback or ip.is_unspecified or (ip.version == 4 and int(ip) >> 24 == 0):
        return "loopback"  # 0.0.0.0/8 and :: reach this machine too
    if not ip.is_global or ip.is_multicast:
        return "private"
    return "public"


def host_kind(host: str | None) -> str | None:
    """:func:`kind_of` for a literal address (or ``localhost``); None for another name."""
    if not host:
        return None
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return "loopback"
    ip = parse_ip(name)
    return kind_of(ip) if ip is not None else None


def _refusal(kind: str, registry_kind: str | None, allow_private: bool) -> bool:
    if kind == "link-local":
        return True
    if kind == "public" or allow_private:
        return False
    return _RANK[kind] > _RANK.get(registry_kind or "public", 0)


@functools.lru_cache(maxsize=256)
def realm_problem(realm: str, registry_url: str, allow_private: bool = False) -> str | None:
    """What is wrong with ``realm`` for the registry at ``registry_url`` from the URLs alone
    (literal addresses), or None. Names are left to :func:`check_realm_addresses`."""
    parts = urlsplit(realm)
    reg = urlsplit(registry_url)
    try:
        realm_host = parts.hostname
    except ValueError:
        realm_host = None
    if parts.scheme not in ("http", "https") or not realm_host:
        return f"token realm {realm!r} of {reg.netloc} is not an http(s) URL"
    if reg.scheme == "https" and parts.scheme == "http" and realm_host != reg.hostname:
        return (
            f"refusing plain-http token realm {parts.scheme}://{parts.netloc} "
            f"for https registry {reg.netloc}"
        )
    kind = host_kind(realm_host)
    if kind is not None and _refusal(kind, host_kind(reg.hostname), allow_private):
        return f"refusing {kind} token realm {parts.netloc} for {reg.netloc}"
    return None


def check_realm(realm: str, registry_url: str, *, allow_private: bool = False) -> None:
    """Raise :class:`~ocireg.errors.AuthenticationError` when :func:`realm_problem` finds one."""
    problem = realm_problem(realm, registry_url, allow_private)
    if problem:
        raise AuthenticationError(problem)


def _resolve(resolver: Resolver, host: str, port: int) -> list[IPAddress]:
    try:
        infos = list(resolver(host, port, type=socket.SOCK_STREAM))
    except (OSError, UnicodeError):
        return []  # unresolvable: the token request itself will fail
    out: list[IPAddress] = []
    for info in infos:
        sockaddr = info[4] if len(info) > 4 else ()
        ip = parse_ip(str(sockaddr[0])) if sockaddr else None
        if ip is not None:
            out.append(ip)
    return out


def _worst(ips: Iterable[IPAddress]) -> str | None:
    kinds = {kind_of(ip) for ip in ips}
    for kind in ("link-local", "loopback", "private", "public"):
        if kind in kinds:
            return kind
    return None


def check_realm_addresses(
    realm: str,
    registry_url: str,
    *,
    resolver: Resolver = system_resolver,
    allow_private: bool = False,
) -> None:
    """Refuse a realm *name* that resolves to a link-local address, or to a loopback or
    private one the registry is not on (the registry's own name is resolved only then).

    Every address the name resolves to counts: a hostile DNS answer mixing a public and a
    private address is refused. Nothing is connected to.
    """
    parts = urlsplit(realm)
    reg = urlsplit(registry_url)
    host = parts.hostname
    if not host or host_kind(host) is not None:
        return  # a literal address: realm_problem decided
    port = parts.port or (443 if parts.scheme == "https" else 80)
    kind = _worst(_resolve(resolver, host, port))
    if kind is None or kind == "public":
        return
    registry_kind = host_kind(reg.hostname)
    if registry_kind is None and reg.hostname and kind != "link-local" and not allow_private:
        reg_port = reg.port or (443 if reg.scheme == "https" else 80)
        registry_kind = _worst(_resolve(resolver, reg.hostname, reg_port))
    if _refusal(kind, registry_kind, allow_private):
        raise AuthenticationError(
            f"refusing token realm {parts.netloc} for {reg.netloc}: it resolves to a {kind} address"
        )
