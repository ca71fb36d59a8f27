"""Which scheme a registry is spoken to with: https, plain http, or https first and plain
http when TLS fails (docker's rule for insecure registries and loopback hosts).

Trying TLS against a plain-http registry costs more than the request itself: the CA bundle
is loaded (about 40 ms of CPU for certifi's) only for the handshake to fail. So before that
attempt, a loopback registry is asked cheaply which protocol it speaks
(:func:`answers_plain_http`): a TLS ``ClientHello`` made without any certificate, and the first
bytes of the answer. A server that answers it with ``HTTP/`` is a plain-http server, on which
the https attempt would fail: it is spoken to in plain http at once, as docker would after
that failure. Any other answer, or none, and the full https attempt runs as before. The probe
sends no request and no credential.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Set

from .hosts import hostname

__all__ = ["answers_plain_http", "candidate_schemes"]

#: What a plain-http server's answer to anything starts with.
_HTTP_ANSWER = b"HTTP/"
#: The longest the probe waits for an answer (a TLS server answers a ClientHello at once).
_PROBE_WAIT = 2.0


def candidate_schemes(
    registry: str, scheme: str | None, plain_http: Set[str], insecure: Set[str], loopback: bool
) -> list[str]:
    """The schemes to try for ``registry``, in order: the one asked for; ``http`` for hosts
    named plain http; https then http (docker) for insecure registries and loopback hosts
    (``loopback``: whether ``registry`` is one); else https only. ``plain_http`` and
    ``insecure`` hold lower-cased hosts."""
    if scheme:
        return [scheme]
    name = registry.lower()
    if name in plain_http:
        return ["http"]
    if name in insecure or loopback:
        return ["https", "http"]
    return ["https"]


def answers_plain_http(endpoint: str, timeout: float) -> bool:
    """Whether the server at ``endpoint`` (``host[:port]``, default port 443) answers a TLS
    ``ClientHello`` with plain HTTP. False when it answers TLS, closes, cannot be reached or
    says nothing within ``timeout`` (at most 2 s) seconds: the caller then tries TLS."""
    import ssl

    host = hostname(endpoint)
    rest = endpoint[endpoint.rindex("]") + 1 :] if endpoint.startswith("[") else endpoint
    port = int(rest.rsplit(":", 1)[1]) if rest.count(":") == 1 else 443
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # no handshake completes here: nothing is trusted
    outgoing = ssl.MemoryBIO()
    tls = context.wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname=host)
    with contextlib.suppress(ssl.SSLWantReadError):  # wants the answer, read below instead
        tls.do_handshake()
    hello = outgoing.read()
    wait = min(timeout, _PROBE_WAIT)
    answer = b""
    try:
        with socket.create_connection((host, port), timeout=wait) as sock:
            sock.sendall(hello)
            while len(answer) < len(_HTTP_ANSWER):
                chunk = sock.recv(len(_HTTP_ANSWER) - len(answer))
                if not chunk:
                    break
                answer += chunk
    except OSError:
        return False
    return answer == _HTTP_ANSWER
