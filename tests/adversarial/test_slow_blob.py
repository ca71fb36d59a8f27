"""A blob sent one small piece at a time ends in bounded time: the reader holds the sender
to the transport's minimum rate, as every other body is."""

from __future__ import annotations

import hashlib
import time

import pytest

from ocireg import TransportError
from tests.adversarial.hostile import Request, client_for, hostile

BLOB = b"x" * 4096
DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()


def _slow_blob(req: Request) -> None:
    if req.path == "/v2/":
        return req.send_json({})
    req.send_response(200)
    req.send_header("Content-Length", str(len(BLOB)))
    req.send_header("Docker-Content-Digest", DIGEST)
    req.end_headers()
    for i in range(len(BLOB) // 8):
        if req.server.stopping.is_set():
            return
        req.wfile.write(BLOB[i * 8 : i * 8 + 8])
        req.wfile.flush()
        time.sleep(0.05)  # 160 B/s, well below 1 KiB/s


@pytest.mark.parametrize("how", ["open_blob", "pull_blob"])
def test_a_trickling_blob_ends_in_bounded_time(tmp_path, how: str) -> None:  # type: ignore[no-untyped-def]
    with hostile(_slow_blob) as reg:
        client = client_for(reg)  # 1 KiB/s over 1 s
        started = time.monotonic()
        with pytest.raises(TransportError, match="GET blob"):
            if how == "open_blob":
                with client.open_blob(f"{reg.host}/app", DIGEST, size=len(BLOB)) as reader:
                    reader.read()
            else:
                client.pull_blob(f"{reg.host}/app", DIGEST, tmp_path / "blob", size=len(BLOB))
        elapsed = time.monotonic() - started
    assert elapsed < 5
    assert list(tmp_path.iterdir()) == []
