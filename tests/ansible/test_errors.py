"""Errors in Ansible's terms (``module_utils/_errors.py``): connection failures say refused,
DNS, TLS or timeout with the URL tried; error_type is always an ocireg name."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import pytest
import requests

pytest.importorskip("ansible.module_utils.basic")

from ansible_collections.ocireg.registry.plugins.module_utils import _errors
from ocireg import AuthenticationError, TransportError
from ocireg.http_errors import request_error_kind
from ocireg.retention import InvalidSelectionError
from tests.ansible.conftest import PlaybookRunner, task


def _transport(cause: BaseException) -> TransportError:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise TransportError(  # with the kind the SDK gives it
                "GET https://registry.test/v2/ failed: connection failed",
                kind=request_error_kind(inner),
            ) from inner
    except TransportError as exc:
        return exc


def _wrapped(reason: BaseException) -> BaseException:
    """As requests wraps urllib3: ConnectionError(MaxRetryError(reason=NewConnectionError))."""
    inner = requests.exceptions.ConnectionError("pool")
    carrier = Exception("max retries")
    carrier.reason = reason  # type: ignore[attr-defined]
    inner.args = (carrier,)
    return inner


@pytest.mark.parametrize(
    ("cause", "kind", "words"),
    [
        (
            _wrapped(ConnectionRefusedError(111, "Connection refused")),
            "refused",
            "connection refused",
        ),
        (_wrapped(socket.gaierror(-2, "Name or service not known")), "dns", "DNS lookup failed"),
        (requests.exceptions.ConnectTimeout("slow"), "timeout", "connection timed out"),
        (requests.exceptions.ReadTimeout("slow"), "timeout", "answer"),
        (_wrapped(ssl.SSLCertVerificationError(1, "certificate verify failed")), "tls", "ca_path"),
        (_wrapped(OSError("something else")), "connection", "connection failed"),
    ],
    ids=["refused", "dns", "connect-timeout", "read-timeout", "tls", "other"],
)
def test_connection_problems_are_told_apart(cause: BaseException, kind: str, words: str) -> None:
    exc = _transport(cause)
    assert _errors.connection_problem(exc)[0] == kind
    result = _errors.error_result(exc)
    assert result["msg"].startswith("GET https://registry.test/v2/ failed: ")
    assert words in result["msg"]
    assert result["error_type"] == "TransportError"


@pytest.mark.parametrize(
    ("exc", "error_type", "status"),
    [
        (InvalidSelectionError("invalid pattern"), "InvalidSelectionError", None),
        (ValueError("something the module did not expect"), "InvalidOptionError", None),
        (AuthenticationError("token server t refused user 'a' for repository:x:pull (403)"),
         "AuthenticationError", 403),
        (AuthenticationError("GET tags r/x: 401 UNAUTHORIZED (credentials refused)"),
         "AuthenticationError", 401),
        (AuthenticationError("token server t answered 500"), "AuthenticationError", 500),
    ],
    ids=["selection", "bare-value-error", "token-server-403", "registry-401", "token-server-500"],
)  # fmt: skip
def test_error_type_and_status(exc: Exception, error_type: str, status: int | None) -> None:
    result = _errors.error_result(exc)
    assert result["error_type"] == error_type
    assert result["http_status"] == status


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.live
def test_refused_and_timeout_in_a_playbook(playbook: PlaybookRunner, silent_server: int) -> None:
    refused_port = _free_port()
    run = playbook(
        [
            task("registry_tag_info", "refused", repository=f"127.0.0.1:{refused_port}/x/y",
                 ignore_errors=True),
            task("registry_tag_info", "timeout", repository=f"127.0.0.1:{silent_server}/x/y",
                 timeout=1, ignore_errors=True),
        ],
        save=["refused", "timeout"],
    )  # fmt: skip
    refused, timeout = run["refused"], run["timeout"]
    assert refused["failed"] is True and refused["error_type"] == "TransportError"
    assert (
        "connection refused" in refused["msg"] and f"127.0.0.1:{refused_port}/v2/" in refused["msg"]
    )
    assert "exists" not in refused and "tags" not in refused
    assert timeout["failed"] is True and timeout["error_type"] == "TransportError"
    assert "timed out" in timeout["msg"] and f"127.0.0.1:{silent_server}/v2/" in timeout["msg"]
