"""What a :class:`~ocireg.transport.Transport` knows of each registry: the scheme it is spoken
to with, and the authentication challenge it answers with.

A registry is not pinged (``GET /v2/``) just to be spoken to. When the scheme is settled
without asking (the caller named it, the host is plain http, or it is https only), the first
request goes straight out and learns the challenge from its own 401; the transport retries it
with credentials, as it does for any 401. That is one round trip less per registry and
process: the one-shot commands send a single request to an open registry. A ``GET /v2/`` is
still sent where it decides something: to choose between https and http (insecure and loopback
registries, unless the loopback probe of :mod:`ocireg.scheme` settles it), and before the first
request with a body (which should not travel only to meet a 401).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .auth.challenge import Challenge, pick_challenge
from .errors import TransportError
from .hosts import endpoint_for, is_loopback
from .limits import SMALL_BODY_LIMIT, RateGuard, read_bounded
from .scheme import candidate_schemes

if TYPE_CHECKING:
    from . import wire

__all__ = ["RegistryState", "RegistryStates"]


@dataclass
class RegistryState:
    """What is known of one registry. ``pinged``: it has answered (``GET /v2/`` or any
    request), so ``challenge`` is what it asks for; until then, requests to it go one at a
    time (``first``), so that concurrent first requests do not each collect a 401."""

    base_url: str
    challenge: Challenge | None = None
    pinged: bool = False
    ping_status: int | None = None
    ping_headers: dict[str, str] = field(default_factory=dict)
    first: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


class RegistryStates:
    """The :class:`RegistryState` of each registry, by name (``known``).

    :param ping: sends ``GET url`` for a registry (one attempt, no authentication).
    :param probe: whether a loopback ``host[:port]`` answers a TLS hello in plain http.
    :param guard: the rate and deadline guard of a ping.
    """

    def __init__(
        self,
        *,
        plain_http: Set[str],
        insecure: Set[str],
        ping: Callable[[str, str, RateGuard], wire.Response],
        probe: Callable[[str], bool],
        guard: Callable[[str], RateGuard],
    ) -> None:
        self.known: dict[str, RegistryState] = {}
        self._plain_http, self._insecure = plain_http, insecure
        self._ping, self._probe, self._guard = ping, probe, guard

    def get(self, registry: str, scheme: str | None = None, *, ping: bool = True) -> RegistryState:
        """The registry's state; ``ping=False`` makes it without a request when the scheme is
        settled without one (see the module docstring), else ``GET /v2/`` until it answers."""
        st = self.known.get(registry)
        if st is not None and (st.pinged or not ping):
            return st
        endpoint = endpoint_for(registry)
        if st is not None:
            candidates = [st.base_url.partition("://")[0]]
        else:
            loopback = is_loopback(registry)
            candidates = candidate_schemes(
                registry, scheme, self._plain_http, self._insecure, loopback
            )
            if len(candidates) > 1 and loopback and self._probe(endpoint):
                candidates = ["http"]  # the TLS attempt would fail: scheme.py
            if not ping and len(candidates) == 1:
                fresh = RegistryState(base_url=f"{candidates[0]}://{endpoint}")
                return self.known.setdefault(registry, fresh)
        last_exc: Exception | None = None
        for candidate in candidates:
            base = f"{candidate}://{endpoint}"
            try:
                resp = self._ping(registry, f"{base}/v2/", self._guard(registry))
            except TransportError as exc:
                if "CERTIFICATE_VERIFY_FAILED" in repr(exc.__cause__):
                    raise  # a TLS registry whose certificate we do not trust: say so
                last_exc = exc
                continue
            with contextlib.closing(resp):
                # Read (at most 64 KiB) so the connection can be reused; the body is not used.
                read_bounded(resp, SMALL_BODY_LIMIT, f"ping {registry}", truncate=True)
                if st is None:
                    st = self.known.setdefault(registry, RegistryState(base_url=base))
                st.base_url, st.ping_status = base, resp.status_code
                st.ping_headers = dict(resp.headers)
                if resp.status_code == 401:
                    st.challenge = pick_challenge(resp.headers.get("WWW-Authenticate"))
                st.pinged = True
            return st
        assert last_exc is not None
        raise last_exc
