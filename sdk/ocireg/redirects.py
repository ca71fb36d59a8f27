"""Following redirects by hand, for :mod:`ocireg.transport`.

requests' own redirect handling strips ``Authorization`` only when the *host* changes, and
follows https -> http. Here, on every hop (distribution spec: clients MUST NOT forward
credentials to another origin):

- a hop to another origin (scheme, host, port) drops every secret header
  (:data:`~ocireg.redaction.SECRET_HEADERS`), and they are never added back, even when a later
  hop returns to the registry;
- https -> http is refused;
- a body is sent again from its start on each hop; one that cannot be rewound (a pipe) is not
  sent to a redirect target, since it would go out empty;
- 303 (and 301/302 after a POST) turn the request into a bodiless GET, as browsers do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

from . import wire
from .bodies import ReplayableBody, discard
from .errors import TransportError
from .hosts import origin
from .limits import RateGuard
from .redaction import SECRET_HEADERS, redact_url

__all__ = ["MAX_REDIRECTS", "REDIRECTS", "Sender", "follow_redirects"]

MAX_REDIRECTS = 10
REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: ``send(method, url, headers, body) -> Response``: one request, no redirect followed.
Sender = Callable[[str, str, dict[str, str], Any], wire.Response]


def follow_redirects(
    send: Sender,
    method: str,
    url: str,
    headers: dict[str, str],
    replay: ReplayableBody,
    guard: RateGuard | None = None,
) -> wire.Response:
    """Send, and follow up to :data:`MAX_REDIRECTS` redirects under the rules above."""
    body: Any = replay.body()
    for hop in range(MAX_REDIRECTS + 1):
        if guard is not None:
            guard.check()
        if hop and body is not None:
            if not replay.replayable:
                raise TransportError(
                    f"{method} {redact_url(url)}: redirected, and the body cannot be resent",
                    kind="redirect",
                )
            body = replay.body()
        resp = send(method, url, headers, body)
        if resp.status_code not in REDIRECTS or "Location" not in resp.headers:
            return resp
        target = urljoin(url, resp.headers["Location"])
        discard(resp)
        old, new = origin(url), origin(target)
        if old[0] == "https" and new[0] != "https":
            raise TransportError(
                f"refusing redirect from https to {new[0] or 'a relative URL'}"
                f" ({redact_url(target)})",
                kind="redirect",
            )
        if new[0] not in ("http", "https"):
            raise TransportError(f"refusing redirect to {redact_url(target)}", kind="redirect")
        if old != new:
            headers = {k: v for k, v in headers.items() if k.lower() not in SECRET_HEADERS}
        if resp.status_code == 303 or (resp.status_code in (301, 302) and method == "POST"):
            method, body = ("GET" if method != "HEAD" else "HEAD"), None
        url = target
    raise TransportError(f"too many redirects for {redact_url(url)}", kind="redirect")
