"""What the command modules share: exit codes and usage errors, JSON or text output (with
the registry's text made safe for a terminal), reading the password, checking registry
arguments, building the client from the connection options, and plain values for ``--json``.

Package-private (the leading ``_``), public names: the command modules import them from
here, and from nowhere else. Nothing heavy is imported until a client is made.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NoReturn

from ..reference import Reference, check_registry

if TYPE_CHECKING:
    from ..client import Client

__all__ = [
    "EXIT_AUTH",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "UsageError",
    "emit",
    "make_client",
    "plain",
    "printable",
    "read_password",
    "registry_arg",
    "usage_error",
]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_AUTH, EXIT_REFUSED = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A command line that cannot work (exit code 2); :func:`ocireg.cli.main` prints it."""


def usage_error(message: str) -> NoReturn:
    raise UsageError(message)


#: What a terminal could take for a command: C0 and C1 controls and DEL (ESC starts the
#: sequences that set a window title, write the clipboard (OSC 52) or move the cursor),
#: line and paragraph separators, and the bidirectional overrides and isolates that make
#: text read differently from what it is ("trojan source").
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, *, keep_newlines: bool = False) -> str:
    """``text`` safe to write to a terminal: every control character (and the Unicode
    characters that reorder or break lines) as a ``\\xNN``/``\\uNNNN`` escape, so a tag, a
    label or an error message from a registry cannot drive the user's terminal.

    Every text line the CLI prints from data it did not make goes through here; JSON output
    does not need it (``json`` escapes control characters itself)."""
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_escape, line) for line in str(text).split("\n"))
    return _UNSAFE.sub(_escape, str(text))


def emit(args: argparse.Namespace, data: Any, text: Callable[[], Iterable[str]]) -> None:
    """Print ``data`` as JSON with ``--json``, else the lines ``text()`` gives, each made
    :func:`printable` (one line each, whatever the registry put in a tag or label)."""
    if args.json:
        json.dump(data, sys.stdout, indent=2, sort_keys=False, default=str)
        sys.stdout.write("\n")
    else:
        lines = [printable(line) for line in text()]
        if lines:  # one write: a 2,000-tag list was 2,000 print() calls
            sys.stdout.write("\n".join(lines) + "\n")


def registry_arg(text: str) -> str:
    """A registry argument, checked: ``host[:port]`` only (:func:`ocireg.reference.check_registry`);
    a path, query, fragment, user or scheme is a usage error naming what is wrong."""
    from ..errors import InvalidReferenceError

    try:
        return check_registry(text)
    except InvalidReferenceError as exc:
        usage_error(f"registry {text!r}: {exc.reason}")


def read_password(args: argparse.Namespace) -> str | None:
    """The password: one line of stdin with ``--password-stdin``, else ``-p`` (with a
    warning, since other users can see a command line), else None.

    Read once: later calls (``login`` reads it, then builds its client) give the same
    value, and the warning is about ``-p`` only, never a password that came from stdin."""
    if getattr(args, "password_read", False):
        known: str | None = args.password
        return known
    if args.password_stdin and args.password:
        usage_error("give the password with -p or --password-stdin, not both")
    password: str | None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = args.password
        if password:
            print(
                "ocireg: warning: a password on the command line is visible to other users; "
                "prefer --password-stdin",
                file=sys.stderr,
            )
    args.password, args.password_read = password, True
    return password


def make_client(
    args: argparse.Namespace,
    hosts: Iterable[str],
    *,
    credentials: dict[str, tuple[str, str]] | None = None,
) -> Client:
    """A client for ``hosts`` from the connection options: ``-u`` with a password for
    those hosts (or ``credentials``, a mapping from host to user and password, when the
    command worked them out itself), ``--plain-http`` (http only, never TLS),
    ``--insecure`` (no TLS verification; never plain http), ``--ca-cert``,
    ``--client-cert``/``--client-key``, ``--config``."""
    from ..client import Client

    hosts = list(hosts)
    if credentials is None:
        credentials = {}
        password = read_password(args)
        if args.username or password:
            if not (args.username and password):
                usage_error("give both a user name and a password")
            credentials = {h: (args.username, password) for h in hosts}
    client_cert: Any = args.client_cert
    if args.client_cert and args.client_key:
        client_cert = (args.client_cert, args.client_key)
    return Client(
        credentials=credentials or None,
        docker_config=args.config,
        # --insecure is about certificates only: it never names a host "insecure registry",
        # which would let a failed TLS handshake fall back to http and send credentials in
        # clear. Plain http is --plain-http, and only that.
        plain_http=hosts if args.plain_http else (),
        ca_cert=args.ca_cert,
        client_cert=client_cert,
        verify_tls=not args.insecure,
    )


def plain(value: Any) -> Any:
    """``value`` as JSON-ready plain values: dataclasses as dicts, references as text."""
    if isinstance(value, Reference):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
