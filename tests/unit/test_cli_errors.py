"""How ``ocireg`` reports a failure: one line on stderr (the registry's error on one line even
when its message has several), the exit code of its kind, and the traceback only with -v.
Runs ``main()`` in this process with a command that fails as told."""

from __future__ import annotations

import argparse

import pytest

from ocireg import cli
from ocireg.cli import _commands
from ocireg.errors import NotFoundError, RegistryError


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """Make every command raise the exception put in the returned list."""
    raised: list[BaseException] = []

    def run(args: argparse.Namespace) -> int:
        raise raised[0]

    monkeypatch.setattr(_commands, "run", run)
    monkeypatch.setattr(cli, "_setup_logging", lambda verbose: None)  # no global handlers
    return raised


def test_registry_error_is_one_line_naming_operation_registry_and_code(
    failing: list[BaseException], capsys: pytest.CaptureFixture[str]
) -> None:
    failing.append(
        NotFoundError(
            "HEAD manifest r.example/app:1.0: 404 MANIFEST_UNKNOWN: manifest unknown",
            status=404,
            operation="HEAD manifest",
            registry="r.example",
        )
    )
    assert cli.main(["digest", "r.example/app:1.0"]) == cli.EXIT_NOT_FOUND
    err = capsys.readouterr().err
    assert (
        err == "ocireg: HEAD manifest r.example/app:1.0: 404 MANIFEST_UNKNOWN: manifest unknown\n"
    )


def test_a_message_over_several_lines_is_printed_on_one(
    failing: list[BaseException], capsys: pytest.CaptureFixture[str]
) -> None:
    failing.append(
        RegistryError("PUT manifest r.example/app:1.0: 500\n  proxy said no\n", status=500)
    )
    assert cli.main(["copy", "r.example/a:1", "r.example/b:1"]) == cli.EXIT_FAILURE
    assert capsys.readouterr().err == "ocireg: PUT manifest r.example/app:1.0: 500 proxy said no\n"


def test_an_unexpected_error_is_one_line_and_v_adds_the_traceback(
    failing: list[BaseException], capsys: pytest.CaptureFixture[str]
) -> None:
    failing.append(RuntimeError("boom"))
    assert cli.main(["ping", "r.example"]) == cli.EXIT_FAILURE
    err = capsys.readouterr().err
    assert err == "ocireg: ping: RuntimeError: boom (run with -v for the traceback)\n"

    assert cli.main(["ping", "r.example", "-v"]) == cli.EXIT_FAILURE
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-2] == "RuntimeError: boom"
    assert lines[-1] == "ocireg: ping: RuntimeError: boom"


def test_ctrl_c_is_exit_130_without_a_traceback(
    failing: list[BaseException], capsys: pytest.CaptureFixture[str]
) -> None:
    failing.append(KeyboardInterrupt())
    assert cli.main(["blob", "get", "r.example/a@sha256:" + "0" * 64, "-o", "x", "-v"]) == 130
    assert capsys.readouterr().err == "ocireg: interrupted\n"
