# PYTHON_ARGCOMPLETE_OK  (argcomplete looks for this marker in the entry point's module)
"""The ``ocireg`` command line: thin over the SDK, one clear line per error, stable JSON.

Heavy imports (requests, pluggy, the client, tqdm) happen only in commands that need them,
so ``ocireg --version`` and ``ocireg parse`` start in about the time Python itself needs
(``benchmarks/bench_startup.py``; ``tests/unit/test_cli_startup.py`` keeps it so).

Every error is one line on stderr, ``ocireg: <operation> <registry>/<target>: <status>
<CODE>: <message>`` for registry errors; ``-v`` adds the traceback above it.

Shell completion: with ``argcomplete`` installed (``pip install argcomplete``), run
``eval "$(register-python-argcomplete ocireg)"`` in bash or zsh. Without it, or when the shell
is not completing, nothing is imported.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import TYPE_CHECKING

from ._common import (
    EXIT_AUTH,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    UsageError,
    printable,
    usage_error,
)

if TYPE_CHECKING:
    import argparse

__all__ = [
    "EXIT_AUTH",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "exit_code_for",
    "main",
    "usage_error",
]


class _PrintableFormatter(logging.Formatter):
    """Log lines (``-v``: requests, headers, a registry's answers) made terminal-safe."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), keep_newlines=True)


def _setup_logging(verbose: int) -> None:
    if verbose <= 0:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("%(name)s: %(message)s"))
    root = logging.getLogger("ocireg")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    if verbose < 2:
        logging.getLogger("ocireg.http.headers").setLevel(logging.INFO)


#: Said after a TLS failure, in the CLI's own terms.
TLS_HINT = "; --ca-cert PEM trusts a private CA, --insecure skips verification (test registries)"


def exit_code_for(exc: BaseException) -> int:
    from .. import errors

    if isinstance(
        exc,
        errors.InvalidReferenceError | errors.InvalidDigestError | errors.InvalidSelectionError,
    ):
        return EXIT_USAGE
    if isinstance(exc, errors.NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(exc, errors.AuthenticationError | errors.DeniedError):
        return EXIT_AUTH
    if isinstance(exc, errors.UnsupportedError):
        return EXIT_REFUSED
    return EXIT_FAILURE


def _complete(parser: argparse.ArgumentParser) -> None:
    """Answer a shell's completion request through argcomplete, which then exits; a no-op
    unless the shell is completing (argcomplete's hook sets ``_ARGCOMPLETE``)."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    import importlib

    try:
        argcomplete = importlib.import_module("argcomplete")
    except ImportError:
        return
    argcomplete.autocomplete(parser)


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    """Print one line (``-v``: the traceback first) and return the exit code. The message
    often quotes the registry (its error text, a tag): control characters are escaped."""
    if args.verbose:
        import traceback

        sys.stderr.write(printable(traceback.format_exc(), keep_newlines=True))
    line = re.sub(r"\s*\n\s*", " ", message.strip())
    print("ocireg: " + printable(line), file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    from ._parser import build_parser, command_in

    argv = sys.argv[1:] if argv is None else argv
    completing = "_ARGCOMPLETE" in os.environ  # completion needs every command
    parser = build_parser(None if completing else command_in(argv))
    _complete(parser)
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    from .. import errors
    from ._signals import exit_code_for_interrupt, signals_interrupt

    try:
        from ._commands import run

        with signals_interrupt():
            result: int = run(args)
        return result
    except KeyboardInterrupt as exc:
        print(f"ocireg: {printable(str(exc) or 'interrupted')}", file=sys.stderr)
        return exit_code_for_interrupt(exc)
    except errors.OciregError as exc:
        hint = TLS_HINT if getattr(exc, "kind", None) == "tls" else ""
        return _fail(args, str(exc) + hint, exit_code_for(exc))
    except UsageError as exc:
        return _fail(args, str(exc), EXIT_USAGE)
    except OSError as exc:
        text = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
        return _fail(args, text, EXIT_FAILURE)
    except Exception as exc:  # a bug or an unmapped error: still one line, -v for the rest
        hint = "" if args.verbose else " (run with -v for the traceback)"
        return _fail(args, f"{args.command}: {type(exc).__name__}: {exc}{hint}", EXIT_FAILURE)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
