"""vcrpy cassettes of exchanges with a fake, scrubbed of secrets and of the random port.

Recording: requests go to the live fake (``live_origin``); what is stored has every
``Authorization``/``PRIVATE-TOKEN``/cookie header dropped, every known secret (passwords,
tokens, in bodies and headers) replaced by ``<redacted>``, and ``live_origin`` rewritten
to :data:`REPLAY_ORIGIN`. Replaying: point the API at :data:`REPLAY_ORIGIN` (a closed
loopback port, so a request the cassette lacks cannot reach anything); requests match on
method, path and query.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import vcr  # type: ignore[import-untyped]

__all__ = ["REDACTED", "REPLAY_ORIGIN", "SECRET_HEADERS", "use_cassette"]

REPLAY_ORIGIN = "http://127.0.0.1:9"
REDACTED = "<redacted>"
SECRET_HEADERS = ("authorization", "private-token", "cookie", "set-cookie", "proxy-authorization")


def use_cassette(
    path: Path,
    *,
    live_origin: str,
    secrets: Callable[[], Iterable[str]],
    record_mode: str = "once",
) -> AbstractContextManager[Any]:
    """A vcrpy cassette at ``path`` (see the module docstring); ``secrets()`` is asked at
    each scrub, so tokens the fake made during the exchange are included."""

    def scrub(text: str) -> str:
        for secret in secrets():
            if secret:
                text = text.replace(secret, REDACTED)
        return text.replace(live_origin, REPLAY_ORIGIN)

    def scrub_value(value: Any) -> Any:
        if isinstance(value, bytes):
            return scrub(value.decode("utf-8", "replace")).encode()
        if isinstance(value, str):
            return scrub(value)
        return value

    def before_request(request: Any) -> Any:
        request = copy.copy(request)
        request.uri = scrub(request.uri)
        request.body = scrub_value(request.body)
        return request

    def before_response(response: dict[str, Any]) -> dict[str, Any]:
        response = copy.deepcopy(response)
        body = response.get("body", {})
        if "string" in body:
            body["string"] = scrub_value(body["string"])
        headers = response.get("headers", {})
        for name in list(headers):
            if name.lower() in SECRET_HEADERS:
                del headers[name]
            else:
                headers[name] = [scrub_value(v) for v in headers[name]]
        return response

    recorder = vcr.VCR(
        record_mode=record_mode,
        match_on=("method", "path", "query"),
        filter_headers=list(SECRET_HEADERS),
        before_record_request=before_request,
        before_record_response=before_response,
        decode_compressed_response=True,
    )
    return recorder.use_cassette(str(path))  # type: ignore[no-any-return]
