"""The commands of ``ocireg``: each turns parsed arguments into SDK calls and prints."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..reference import Reference, normalize_registry
from . import usage_error

if TYPE_CHECKING:
    from ..client import Client


def _emit(args: argparse.Namespace, data: Any, text: Callable[[], Iterable[str]]) -> None:
    if args.json:
        json.dump(data, sys.stdout, indent=2, sort_keys=False, default=str)
        sys.stdout.write("\n")
    else:
        for line in text():
            print(line)


def _password(args: argparse.Namespace) -> str | None:
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
    from ..client import Client

    hosts = list(hosts)
    credentials: Any = None
    password = _password(args)
    if args.username or password:
        if not (args.username and password):
            usage_error("give both a user name and a password")
        credentials = {h: (args.username, password) for h in hosts}
    client_cert: Any = args.client_cert
    if args.client_cert and args.client_key:
        client_cert = (args.client_cert, args.client_key)
    client = Client(
        credentials=credentials,
        docker_config=args.config,
        insecure_registries=hosts if (args.insecure or args.plain_http) else (),
        ca_cert=args.ca_cert,
        client_cert=client_cert,
        verify_tls=not args.insecure,
    )
    if args.plain_http:
        for host in hosts:
            client.transport.state(host, "http")
    return client


def _ref(text: str) -> Reference:
    return Reference.parse(text)


def cmd_parse(args: argparse.Namespace) -> int:
    ref = _ref(args.reference)
    print(json.dumps(ref.to_dict(), indent=2))
    return 0


def cmd_ping(args: argparse.Namespace) -> int:
    host = normalize_registry(args.registry)
    with make_client(args, [host]) as client:
        info = client.ping(host)
    data = {
        "registry": info.registry,
        "url": info.url,
        "status": info.status,
        "auth_scheme": info.auth_scheme,
        "api_version": info.api_version,
        "authenticated": info.authenticated,
    }
    _emit(args, data, lambda: [f"{info.url}: OK (auth: {info.auth_scheme or 'none'})"])
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    host = normalize_registry(args.registry)
    with make_client(args, [host]) as client:
        repos = client.catalog(host)
    _emit(args, {"registry": host, "repositories": repos}, lambda: repos)
    return 0


def _filter(tags: list[str], match: list[str], exclude: list[str]) -> list[str]:
    try:
        wanted = [re.compile(p) for p in match]
        unwanted = [re.compile(p) for p in exclude]
    except re.error as exc:
        usage_error(f"invalid regular expression: {exc}")
    return [
        t
        for t in tags
        if (not wanted or any(p.fullmatch(t) for p in wanted))
        and not any(p.fullmatch(t) for p in unwanted)
    ]


def cmd_tags(args: argparse.Namespace) -> int:
    ref = _ref(args.repository)
    with make_client(args, [ref.domain]) as client:
        tags = _filter(client.tags(ref), args.match, args.exclude)
        if not args.details:
            _emit(args, {"repository": ref.repository, "tags": tags}, lambda: tags)
            return 0
        from ._details import tag_details

        rows = tag_details(client, ref, tags)
    header = f"{'TAG':<24} {'DIGEST':<20} {'CREATED':<21} PLATFORMS"
    lines = [header] + [
        f"{r['tag']:<24} {r['digest'][:19]:<20} {(r['created'] or '-')[:20]:<21} "
        f"{','.join(r['platforms']) or '-'}"
        for r in rows
    ]
    _emit(args, {"repository": ref.repository, "tags": rows}, lambda: lines)
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    ref = _ref(args.reference)
    with make_client(args, [ref.domain]) as client:
        if args.platform:
            digest = str(client.get_manifest(ref, args.platform).digest)
        else:
            digest = client.head_manifest(ref).digest
    _emit(args, {"reference": str(ref), "digest": digest}, lambda: [digest])
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    ref = _ref(args.reference)
    with make_client(args, [ref.domain]) as client:
        manifest = client.get_manifest(ref, args.platform)
    if args.raw:
        sys.stdout.buffer.write(manifest.raw)
        sys.stdout.flush()
        return 0
    print(json.dumps(manifest.json, indent=2))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    ref = _ref(args.reference)
    with make_client(args, [ref.domain]) as client:
        config = client.image_config(ref, args.platform)
    print(json.dumps(config, indent=2))
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from ._details import inspect

    ref = _ref(args.reference)
    with make_client(args, [ref.domain]) as client:
        data = inspect(client, ref, args.platform)

    def text() -> list[str]:
        lines = [f"{k}: {data[k]}" for k in ("reference", "digest", "media_type", "size")]
        for p in data.get("platforms") or []:
            lines.append(f"platform: {p['platform']} {p['digest']}")
        cfg = data.get("config") or {}
        for key in ("created", "os", "architecture"):
            if cfg.get(key):
                lines.append(f"{key}: {cfg[key]}")
        for name, value in (cfg.get("labels") or {}).items():
            lines.append(f"label: {name}={value}")
        for layer in data.get("layers") or []:
            lines.append(f"layer: {layer['digest']} {layer['size']} {layer['media_type']}")
        return lines

    _emit(args, data, text)
    return 0


def run(args: argparse.Namespace) -> int:
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "parse": cmd_parse,
        "ping": cmd_ping,
        "catalog": cmd_catalog,
        "tags": cmd_tags,
        "digest": cmd_digest,
        "manifest": cmd_manifest,
        "config": cmd_config,
        "inspect": cmd_inspect,
    }
    handler = handlers.get(args.command)
    if handler is None:  # blob, copy, delete, prune, referrers, login, logout, auth
        from . import _more

        handler = getattr(_more, f"cmd_{args.command}")
    return handler(args)
