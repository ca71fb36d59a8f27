"""What the CLI's connection options give the Client.

* ``--insecure`` turns TLS verification off and nothing else: it never names a host an
  "insecure registry", so a TLS handshake that fails is an error, not a fall back to plain
  http carrying the user's password in clear. ``--plain-http`` is the only way to http.
* ``copy`` scopes credentials: ``--src-creds`` to the source registry, ``--dest-creds`` to
  the destination; ``-u``/``-p`` only when both are on one registry, else a usage error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

import ocireg.client
import ocireg.registry_state
import ocireg.wire
from ocireg import cli
from ocireg.cli._common import make_client
from ocireg.cli._parser import build_parser


@pytest.fixture(autouse=True)
def _quiet_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_setup_logging", lambda verbose: None)


def client_for(*argv: str) -> ocireg.Client:
    args = build_parser().parse_args(["tags", "r.example/app", *argv])
    return make_client(args, ["r.example"])


def test_insecure_is_no_verification_only() -> None:
    with client_for("--insecure") as client:
        assert client.transport.verify is False
        assert client.transport.insecure == set()
        assert client.transport.plain_http == set()


def test_plain_http_is_the_way_to_http() -> None:
    with client_for("--plain-http") as client:
        assert client.transport.plain_http == {"r.example"}
    with client_for() as client:
        assert client.transport.verify is not False
        assert client.transport.insecure == set()
        assert client.transport.plain_http == set()


@pytest.fixture
def basic_http_registry() -> Iterator[HTTPServer]:
    """A plain-http registry asking for Basic credentials: where a fall back would send
    them in clear."""
    server = HTTPServer(host="127.0.0.1")
    server.expect_request("/v2/").respond_with_data(
        "", status=401, headers={"WWW-Authenticate": 'Basic realm="r"'}
    )
    server.start()
    yield server
    server.clear()
    server.stop()


def test_insecure_never_falls_back_to_http(
    basic_http_registry: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Loopback hosts get an http fall back by the transport's own policy (a local test
    # registry); pretend this one is remote, as a user's registry is.
    monkeypatch.setattr(ocireg.registry_state, "is_loopback", lambda registry: False)
    sent: list[str] = []
    real_request = ocireg.wire.Session.request

    def recording_request(self: ocireg.wire.Session, method: str, url: str, **kw: Any) -> Any:
        sent.append(url)
        return real_request(self, method, url, **kw)

    monkeypatch.setattr(ocireg.wire.Session, "request", recording_request)
    host = f"127.0.0.1:{basic_http_registry.port}"
    code = cli.main(["ping", host, "--insecure", "-u", "alice", "-p", "s3cret"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_FAILURE, err
    assert sent and all(url.startswith("https://") for url in sent), sent
    # the http server saw no request at all, so no Authorization header either
    assert [r for r, _ in basic_http_registry.log] == []
    assert "s3cret" not in err


# -- copy's credentials ------------------------------------------------------------------------


class Stop(BaseException):  # main() turns any Exception into a message
    pass


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The keyword arguments of the Client the command makes (the command stops there)."""
    seen: dict[str, Any] = {}

    def fake_client(**kwargs: Any) -> Any:
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(ocireg.client, "Client", fake_client)
    return seen


def run_copy(*argv: str) -> int:
    try:
        return cli.main(["copy", *argv])
    except Stop:
        return -1


def test_src_and_dest_creds_go_to_their_own_registry(
    made: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_copy(
        *("quay.io/org/app:1", "r.example:5000/app:1"),
        *("--src-creds", "puller:pull-pw", "--dest-creds", "pusher:pa:ss"),
    )
    assert code == -1, capsys.readouterr().err
    assert made["credentials"] == {
        "quay.io": ("puller", "pull-pw"),
        "r.example:5000": ("pusher", "pa:ss"),  # split at the first ':'
    }
    assert made["plain_http"] == ()


def test_only_dest_creds_leave_the_source_to_its_own_sources(made: dict[str, Any]) -> None:
    assert run_copy("quay.io/org/app:1", "r.example/app:1", "--dest-creds", "u:p") == -1
    assert made["credentials"] == {"r.example": ("u", "p")}


def test_dash_u_between_two_registries_is_refused(
    made: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_copy("quay.io/org/app:1", "r.example/app:1", "-u", "alice", "-p", "pw")
    assert code == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "this copy talks to two (quay.io and r.example)" in err
    assert "--src-creds" in err
    assert made == {}  # no client, no request


def test_dash_u_within_one_registry_applies_to_it(made: dict[str, Any]) -> None:
    assert run_copy("r.example/a:1", "r.example/b:1", "-u", "alice", "-p", "pw") == -1
    assert made["credentials"] == {"r.example": ("alice", "pw")}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--src-creds", "nopassword"], "--src-creds takes USER:PASSWORD"),
        (["--dest-creds", ":pw"], "--dest-creds takes USER:PASSWORD"),
        (["-u", "a", "-p", "b", "--src-creds", "c:d"], "not both"),
    ],
    ids=["no-colon", "no-user", "mixed"],
)
def test_bad_scoped_credentials_are_usage_errors(
    made: dict[str, Any], capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run_copy("r.example/a:1", "r.example/b:1", *argv) == cli.EXIT_USAGE
    assert message in capsys.readouterr().err


def test_one_registry_two_different_creds_is_refused(
    made: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--src-creds", "a:1", "--dest-creds", "b:2"]
    assert run_copy("r.example/a:1", "r.example/b:1", *argv) == cli.EXIT_USAGE
    assert "one registry, one set of credentials" in capsys.readouterr().err
    argv = ["--src-creds", "a:1", "--dest-creds", "a:1"]
    assert run_copy("r.example/a:1", "r.example/b:1", *argv) == -1
    assert made["credentials"] == {"r.example": ("a", "1")}
