"""Where ``pull_blob`` (and ``ocireg blob get -o``) writes: a regular file through a
temporary file and a rename; a device, a FIFO, stdout or a file object as the bytes come,
checked at the end; a symbolic link only when forced (then its target, through a temporary
file in the target's directory); and never more than the blob's size, known before the GET.
The registry is a fake (pytest-httpserver) for what a real one will not do (send a wrong or
endless body)."""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ocireg import Client, DigestMismatchError, cli
from ocireg.download import pull_blob
from ocireg.manifests import Descriptor
from ocireg.reference import Reference
from tests.fixtures.cli import OCIREG, cli_env

REPO = "test/repo"
BLOB = os.urandom(3 << 20)
DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
BLOB_PATH = f"/v2/{REPO}/blobs/{DIGEST}"
SENT = [0]  # bytes the endless body has produced


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1")
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


def serve(server: HTTPServer, body: bytes | None = BLOB, *, endless: bool = False) -> None:
    """The blob (or ``body`` in its place: a wrong one), HEAD announcing the blob's size."""
    server.clear()
    server.expect_request("/v2/").respond_with_json({})
    server.expect_request(BLOB_PATH, method="HEAD").respond_with_handler(
        lambda request: Response(iter([b""]), headers={"Content-Length": str(len(BLOB))})
    )

    def get(request: Request) -> Response:
        if endless:  # chunked, no Content-Length: bytes for ever (bounded here at 256 MiB)
            piece = os.urandom(1 << 16)

            def forever() -> Iterator[bytes]:
                for _ in range(4096):
                    SENT[0] += len(piece)
                    yield piece

            SENT[0] = 0
            return Response(forever(), headers={})
        assert body is not None
        return Response(iter([body]), headers={"Content-Length": str(len(body))})

    server.expect_request(BLOB_PATH, method="GET").respond_with_handler(get)


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(load_entrypoints=False, timeout=(2.0, 10.0)) as c:
        yield c


def ref(server: HTTPServer) -> Reference:
    return Reference.parse(f"http://127.0.0.1:{server.port}/{REPO}")


def requests_of(server: HTTPServer, method: str) -> int:
    return sum(1 for r, _ in server.log if r.method == method and r.path == BLOB_PATH)


def leftovers(*dirs: Path) -> list[str]:
    return [p.name for d in dirs for p in d.iterdir() if p.name.endswith(".part")]


# -- regular files and sizes ---------------------------------------------------------------------


def test_the_size_comes_from_a_head_when_not_given(
    server: HTTPServer, client: Client, tmp_path: Path
) -> None:
    serve(server)
    desc = pull_blob(client.remote, ref(server), DIGEST, tmp_path / "blob")
    assert (tmp_path / "blob").read_bytes() == BLOB
    assert (desc.digest, desc.size) == (DIGEST, len(BLOB))
    assert requests_of(server, "HEAD") == 1


@pytest.mark.parametrize("how", ["size", "descriptor"])
def test_a_known_size_needs_no_head(
    server: HTTPServer, client: Client, tmp_path: Path, how: str
) -> None:
    serve(server)
    if how == "size":
        pull_blob(client.remote, ref(server), DIGEST, tmp_path / "blob", size=len(BLOB))
    else:
        desc = Descriptor(media_type="application/octet-stream", digest=DIGEST, size=len(BLOB))
        pull_blob(client.remote, ref(server), desc, tmp_path / "blob")
    assert (tmp_path / "blob").read_bytes() == BLOB
    assert requests_of(server, "HEAD") == 0


def test_an_endless_blob_stops_at_its_size(
    server: HTTPServer, client: Client, tmp_path: Path
) -> None:
    serve(server, endless=True)
    with pytest.raises(DigestMismatchError):  # checked when the size is reached
        pull_blob(client.remote, ref(server), DIGEST, tmp_path / "blob")
    assert list(tmp_path.iterdir()) == []  # no file, no .part
    assert SENT[0] < 64 << 20  # what the socket buffers took; not the 256 MiB on offer


def test_a_wrong_size_given_is_held_to(server: HTTPServer, client: Client, tmp_path: Path) -> None:
    serve(server)
    with pytest.raises(DigestMismatchError):
        pull_blob(client.remote, ref(server), DIGEST, tmp_path / "blob", size=1000)
    assert list(tmp_path.iterdir()) == []


# -- devices, FIFOs, file objects ---------------------------------------------------------------


def test_dev_null_is_written_not_replaced(server: HTTPServer, client: Client) -> None:
    serve(server)
    before = os.stat("/dev/null")
    desc = pull_blob(client.remote, ref(server), DIGEST, "/dev/null")
    after = os.stat("/dev/null")
    assert desc.size == len(BLOB)
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert [p for p in os.listdir("/dev") if p.startswith(".null.")] == []


def _drain(fifo: Path, into: bytearray) -> threading.Thread:
    def read() -> None:
        with fifo.open("rb") as fh:
            while chunk := fh.read(1 << 16):
                into.extend(chunk)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def test_a_fifo_gets_the_bytes_as_they_come(
    server: HTTPServer, client: Client, tmp_path: Path
) -> None:
    serve(server)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = bytearray()
    reader = _drain(fifo, got)
    pull_blob(client.remote, ref(server), DIGEST, fifo)
    reader.join(timeout=10)
    assert bytes(got) == BLOB
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the FIFO
    assert leftovers(tmp_path) == []


