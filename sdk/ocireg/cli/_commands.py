"""The commands of ``ocireg`` that only read: each turns parsed arguments into SDK calls and
prints; :func:`run` dispatches to them and, lazily, to the modules of the other commands
(``_blob``, ``_copy``, ``_delete``, ``_login``)."""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections.abc import Callable
from typing import Any

from ..reference import Reference
from ._common import emit, make_client, plain, registry_arg, usage_error

#: Commands implemented in other modules of this package, loaded when used (so that
#: ``ocireg parse`` never imports what ``copy`` needs).
ELSEWHERE = {
    "blob": "_blob",
    "copy": "_copy",
    "delete": "_delete",
    "prune": "_delete",
    "login": "_login",
    "logout": "_login",
    "auth": "_login",
}


def cmd_parse(args: argparse.Namespace) -> int:
    ref = Reference.parse(args.reference)
    print(json.dumps(ref.to_dict(), indent=2))
    return 0


def cmd_ping(args: argparse.Namespace) -> int:
    host = registry_arg(args.registry)
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
    emit(args, data, lambda: [f"{info.url}: OK (auth: {info.auth_scheme or 'none'})"])
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    host = registry_arg(args.registry)
    with make_client(args, [host]) as client:
        repos = client.catalog(host)
    emit(args, {"registry": host, "repositories": repos}, lambda: repos)
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
    ref = Reference.parse(args.repository)
    with make_client(args, [ref.domain]) as client:
        tags = _filter(client.tags(ref), args.match, args.exclude)
        if not args.details:
            emit(args, {"repository": ref.repository, "tags": tags}, lambda: tags)
            return 0
        from ..summary import summarize_tags

        summaries = summarize_tags(client, ref, tags)
    rows: list[dict[str, Any]] = [
        {
            "tag": tag,
            "digest": s.digest,
            "size": s.size,
            "media_type": s.media_type,
            "platforms": s.platform_names(),
            "created": s.created,
        }
        for tag, s in summaries.items()
    ]
    header = f"{'TAG':<24} {'DIGEST':<20} {'CREATED':<21} PLATFORMS"
    lines = [header] + [
        f"{r['tag']:<24} {r['digest'][:19]:<20} {(r['created'] or '-')[:20]:<21} "
        f"{','.join(r['platforms']) or '-'}"
        for r in rows
    ]
    emit(args, {"repository": ref.repository, "tags": rows}, lambda: lines)
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    ref = Reference.parse(args.reference)
    with make_client(args, [ref.domain]) as client:
        if args.platform:
            digest = str(client.get_manifest(ref, args.platform).digest)
        else:
            digest = client.head_manifest(ref).digest
    emit(args, {"reference": str(ref), "digest": digest}, lambda: [digest])
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    ref = Reference.parse(args.reference)
    with make_client(args, [ref.domain]) as client:
        manifest = client.get_manifest(ref, args.platform)
    if args.raw:
        sys.stdout.buffer.write(manifest.raw)
        sys.stdout.flush()
        return 0
    print(json.dumps(manifest.json, indent=2))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    ref = Reference.parse(args.reference)
    with make_client(args, [ref.domain]) as client:
        config = client.image_config(ref, args.platform)
    print(json.dumps(config, indent=2))
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from ..summary import summarize

    ref = Reference.parse(args.reference)
    with make_client(args, [ref.domain]) as client:
        data = summarize(client, ref, platform=args.platform).to_dict()

    def text() -> list[str]:
        lines = [f"{k}: {data[k]}" for k in ("reference", "digest", "media_type", "size")]
        if data["index_digest"]:
            lines.append(f"index: {data['index_digest']}")
        for p in data["platforms"]:
            lines.append(f"platform: {p['platform'] or '-'} {p['digest']}")
        for p in data["attestations"]:
            lines.append(f"attestation: {p['digest']}")
        if data["created"]:
            lines.append(f"created: {data['created']}")
        cfg = data["config"] or {}
        for key in ("os", "architecture"):
            if cfg.get(key):
                lines.append(f"{key}: {cfg[key]}")
        for name, value in (cfg.get("labels") or {}).items():
            lines.append(f"label: {name}={value}")
        for layer in data["layers"]:
            lines.append(f"layer: {layer['digest']} {layer['size']} {layer['media_type']}")
        return lines

    emit(args, data, text)
    return 0


def cmd_referrers(args: argparse.Namespace) -> int:
    ref = Reference.parse(args.reference)
    with make_client(args, [ref.domain]) as client:
        found = client.referrers(ref, args.artifact_type)
    data = [plain(d) for d in found]
    emit(
        args,
        {"reference": str(ref), "referrers": data},
        lambda: [f"{d.digest} {d.artifact_type or d.media_type}" for d in found],
    )
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the command ``args.command`` names; its exit code."""
    here: dict[str, Callable[[argparse.Namespace], int]] = {
        "parse": cmd_parse,
        "ping": cmd_ping,
        "catalog": cmd_catalog,
        "tags": cmd_tags,
        "digest": cmd_digest,
        "manifest": cmd_manifest,
        "config": cmd_config,
        "inspect": cmd_inspect,
        "referrers": cmd_referrers,
    }
    handler = here.get(args.command)
    if handler is None:
        module = importlib.import_module(f".{ELSEWHERE[args.command]}", __package__)
        handler = getattr(module, f"cmd_{args.command}")
    return handler(args)
