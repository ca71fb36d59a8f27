"""Ctrl-C (and SIGTERM, SIGHUP) in the middle of ``ocireg blob get`` and ``ocireg blob put``:
exit 128 + the signal, one line saying so, no partial file, and no upload session left open at
the registry; with ``-o -`` a warning that the bytes already on stdout were not verified.

The registry is a small threaded HTTP server made here that serves slowly (64 KiB every
50 ms), so the real command, run as a subprocess, is surely mid-transfer when SIGINT comes.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.fixtures.cli import OCIREG, cli_env

REPO = "slow/app"
PIECE = 64 * 1024
DELAY = 0.05
BLOB = os.urandom(8 << 20)  # 128 pieces: 6.4 s to send, far more than any test waits
DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()


class SlowRegistry(ThreadingHTTPServer):
    """``/v2/``, a blob GET sent a piece at a time, and upload sessions (POST, PATCH read a
    piece at a time, PUT, DELETE); every request is remembered as ``(method, path)``."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str]] = []
        self.sent = 0  # blob bytes written to GET responses
        self.received = 0  # upload bytes read from PATCH bodies
        self.stopping = threading.Event()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def requests_of(self, method: str) -> list[str]:
        with self.lock:
            return [path for m, path in self.seen if m == method]


class _Handler(BaseHTTPRequestHandler):
    server: SlowRegistry

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _record(self) -> None:
        with self.server.lock:
            self.server.seen.append((self.command, self.path))

    def _answer(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._record()
        if self.path == "/v2/":
            return self._answer(200)
        if self.path != f"/v2/{REPO}/blobs/{DIGEST}":
            return self._answer(404)
        self.send_response(200)
        self.send_header("Content-Length", str(len(BLOB)))
        self.send_header("Docker-Content-Digest", DIGEST)
        self.end_headers()
        for start in range(0, len(BLOB), PIECE):
            if self.server.stopping.is_set():
                return
            try:
                self.wfile.write(BLOB[start : start + PIECE])
                self.wfile.flush()
            except OSError:  # the client went away
                return
            with self.server.lock:
                self.server.sent += PIECE
            time.sleep(DELAY)

    def do_HEAD(self) -> None:
        self._record()
        if self.path == f"/v2/{REPO}/blobs/{DIGEST}":  # blob get asks the size first
            self.send_response(200)
            self.send_header("Content-Length", str(len(BLOB)))
            self.send_header("Docker-Content-Digest", DIGEST)
            self.end_headers()
            return
        self._answer(404)  # no other blob is ever there: uploads must go ahead

    def do_POST(self) -> None:
        self._record()
        location = f"/v2/{REPO}/blobs/uploads/{uuid.uuid4()}"
        self._answer(202, {"Location": location, "Range": "0-0"})

    def do_PATCH(self) -> None:
        self._record()
        remaining = int(self.headers["Content-Length"])
        while remaining and not self.server.stopping.is_set():
            piece = self.rfile.read(min(PIECE, remaining))
            if not piece:
                return
            remaining -= len(piece)
            with self.server.lock:
                self.server.received += len(piece)
            time.sleep(DELAY)
        with self.server.lock:
            end = self.server.received - 1
        self._answer(202, {"Location": self.path, "Range": f"0-{end}"})

    def do_PUT(self) -> None:
        self._record()
        self._answer(201)

    def do_DELETE(self) -> None:
        self._record()
        self._answer(204)


@pytest.fixture
def slow() -> Iterator[SlowRegistry]:
    server = SlowRegistry()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def start(*args: str, home: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*OCIREG, *args, "--plain-http"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env({"HOME": str(home), "DOCKER_CONFIG": str(home / ".docker"), **(env or {})}),
    )


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"ocireg ended (exit {proc.returncode}) before {what}: {out}{err}")
        if time.monotonic() > deadline:
            proc.kill()
            proc.communicate()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def interrupt(
    proc: subprocess.Popen[str], signum: signal.Signals = signal.SIGINT
) -> tuple[int, str, str]:
    proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"ocireg did not end after {signum.name}: {out}{err}")
    return proc.returncode, out, err


@pytest.mark.parametrize(
    ("signum", "code", "message"),
    [
        (signal.SIGINT, 130, "interrupted"),
        (signal.SIGTERM, 143, "terminated by SIGTERM"),
        (signal.SIGHUP, 129, "terminated by SIGHUP"),
    ],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
@pytest.mark.parametrize("existing", [False, True], ids=["new-file", "existing-file"])
def test_signal_during_blob_get_leaves_no_partial_file(
    slow: SlowRegistry,
    tmp_path: Path,
    signum: signal.Signals,
    code: int,
    message: str,
    existing: bool,
) -> None:
    target_dir = tmp_path / "downloads"
    target_dir.mkdir()
    target = target_dir / "layer.tgz"
    if existing:
        target.write_bytes(b"the previous layer")
    proc = start("blob", "get", f"{slow.host}/{REPO}@{DIGEST}", "-o", str(target), home=tmp_path)

    def partial_file_has_data() -> bool:
        parts = list(target_dir.glob(".layer.tgz.*.part"))
        return bool(parts) and parts[0].stat().st_size > 0

    wait_for(partial_file_has_data, proc, "the first bytes were written")
    got, out, err = interrupt(proc, signum)

    assert got == code, err
    assert err == f"ocireg: {message}\n"
    assert out == ""
    # no .part file; a file that was there is left as it was
    assert list(target_dir.iterdir()) == ([target] if existing else [])
    if existing:
        assert target.read_bytes() == b"the previous layer"
    assert slow.sent < len(BLOB)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_signal_during_blob_get_to_stdout_says_the_bytes_were_not_verified(
    slow: SlowRegistry, tmp_path: Path, signum: signal.Signals
) -> None:
    sink = tmp_path / "sink"
    with sink.open("wb") as out_file:
        proc = subprocess.Popen(
            [*OCIREG, "blob", "get", f"{slow.host}/{REPO}@{DIGEST}", "-o", "-", "--plain-http"],
            stdout=out_file,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env({"HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path / ".docker")}),
        )
        wait_for(lambda: sink.stat().st_size > 0, proc, "the first bytes were written")
        proc.send_signal(signum)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"ocireg did not end after {signum.name}")
    assert proc.returncode == 128 + signum, err
    warning, last = err.splitlines()[-2:]
    assert re.fullmatch(
        r"ocireg: warning: the \d+ bytes already written to stdout were not verified: "
        r"discard them",
        warning,
    ), err
    assert last == f"ocireg: terminated by {signum.name}"
    assert 0 < sink.stat().st_size < len(BLOB)


def test_ctrl_c_during_chunked_blob_put_cancels_the_upload(
    slow: SlowRegistry, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(BLOB[: 4 << 20])
    proc = start(
        *("blob", "put", f"{slow.host}/{REPO}", str(source), "--chunk-size", str(256 * 1024)),
        home=tmp_path,
        env={"OCIREG_PROGRESS": "1"},  # the bar must make way for the message
    )

    wait_for(lambda: slow.received >= 512 * 1024, proc, "two chunks arrived")
    code, _out, err = interrupt(proc)

    assert code == 130, err
    assert err.splitlines()[-1] == "ocireg: interrupted"
    assert re.search(r"big\.bin: +\d+%", err)  # a bar was drawn until then
    (session,) = {path.split("?")[0] for path in slow.requests_of("PATCH")}
    assert slow.requests_of("DELETE") == [session]
    assert slow.requests_of("PUT") == []