def test_a_wrong_blob_into_a_fifo_says_what_was_written(
    server: HTTPServer, client: Client, tmp_path: Path
) -> None:
    wrong = os.urandom(len(BLOB))
    serve(server, wrong)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = bytearray()
    reader = _drain(fifo, got)
    with pytest.raises(DigestMismatchError) as err:
        pull_blob(client.remote, ref(server), DIGEST, fifo)
    reader.join(timeout=10)
    message = str(err.value)
    assert f"already written to {fifo} are not the blob" in message
    match = re.search(r"the (\d+) bytes already written", message)
    assert match is not None
    written = int(match.group(1))
    assert written == len(got) < len(BLOB)  # the last chunk, with the mismatch, never went out


def test_a_file_object_is_streamed(server: HTTPServer, client: Client) -> None:
    serve(server)
    out = io.BytesIO()
    assert pull_blob(client.remote, ref(server), DIGEST, out).size == len(BLOB)
    assert out.getvalue() == BLOB


# -- symbolic links and other things --------------------------------------------------------------


def test_a_symlink_is_refused_before_any_request(
    server: HTTPServer, client: Client, tmp_path: Path
) -> None:
    serve(server)
    target = tmp_path / "precious"
    target.write_bytes(b"keep me")
    link = tmp_path / "out.bin"
    link.symlink_to(target)
    with pytest.raises(FileExistsError, match="symbolic link"):
        pull_blob(client.remote, ref(server), DIGEST, link)
    assert target.read_bytes() == b"keep me"
    assert link.is_symlink()
    assert requests_of(server, "GET") + requests_of(server, "HEAD") == 0


def test_force_writes_the_links_target_and_keeps_the_link(
    server: HTTPServer, client: Client, tmp_path: Path
) -> None:
    serve(server)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "layer.tgz"
    target.write_bytes(b"old")
    here = tmp_path / "here"
    here.mkdir()
    link = here / "out.bin"
    link.symlink_to(target)
    pull_blob(client.remote, ref(server), DIGEST, link, force=True)
    assert link.is_symlink() and link.resolve() == target
    assert target.read_bytes() == BLOB
    assert leftovers(here, elsewhere) == []


def test_force_through_a_dangling_link_creates_its_target(
    server: HTTPServer, client: Client, tmp_path: Path
) -> None:
    serve(server)
    link = tmp_path / "out.bin"
    link.symlink_to(tmp_path / "new.bin")
    pull_blob(client.remote, ref(server), DIGEST, link, force=True)
    assert link.is_symlink()
    assert (tmp_path / "new.bin").read_bytes() == BLOB


def test_force_through_a_link_to_a_device_streams_to_it(
    server: HTTPServer, client: Client, tmp_path: Path
) -> None:
    serve(server)
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    pull_blob(client.remote, ref(server), DIGEST, link, force=True)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_directory_is_refused(server: HTTPServer, client: Client, tmp_path: Path) -> None:
    serve(server)
    with pytest.raises(IsADirectoryError):
        pull_blob(client.remote, ref(server), DIGEST, tmp_path)


# -- the CLI ---------------------------------------------------------------------------------


def host(server: HTTPServer) -> str:
    return f"127.0.0.1:{server.port}"


def test_cli_refuses_a_symlink_without_force(
    server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(server)
    target = tmp_path / "precious"
    target.write_bytes(b"keep me")
    link = tmp_path / "out.bin"
    link.symlink_to(target)
    argv = ["blob", "get", f"{host(server)}/{REPO}@{DIGEST}", "-o", str(link), "--plain-http"]
    assert cli.main(argv) == cli.EXIT_USAGE
    assert "is a symbolic link; add --force" in capsys.readouterr().err
    assert target.read_bytes() == b"keep me"
    assert cli.main([*argv, "--force"]) == 0
    assert target.read_bytes() == BLOB and link.is_symlink()


def test_cli_writes_dev_null_in_place(
    server: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(server)
    argv = ["blob", "get", f"{host(server)}/{REPO}@{DIGEST}", "-o", "/dev/null", "--plain-http"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.split() == [DIGEST, str(len(BLOB))]
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_cli_stdout_gets_exactly_the_blob(server: HTTPServer, tmp_path: Path) -> None:
    serve(server)
    done = subprocess.run(
        [*OCIREG, "blob", "get", f"{host(server)}/{REPO}@{DIGEST}", "-o", "-", "--plain-http"],
        capture_output=True,
        env=cli_env({"HOME": str(tmp_path)}),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == BLOB  # and nothing else on stdout
    assert done.stderr == b""


def test_cli_stdout_with_a_wrong_blob_says_it_was_not_verified(
    server: HTTPServer, tmp_path: Path
) -> None:
    serve(server, os.urandom(len(BLOB)))
    done = subprocess.run(
        [*OCIREG, "blob", "get", f"{host(server)}/{REPO}@{DIGEST}", "-o", "-", "--plain-http"],
        capture_output=True,
        env=cli_env({"HOME": str(tmp_path)}),
        timeout=60,
        check=False,
    )
    assert done.returncode == cli.EXIT_FAILURE
    err = done.stderr.decode()
    assert "bytes already written to stdout were not verified: discard them" in err
    assert err.splitlines()[-1].startswith("ocireg: ")
    assert 0 < len(done.stdout) < len(BLOB)


def test_cli_stdout_with_json_is_a_usage_error(
    server: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["blob", "get", f"{host(server)}/{REPO}@{DIGEST}", "-o", "-", "--json"]
    assert cli.main(argv) == cli.EXIT_USAGE
    assert "--json" in capsys.readouterr().err
