"""What keeps a one-shot command fast: the plugin manager made only when a hook is needed,
manifest handlers collected on first use, only the chosen command's parser built, and a
cheap probe instead of a TLS attempt (with its CA bundle) against a plain-http loopback
registry. ``tests/live/test_cli_startup.py`` checks the command end to end."""

from __future__ import annotations

import inspect
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import ocireg.client
from ocireg import Client, ManifestError, hookimpl
from ocireg.cli._parser import COMMANDS, build_parser, command_in
from ocireg.manifests import HandlerRegistry
from ocireg.plugins import PluginHandlers
from ocireg.scheme import answers_plain_http, candidate_schemes

# -- the plugin manager and the handlers ----------------------------------------------------


@pytest.fixture
def managers_made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the plugin managers the Client makes."""
    made: list[int] = []
    real = ocireg.client.get_plugin_manager

    def counting(**kwargs: Any) -> Any:
        made.append(1)
        return real(**kwargs)

    monkeypatch.setattr(ocireg.client, "get_plugin_manager", counting)
    return made


def test_a_new_client_makes_no_plugin_manager_until_a_hook_is_needed(
    managers_made: list[int],
) -> None:
    with Client(load_entrypoints=False) as client:
        assert managers_made == []
        # No plugin: the built-in manifest handlers are all there is, no hook is asked.
        assert client.handlers.accept_header()
        assert managers_made == []
        assert client.credentials_for("registry.test") is None  # the hook is asked
        assert client.plugin_manager is client.plugin_manager
        assert managers_made == [1]


def test_credentials_given_to_the_client_are_checked_at_once(managers_made: list[int]) -> None:
    with pytest.raises(ValueError):
        Client(credentials=("only-a-user",))  # type: ignore[arg-type]
    with Client(credentials=("alice", "pw"), load_entrypoints=False) as client:
        assert managers_made == []  # checked without making the plugin manager
        found = client.credentials_for("registry.test")
        assert found is not None and found.source == "Client(credentials=...)"
        assert managers_made == [1]


def test_plugins_given_to_the_client_are_checked_at_once(managers_made: list[int]) -> None:
    class Widgets:
        name = "widgets"

        @hookimpl
        def ocireg_manifest_handlers(self) -> list[Any]:
            return []

    with Client(load_entrypoints=False, plugins=[Widgets()]):
        assert managers_made == [1]


def test_plugin_handlers_collect_before_every_public_method() -> None:
    """A method HandlerRegistry gains must be overridden too, or it would run uncollected."""
    public = {
        name
        for name, _ in inspect.getmembers(HandlerRegistry)
        if not name.startswith("_") or name == "__contains__"
    }
    assert public  # the walk found them
    assert sorted(n for n in public if n not in vars(PluginHandlers)) == []


def test_plugin_handlers_collect_once_from_many_threads() -> None:
    asked: list[int] = []
    barrier = threading.Barrier(8)

    def manager() -> Any:
        asked.append(1)
        return Client(load_entrypoints=False).plugin_manager

    handlers = PluginHandlers(manager)

    def use() -> str:
        barrier.wait()
        return handlers.accept_header()

    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(use())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert asked == [1]
    assert len(set(results)) == 1 and "application/vnd.oci.image.manifest.v1+json" in results[0]


def test_a_handler_conflict_of_installed_plugins_surfaces_on_first_use() -> None:
    class Twice:
        media_types = ("application/vnd.oci.image.manifest.v1+json",)

        def parse(self, raw: bytes, media_type: str) -> Any:
            raise AssertionError("never parses")

    def manager() -> Any:
        class Late:
            @hookimpl
            def ocireg_manifest_handlers(self) -> list[Any]:
                return [Twice]

        pm = Client(load_entrypoints=False).plugin_manager
        pm.register(Late(), name="late")
        return pm

    with pytest.raises(ManifestError, match="claimed by two manifest handlers"):
        PluginHandlers(manager).handler_for("application/vnd.oci.image.manifest.v1+json")


# -- the parser -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["tags", "127.0.0.1:5000/app", "--match", "1.*", "--json"],
        ["manifest", "app:1", "--raw", "--plain-http"],
        ["blob", "get", "app@sha256:" + "a" * 64, "-o", "-"],
        ["prune", "r/app", "--keep-latest", "3", "--dry-run"],
        ["auth", "explain", "quay.io"],
        ["delete", "a:1", "b:2", "--force"],
    ],
    ids=lambda argv: argv[0],
)
def test_the_chosen_command_alone_parses_as_the_whole_parser(argv: list[str]) -> None:
    assert command_in(argv) == argv[0]
    alone = build_parser(argv[0])
    assert vars(alone.parse_args(argv)) == vars(build_parser().parse_args(argv))
    other = "parse" if argv[0] != "parse" else "ping"
    with pytest.raises(SystemExit):  # only the chosen command was built
        alone.parse_args([other, "x"])


def test_every_command_is_in_the_whole_parser(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    for name in COMMANDS:
        with pytest.raises(SystemExit):
            parser.parse_args([name, "-h"])
        assert capsys.readouterr().out.startswith(f"usage: ocireg {name} ")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [([], None), (["-h"], None), (["--version"], None), (["nope", "x"], None), (["ping"], "ping")],
)
def test_command_in(argv: list[str], expected: str | None) -> None:
    assert command_in(argv) == expected


# -- the scheme -----------------------------------------------------------------------------


def test_candidate_schemes_follow_docker() -> None:
    plain, insecure = {"plain.test"}, {"insecure.test", "plain.test"}
    assert candidate_schemes("x.test", "http", plain, insecure, False) == ["http"]
    assert candidate_schemes("Plain.test", None, plain, insecure, False) == ["http"]
    assert candidate_schemes("insecure.test", None, plain, insecure, False) == ["https", "http"]
    assert candidate_schemes("127.0.0.1:5000", None, plain, insecure, True) == ["https", "http"]
    assert candidate_schemes("quay.io", None, plain, insecure, False) == ["https"]


@pytest.fixture
def answering() -> Iterator[Callable[[bytes | None], str]]:
    """A loopback TCP server that reads what comes and answers with the given bytes (None:
    closes without a word); returns its ``host:port``. For the answers no real registry
    gives (a TLS server's record, silence)."""
    servers: list[socket.socket] = []

    def start(answer: bytes | None) -> str:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(4096)
                if answer is not None:
                    conn.sendall(answer)

        threading.Thread(target=serve, daemon=True).start()
        return f"127.0.0.1:{server.getsockname()[1]}"

    yield start
    for server in servers:
        server.close()


def test_the_probe_knows_plain_http_from_tls(answering: Callable[[bytes | None], str]) -> None:
    assert answers_plain_http(answering(b"HTTP/1.1 400 Bad Request\r\n\r\n"), 5.0)
    assert answers_plain_http(answering(b"HT"), 5.0) is False  # then closed: unsure, TLS
    tls_alert = b"\x15\x03\x03\x00\x02\x02\x28"
    assert answers_plain_http(answering(tls_alert), 5.0) is False
    assert answers_plain_http(answering(None), 5.0) is False


def test_the_probe_of_a_closed_port_says_try_tls() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    assert answers_plain_http(f"127.0.0.1:{port}", 5.0) is False
