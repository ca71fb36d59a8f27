"""``ocireg copy``: an image or index to another repository or registry.

Credentials are scoped: ``--src-creds`` go to the source registry only, ``--dest-creds`` to
the destination only (skopeo's options). ``-u``/``-p`` name no registry, so they are
accepted only when source and destination are on one registry: between two registries they
would hand one registry's password to the other, and the command is refused instead.
"""

from __future__ import annotations

import argparse
import sys

from ..reference import Reference
from ._common import emit, make_client, plain, usage_error
from ._progress import progress_bar


def _user_password(text: str, option: str) -> tuple[str, str]:
    user, sep, password = text.partition(":")
    if not (sep and user and password):
        usage_error(f"{option} takes USER:PASSWORD (the password may contain ':')")
    return user, password


def scoped_credentials(
    args: argparse.Namespace, src_host: str, dst_host: str
) -> dict[str, tuple[str, str]] | None:
    """The explicit credentials of a copy, host by host; None to let ``-u``/``-p`` (checked
    here to be for one registry) apply as in every other command."""
    same = src_host.lower() == dst_host.lower()
    general = bool(args.username or args.password or args.password_stdin)
    if general and (args.src_creds or args.dest_creds):
        usage_error("give -u/-p or --src-creds/--dest-creds, not both")
    if general:
        if not same:
            usage_error(
                f"-u/-p name no registry, and this copy talks to two ({src_host} and "
                f"{dst_host}): give --src-creds and/or --dest-creds USER:PASSWORD instead"
            )
        return None
    found: dict[str, tuple[str, str]] = {}
    if args.src_creds:
        found[src_host.lower()] = _user_password(args.src_creds, "--src-creds")
    if args.dest_creds:
        dest = _user_password(args.dest_creds, "--dest-creds")
        if found.get(dst_host.lower(), dest) != dest:
            usage_error(
                f"source and destination are both on {dst_host}: one registry, one set of "
                "credentials (give the same to --src-creds and --dest-creds, or just one)"
            )
        found[dst_host.lower()] = dest
    if found:
        print(
            "ocireg: warning: a password on the command line is visible to other users; "
            "prefer `ocireg login` or OCIREG_<HOST>_USERNAME/_PASSWORD",
            file=sys.stderr,
        )
    return found


def cmd_copy(args: argparse.Namespace) -> int:
    src, dst = Reference.parse(args.source), Reference.parse(args.destination)
    credentials = scoped_credentials(args, src.domain, dst.domain)
    with (
        make_client(args, sorted({src.domain, dst.domain}), credentials=credentials) as client,
        progress_bar(args, "copy") as bar,
    ):
        result = client.copy(
            src,
            dst,
            all_platforms=args.platform is None,
            platform=args.platform,
            progress=bar,
            progress_total=bar.set_total if bar is not None else None,
        )
    data = plain(result)
    emit(args, data, lambda: [f"{dst}: {data.get('digest')}"])
    return 0
