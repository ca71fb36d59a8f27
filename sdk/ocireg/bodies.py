"""Request bodies that can be sent again, and responses dropped without losing the
connection (helpers of :mod:`ocireg.transport`)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from .errors import OciregError
from .limits import read_bounded

if TYPE_CHECKING:
    from . import wire

__all__ = ["DRAIN_LIMIT", "ReplayableBody", "discard"]

#: Bodies up to this size are read before a response is dropped, to keep its connection.
DRAIN_LIMIT = 64 * 1024


class ReplayableBody:
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


def discard(resp: wire.Response) -> None:
    """Close a response we will not use; a small body is read first so that closing it
    returns the connection to the pool instead of dropping it. At most :data:`DRAIN_LIMIT`
    bytes are read, counted after decoding (a small gzip body may inflate)."""
    length = resp.headers.get("Content-Length", "")
    small = length.isdigit() and int(length) <= DRAIN_LIMIT
    if small and not getattr(resp, "_content_consumed", True):
        with contextlib.suppress(OSError, OciregError):
            read_bounded(resp, DRAIN_LIMIT, "discarded response", truncate=True)
    resp.close()
