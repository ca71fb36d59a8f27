"""The ``ocireg`` argument parser (argparse: no dependency, fast start-up)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

EXIT_CODES = """\
exit codes:
  0  success
  1  other failure (registry error, digest mismatch, transport)
  2  usage error or invalid reference
  3  not found (tag, manifest, blob, repository)
  4  authentication failed or access denied
  5  refused by the registry (operation unsupported, e.g. delete disabled)
  130 interrupted (Ctrl-C); no partial file or upload is left behind

environment:
  OCIREG_PROGRESS=1  progress bars even when stderr is not a terminal (0: never);
                     --json and --quiet always hide them
  OCIREG_<HOST>_USERNAME / _PASSWORD (or _TOKEN)
                     credentials for one registry (HOST upper-cased, other characters
                     than A-Z and 0-9 as _: OCIREG_127_0_0_1_5000_USERNAME); asked
                     right after -u/-p
  OCIREG_USERNAME / OCIREG_PASSWORD (or OCIREG_TOKEN)
                     credentials for any registry, asked LAST: only where neither the
                     variables above, docker's config.json, containers' auth.json nor
                     a plugin has credentials for the host
"""

EXAMPLES = {
    "parse": "ocireg parse quay.io/org/app:1.0\n  ocireg parse mongo --json",
    "ping": "ocireg ping 127.0.0.1:5000\n  ocireg ping quay.io -u me --password-stdin",
    "catalog": "ocireg catalog 127.0.0.1:5000",
    "tags": "ocireg tags 127.0.0.1:5000/app --match '1\\..*' --exclude '.*-rc.*'\n"
    "  ocireg tags 127.0.0.1:5000/app --details",
    "digest": "ocireg digest 127.0.0.1:5000/app:1.0 --platform linux/arm64",
    "manifest": "ocireg manifest 127.0.0.1:5000/app:1.0\n  ocireg manifest app:1.0 --raw > m.json",
    "inspect": "ocireg inspect 127.0.0.1:5000/app:1.0 --platform linux/amd64",
    "config": "ocireg config 127.0.0.1:5000/app:1.0",
    "blob": "ocireg blob get 127.0.0.1:5000/app@sha256:... -o layer.tgz\n"
    "  ocireg blob get 127.0.0.1:5000/app@sha256:... -o - | tar tz\n"
    "  ocireg blob put 127.0.0.1:5000/app layer.tgz\n"
    "  ocireg blob head 127.0.0.1:5000/app@sha256:...",
    "copy": "ocireg copy 127.0.0.1:5000/app:1.0 127.0.0.1:5000/mirror/app:1.0\n"
    "  ocireg copy src:1.0 dst:1.0 --platform linux/arm64\n"
    '  ocireg copy quay.io/org/app:1 r.example/app:1 --dest-creds "robot:$TOKEN"',
    "delete": "ocireg delete 127.0.0.1:5000/app:old-build --dry-run\n"
    "  ocireg delete 127.0.0.1:5000/app@sha256:... --force",
    "prune": "ocireg prune 127.0.0.1:5000/app --match 'build-.*' --keep-latest 5 "
    "--older-than 30d --dry-run",
    "referrers": "ocireg referrers 127.0.0.1:5000/app:1.0 --artifact-type application/spdx+json",
    "login": 'echo "$PASSWORD" | ocireg login 127.0.0.1:5000 -u alice --password-stdin',
    "logout": "ocireg logout 127.0.0.1:5000",
    "auth": "ocireg auth explain quay.io",
}


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a positive number: {text!r}")
    return value


def _sub(
    add_parser: Callable[..., argparse.ArgumentParser],
    name: str,
    help_text: str,
    parents: list[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """A sub-command parser; ``add_parser`` is the subparsers' own (argparse's class of
    subparsers is private, so it is not named here)."""
    return add_parser(
        name,
        help=help_text,
        description=help_text,
        parents=parents,
        epilog=f"examples:\n  {EXAMPLES.get(name, '')}\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("connection and output")
    g.add_argument(
        "-u",
        "--username",
        help="user name for the registry (copy: only when both are on one host; see --src-creds)",
    )
    g.add_argument("-p", "--password", help="password (prefer --password-stdin)")
    g.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    g.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the registry's TLS certificate (still TLS: never plain http)",
    )
    g.add_argument(
        "--plain-http",
        action="store_true",
        help="use http, not https (credentials then travel in clear)",
    )
    g.add_argument("--ca-cert", metavar="PEM", help="CA bundle to verify the registry with")
    g.add_argument("--client-cert", metavar="PEM", help="client certificate for mutual TLS")
    g.add_argument("--client-key", metavar="PEM", help="key of the client certificate")
    g.add_argument("--config", metavar="DIR", help="docker config directory (~/.docker)")
    g.add_argument("--json", action="store_true", help="print JSON with stable keys")
    g.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bars (drawn on a terminal only; OCIREG_PROGRESS=1 forces them)",
    )
    g.add_argument(
        "-v", "--verbose", action="count", default=0, help="-v HTTP requests, -vv with headers"
    )
    return p


#: Every command and its one-line help, in the order ``ocireg -h`` lists them.
COMMANDS = {
    "parse": "show how a reference is parsed",
    "ping": "check that a registry answers the v2 API",
    "catalog": "list the repositories of a registry",
    "tags": "list the tags of a repository",
    "digest": "print the manifest digest (HEAD only)",
    "manifest": "print the manifest",
    "inspect": "digest, media type, platforms, config and layers",
    "config": "print the image config",
    "blob": "get, put or check one blob",
    "copy": "copy an image or index to another repository or registry",
    "delete": "delete exactly these tags, never what other tags need",
    "prune": "delete the tags a retention policy selects",
    "referrers": "list signatures, SBOMs and other referrers",
    "login": "check credentials and store them where docker would",
    "logout": "remove stored credentials",
    "auth": "explain which credentials are used",
}


def command_in(argv: list[str]) -> str | None:
    """The command ``argv`` names: its first word that is not an option (the top level has
    no option taking a value), when it is a command; else None."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``ocireg`` parser. With ``command``, only that command is added: what its
    arguments parse to, its help and its errors are the same, and building the other
    fifteen (about a fifth of what starting ``ocireg tags`` costs) is skipped. Without it
    (``ocireg -h``, no or an unknown command, shell completion), every command is added."""
    from .. import __version__

    common = _common()
    parser = argparse.ArgumentParser(
        prog="ocireg",
        description="Talk to OCI / Docker registries: list, inspect, copy and safely delete.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ocireg {__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    subs.required = True
    for name, help_text in COMMANDS.items():
        if command is None or name == command:
            _ARGUMENTS[name](_sub(subs.add_parser, name, help_text, [common]), [common])
    return parser


Parents = list[argparse.ArgumentParser]


def _add_parse(p: argparse.ArgumentParser, c: Parents) -> None:
    p.add_argument("reference")


def _add_registry(p: argparse.ArgumentParser, c: Parents) -> None:
    p.add_argument("registry")


def _add_tags(p: argparse.ArgumentParser, c: Parents) -> None:
    p.add_argument("repository")
    p.add_argument("--match", action="append", default=[], metavar="REGEX")
    p.add_argument("--exclude", action="append", default=[], metavar="REGEX")
    p.add_argument("--details", action="store_true", help="digest, platforms, created")


def _add_image(p: argparse.ArgumentParser, c: Parents) -> None:
    p.add_argument("reference")
    p.add_argument("--platform", metavar="OS/ARCH[/VARIANT]")


def _add_manifest(p: argparse.ArgumentParser, c: Parents) -> None:
    _add_image(p, c)
    p.add_argument("--raw", action="store_true", help="the exact bytes")


def _add_blob(p: argparse.ArgumentParser, c: Parents) -> None:
    blob = p.add_subparsers(dest="blob_command", metavar="ACTION")
    blob.required = True
    g = blob.add_parser("get", parents=c, help="download a blob (verified)")
    g.add_argument("reference", help="REPO@DIGEST")
    g.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="a file (replaced only once verified); a device or FIFO, or - for stdout, is "
        "written as the bytes come and checked at the end",
    )
    g.add_argument(
        "--force",
        action="store_true",
        help="FILE may be a symbolic link: write the file it points to",
    )
    g = blob.add_parser("put", parents=c, help="upload a file as a blob")
    g.add_argument("repository")
    g.add_argument("file")
    g.add_argument(
        "--chunk-size", type=_positive, metavar="BYTES", help="upload in PATCH chunks this big"
    )
    g = blob.add_parser("head", parents=c, help="check that a blob exists")
    g.add_argument("reference", help="REPO@DIGEST")


def _add_copy(p: argparse.ArgumentParser, c: Parents) -> None:
    p.add_argument("source")
    p.add_argument("destination")
    p.add_argument(
        "--src-creds",
        metavar="USER:PASSWORD",
        help="credentials for the source registry only",
    )
    p.add_argument(
        "--dest-creds",
        metavar="USER:PASSWORD",
        help="credentials for the destination registry only (-u/-p are accepted only when "
        "source and destination are on the same registry)",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--platform", metavar="OS/ARCH[/VARIANT]")
    which.add_argument("--all-platforms", action="store_true", default=True)


def _add_delete(p: argparse.ArgumentParser, c: Parents) -> None:
    p.add_argument("references", nargs="+", metavar="REF")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("--force", action="store_true", help="delete by digest what tags still use")
    p.add_argument(
        "--no-probe",
        action="store_true",
        help="do not probe what the registry allows (assume deletes enabled, no DELETE by tag)",
    )


def _add_prune(p: argparse.ArgumentParser, c: Parents) -> None:
    p.add_argument("repository")
    p.add_argument("--match", action="append", default=[], metavar="REGEX")
    p.add_argument("--exclude", action="append", default=[], metavar="REGEX")
    p.add_argument("--older-than", metavar="AGE", help="e.g. 30d, 12h, 2w")
    p.add_argument("--keep-latest", type=int, metavar="N", help="protect the N newest images")
    p.add_argument(
        "--age-from",
        choices=("created", "pushed"),
        help="what --older-than and --keep-latest go by: the image's created time, or when the"
        " registry received it (from a plugin's registry listing); default: pushed where known",
    )
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument(
        "--no-probe",
        action="store_true",
        help="do not probe what the registry allows (assume deletes enabled, no DELETE by tag)",
    )


def _add_referrers(p: argparse.ArgumentParser, c: Parents) -> None:
    p.add_argument("reference")
    p.add_argument("--artifact-type", metavar="TYPE")


def _add_auth(p: argparse.ArgumentParser, c: Parents) -> None:
    auth = p.add_subparsers(dest="auth_command", metavar="ACTION")
    auth.required = True
    auth.add_parser("explain", parents=c, help="which provider answers").add_argument("registry")


#: What each command adds to its parser (given the common options' parser, for nested ones).
_ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser, Parents], None]] = {
    "parse": _add_parse,
    "ping": _add_registry,
    "catalog": _add_registry,
    "tags": _add_tags,
    "digest": _add_image,
    "manifest": _add_manifest,
    "inspect": _add_image,
    "config": _add_image,
    "blob": _add_blob,
    "copy": _add_copy,
    "delete": _add_delete,
    "prune": _add_prune,
    "referrers": _add_referrers,
    "login": _add_registry,
    "logout": _add_registry,
    "auth": _add_auth,
}
