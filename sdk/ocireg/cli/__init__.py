"""The ``ocireg`` command line (stub: ``--version`` and ``parse``)."""

from __future__ import annotations

import json
import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    from .. import InvalidReferenceError, Reference, __version__

    if args[:1] == ["--version"]:
        print(f"ocireg {__version__}")
        return 0
    if len(args) == 2 and args[0] == "parse":
        try:
            ref = Reference.parse(args[1])
        except InvalidReferenceError as exc:
            print(f"ocireg: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(ref.to_dict(), indent=2))
        return 0
    print("usage: ocireg --version | ocireg parse REFERENCE", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
