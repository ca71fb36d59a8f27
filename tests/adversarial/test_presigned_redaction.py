"""Attack 5: presigned storage URLs (a blob GET's redirect) carry their credential in the
query; it must not reach logs, ``-v`` output or error messages."""

from __future__ import annotations

import logging
import socket

import pytest

from ocireg import TransportError
from ocireg.redaction import redact_url

from .hostile import Request, client_for, hostile

SIG = "SIGSECRET0123456789abcdef"

PARAMS = [
    "X-Amz-Signature",
    "x-amz-signature",
    "X-Amz-Security-Token",
    "X-Amz-Credential",
    "X-Goog-Signature",
    "X-Goog-Credential",
    "GoogleAccessId",
    "Signature",
    "sig",
    "SIG",
    "se",
    "verify",
    "Policy",
    "access_token",
]


@pytest.mark.parametrize("name", PARAMS)
def test_presigned_query_values_are_redacted(name: str) -> None:
    url = f"https://bucket.example/blob?X-Amz-Algorithm=AWS4-HMAC-SHA256&{name}={SIG}&x=1"
    redacted = redact_url(url)
    assert SIG not in redacted
    assert f"{name}=***" in redacted
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in redacted and "x=1" in redacted


def test_malformed_url_is_redacted_without_raising() -> None:
    assert SIG not in redact_url(f"https://[::1/blob?sig={SIG}")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_blob_redirect_to_presigned_url_in_logs_and_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The registry redirects a blob GET to a presigned URL on a closed loopback port."""
    port = closed_port()
    target = (
        f"http://127.0.0.1:{port}/b?X-Amz-Credential={SIG}&X-Amz-Signature={SIG}"
        f"&X-Amz-Security-Token={SIG}&sig={SIG}&se={SIG}"
    )

    def handler(req: Request) -> None:
        if req.path == "/v2/":
            return req.send_json({})
        req.send(307, b"", {"Location": target})

    caplog.set_level(logging.DEBUG, logger="ocireg")
    with hostile(handler) as reg:
        client = client_for(reg, max_retries=0)
        with pytest.raises(TransportError) as info:
            client.transport.request("GET", reg.host, "/v2/app/blobs/sha256:" + "0" * 64)
    assert SIG not in str(info.value)
    assert SIG not in caplog.text
    assert f"127.0.0.1:{port}" in caplog.text  # it was logged, redacted
