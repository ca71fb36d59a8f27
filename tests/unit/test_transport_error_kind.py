"""TransportError.kind: what failed, told from the exception chain requests raises, and a
real refused connection on loopback."""

from __future__ import annotations

import socket
import ssl

import pytest
import requests
import urllib3.exceptions

from ocireg import Client, TransportError
from ocireg.http_errors import describe_request_error, request_error_kind


def _wrapped(inner: BaseException) -> requests.exceptions.ConnectionError:
    """The chain requests builds: ConnectionError(MaxRetryError(reason=inner))."""
    retry = urllib3.exceptions.MaxRetryError(None, "/v2/", reason=inner)  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(retry)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (requests.exceptions.SSLError("bad cert"), "tls"),
        (_wrapped(ssl.SSLCertVerificationError("verify failed")), "tls"),
        (_wrapped(ConnectionRefusedError(111, "Connection refused")), "refused"),
        (
            _wrapped(urllib3.exceptions.NewConnectionError(None, "refused")),  # type: ignore[arg-type]
            "connection",
        ),
        (_wrapped(socket.gaierror(-2, "Name or service not known")), "dns"),
        (requests.exceptions.ConnectTimeout("slow"), "timeout"),
        (requests.exceptions.ReadTimeout("slow"), "timeout"),
        (_wrapped(ConnectionResetError(104, "reset")), "connection"),
    ],
    ids=[
        "ssl",
        "ssl-nested",
        "refused",
        "other",
        "dns",
        "connect-timeout",
        "read-timeout",
        "reset",
    ],
)
def test_kind_of_request_errors(exc: BaseException, kind: str) -> None:
    assert request_error_kind(exc) == kind


def test_description_names_no_sdk_argument() -> None:
    text = describe_request_error(requests.exceptions.SSLError("x"))
    assert "certificate is not trusted" in text
    assert "ca_cert" not in text and "insecure=" not in text


def test_refused_connection_on_loopback_is_kind_refused() -> None:
    with socket.socket() as sock:  # a port nothing listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with (
            Client(load_entrypoints=False, max_retries=0) as client,
            pytest.raises(TransportError) as info,
        ):
            client.tags(f"127.0.0.1:{port}/app")
    assert info.value.kind == "refused"
    assert "connection refused" in str(info.value)
