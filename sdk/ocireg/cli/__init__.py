"""The ``ocireg`` command line: thin over the SDK, one clear line per error, stable JSON.

Heavy imports (requests, the client) happen only in commands that talk to a registry, so
``ocireg --version`` and ``ocireg parse`` start in about the time Python itself needs.
"""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_AUTH, EXIT_REFUSED = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130


def _setup_logging(verbose: int) -> None:
    if verbose <= 0:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root = logging.getLogger("ocireg")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    if verbose < 2:
        logging.getLogger("ocireg.http.headers").setLevel(logging.INFO)


def exit_code_for(exc: BaseException) -> int:
    from .. import errors

    if isinstance(exc, errors.InvalidReferenceError | errors.InvalidDigestError):
        return EXIT_USAGE
    if isinstance(exc, errors.NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(exc, errors.AuthenticationError | errors.DeniedError):
        return EXIT_AUTH
    if isinstance(exc, errors.UnsupportedError):
        return EXIT_REFUSED
    return EXIT_FAILURE


def main(argv: list[str] | None = None) -> int:
    from ._parser import build_parser

    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    _setup_logging(args.verbose)
    from .. import errors

    try:
        from ._commands import run

        result: int = run(args)
        return result
    except KeyboardInterrupt:
        print("ocireg: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except errors.OciregError as exc:
        if args.verbose:
            import traceback

            traceback.print_exc()
        print(f"ocireg: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    except _UsageError as exc:
        print(f"ocireg: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"ocireg: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_FAILURE


class _UsageError(Exception):
    pass


def usage_error(message: str) -> NoReturn:
    raise _UsageError(message)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
