"""What the command modules share: exit codes and usage errors, JSON or text output, reading
the password, building the client from the connection options, and plain values for
``--json``.

Package-private (the leading ``_``), public names: the command modules import them from
here, and from nowhere else. Nothing heavy is imported until a client is made.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NoReturn

from ..reference import Reference

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
    "read_password",
    "usage_error",
]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_AUTH, EXIT_REFUSED = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A command line that cannot work (exit code 2); :func:`ocireg.cli.main` prints it."""


def usage_error(message: str) -> NoReturn:
    raise UsageError(message)


def emit(args: argparse.Namespace, data: Any, text: Callable[[], Iterable[str]]) -> None:
    """Print ``data`` as JSON with ``--json``, else the lines ``text()`` gives."""
    if args.json:
        json.dump(data, sys.stdout, indent=2, sort_keys=False, default=str)
        sys.stdout.write("\n")
    else:
        for line in text():
            print(line)


def read_password(args: argparse.Namespace) -> str | None:
    """The password: one line of stdin with ``--password-stdin``, else ``-p`` (with a
    warning, since other users can see a command line), else None."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if args.password:
        print(
            "ocireg: warning: a password on the command line is visible to other users; "
            "prefer --password-stdin",
            file=sys.stderr,
        )
    password: str | None = args.password
    return password


def make_client(args: argparse.Namespace, hosts: Iterable[str]) -> Client:
    """A client for ``hosts`` from the connection options: ``-u`` with a password for
    those hosts, ``--plain-http`` (http only, never TLS), ``--insecure`` (http fallback and
    no TLS verification), ``--ca-cert``, ``--client-cert``/``--client-key``, ``--config``."""
    from ..client import Client

    hosts = list(hosts)
    credentials: Any = None
    password = read_password(args)
    if args.username or password:
        if not (args.username and password):
            usage_error("give both a user name and a password")
        credentials = {h: (args.username, password) for h in hosts}
    client_cert: Any = args.client_cert
    if args.client_cert and args.client_key:
        client_cert = (args.client_cert, args.client_key)
    return Client(
        credentials=credentials,
        docker_config=args.config,
        insecure_registries=hosts if args.insecure else (),
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
