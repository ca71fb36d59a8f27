"""``ocireg --version`` and ``ocireg parse`` stay fast: they never import the HTTP stack, the
plugin manager or the progress bar library (benchmarks/bench_startup.py measures the time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.cli import cli_env, probe

#: Top-level packages a command that talks to no registry must not load.
HEAVY = (
    "requests",
    "urllib3",
    "http",
    "tqdm",
    "pluggy",
    "argcomplete",
    "importlib_metadata",
)


def imported_by(*args: str) -> set[str]:
    return set(probe(*args)[0]["modules"])


@pytest.mark.parametrize("args", [("parse", "mongo"), ("--version",)], ids=["parse", "version"])
def test_no_heavy_import(args: tuple[str, ...]) -> None:
    modules = imported_by(*args)
    assert "ocireg.cli" in modules  # the probe really ran the command
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []
    others = {f"ocireg.cli.{m}" for m in ("_blob", "_copy", "_delete", "_login")}
    assert (
        not {"ocireg.client", "ocireg.transport", "ocireg.wire", "ocireg.summary", *others}
        & modules
    )


def test_transfer_commands_load_tqdm_only_to_draw_a_bar() -> None:
    probe = (
        "import sys, ocireg.cli._blob, ocireg.cli._copy;"
        " print(sorted(m for m in sys.modules if 'tqdm' in m))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        check=True,
    )
    assert proc.stdout.strip() == "[]"


def test_shell_completion_through_argcomplete(tmp_path: Path) -> None:
    """The optional hook: with argcomplete installed, a completing shell gets the words."""
    pytest.importorskip("argcomplete")
    answer = tmp_path / "completions"
    line = "ocireg blob g"
    proc = subprocess.run(
        [sys.executable, "-m", "ocireg.cli"],
        capture_output=True,
        text=True,
        env=cli_env(
            {
                "_ARGCOMPLETE": "1",
                "_ARGCOMPLETE_IFS": "\n",
                "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
                "COMP_LINE": line,
                "COMP_POINT": str(len(line)),
            }
        ),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert answer.read_text().split() == ["get"]
