"""Commands that transfer or change things: blob, copy, delete, referrers, login, logout, auth."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..errors import NotFoundError, OciregError
from ..reference import Reference, normalize_registry
from . import usage_error
from ._commands import _emit, _password, make_client
from ._progress import progress_bar


def _blob_ref(text: str) -> Reference:
    ref = Reference.parse(text)
    if not ref.digest:
        usage_error(f"{text}: give the blob as REPOSITORY@DIGEST")
    return ref


def _short(digest: str) -> str:
    algorithm, _, hexa = digest.partition(":")
    return f"{algorithm}:{hexa[:12]}"


def cmd_blob(args: argparse.Namespace) -> int:
    if args.blob_command == "put":
        ref = Reference.parse(args.repository)
        size = os.path.getsize(args.file)  # also: a missing file fails before any request
        with (
            make_client(args, [ref.domain]) as client,
            progress_bar(args, Path(args.file).name, size or None) as bar,
        ):
            desc = client.push_blob(ref, args.file, chunk_size=args.chunk_size, progress=bar)
        data = {"repository": ref.repository, "digest": desc.digest, "size": desc.size}
        _emit(args, data, lambda: [desc.digest])
        return 0
    ref = _blob_ref(args.reference)
    assert ref.digest is not None
    with make_client(args, [ref.domain]) as client:
        if args.blob_command == "head":
            desc = client.head_blob(ref, ref.digest)
        else:
            with progress_bar(args, _short(ref.digest)) as bar:
                if bar is not None:  # one HEAD more, only for the bar's total and ETA
                    bar.set_total(client.head_blob(ref, ref.digest).size)
                desc = client.pull_blob(ref, ref.digest, args.output, progress=bar)
    data = {"repository": ref.repository, "digest": desc.digest, "size": desc.size}
    _emit(args, data, lambda: [f"{desc.digest} {desc.size}"])
    return 0


def _plain(value: Any) -> Any:
    if isinstance(value, Reference):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def cmd_copy(args: argparse.Namespace) -> int:
    src, dst = Reference.parse(args.source), Reference.parse(args.destination)
    with (
        make_client(args, sorted({src.domain, dst.domain})) as client,
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
    data = _plain(result)
    _emit(args, data, lambda: [f"{dst}: {data.get('digest')}"])
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from .. import batch_delete

    refs = [Reference.parse(r) for r in args.references]
    # Tags of one repository are planned together on one look at its graph (and none is
    # deleted when one is missing); digest references go one by one, as --force asks.
    groups: dict[str, list[Reference]] = {}
    for ref in refs:
        if ref.tag is not None and ref.digest is None:
            groups.setdefault(ref.repository, []).append(ref)
    done: dict[str, Any] = {}
    with make_client(args, sorted({r.domain for r in refs})) as client:
        batches = [
            batch_delete.plan_tag_deletes(client, group[0], [r.tag for r in group if r.tag])
            for group in groups.values()
        ]
        for batch in batches:
            if batch.not_found:
                raise NotFoundError(
                    f"{batch.repository.repository}: no tag {', '.join(batch.not_found)};"
                    " nothing was deleted",
                    status=404,
                    operation="delete",
                    registry=batch.repository.domain,
                )
        for batch in batches:
            steps = batch.deletes if args.dry_run else batch_delete.execute(client, batch).deleted
            done.update((str(p.ref), _plain(p)) for p in steps)
        plans = []
        for ref in refs:
            if str(ref) in done:
                plans.append(done[str(ref)])
            else:
                plans.append(_plain(client.delete_tag(ref, force=args.force, dry_run=args.dry_run)))

    def text() -> list[str]:
        verb = "would" if args.dry_run else "did"
        return [
            f"{p.get('ref') or p.get('reference')}: {verb} {p.get('action')}"
            + (f" ({p['reason']})" if p.get("reason") else "")
            for p in plans
        ]

    _emit(args, {"dry_run": args.dry_run, "plans": plans}, text)
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from .. import batch_delete, retention

    ref = Reference.parse(args.repository)
    try:
        older = retention.parse_age(args.older_than) if args.older_than else None
        with make_client(args, [ref.domain]) as client:
            graph = batch_delete.snapshot(client, ref)
            infos = retention.gather(client, ref, descriptors=graph.tags)
            selection = retention.select(
                infos,
                patterns=args.match,
                excludes=args.exclude,
                keep_latest=args.keep_latest,
                older_than=older,
            )
            batch = batch_delete.plan_tag_deletes(client, ref, selection.delete_tags, graph=graph)
            steps = batch.deletes if args.dry_run else batch_delete.execute(client, batch).deleted
            by_tag = {p.tag: _plain(p) for p in steps}
            plans = [by_tag[info.tag] for info in selection.delete if info.tag in by_tag]
    except ValueError as exc:
        if isinstance(exc, OciregError):
            raise
        usage_error(str(exc))
    kept = [{"tag": info.tag, "digest": info.digest, "reason": why} for info, why in selection.keep]
    data = {"repository": ref.repository, "dry_run": args.dry_run, "deleted": plans, "kept": kept}
    verb = "would delete" if args.dry_run else "deleted"
    _emit(
        args,
        data,
        lambda: (
            [f"{verb} {info.tag}" for info in selection.delete]
            + [f"kept {k['tag']} ({k['reason']})" for k in kept]
        ),
    )
    return 0


def cmd_referrers(args: argparse.Namespace) -> int:
    ref = Reference.parse(args.reference)
    with make_client(args, [ref.domain]) as client:
        found = client.referrers(ref, args.artifact_type)
    data = [_plain(d) for d in found]
    _emit(
        args,
        {"reference": str(ref), "referrers": data},
        lambda: [f"{d.digest} {d.artifact_type or d.media_type}" for d in found],
    )
    return 0


def _config_file(args: argparse.Namespace) -> Path:
    from ..builtin.docker_config import config_path

    return config_path(args.config)


def _write_config(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent="\t")
            fh.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _helper_for(doc: dict[str, Any], host: str) -> str | None:
    helpers = doc.get("credHelpers") or {}
    suffix = helpers.get(host) if isinstance(helpers, dict) else None
    return str(suffix) if suffix else (str(doc["credsStore"]) if doc.get("credsStore") else None)


def cmd_login(args: argparse.Namespace) -> int:
    from ..builtin import helpers
    from ..builtin.docker_config import load_config, server_key

    host = normalize_registry(args.registry)
    if not args.username:
        usage_error("login needs -u/--username")
    password = _password(args)
    if not password:
        usage_error("login needs a password: --password-stdin (or -p)")
    args.password_stdin, args.password = False, password  # already read
    with make_client(args, [host]) as client:
        client.ping(host)  # raises AuthenticationError when refused
    path = _config_file(args)
    doc = load_config(path) or {}
    key = server_key(host)
    suffix = _helper_for(doc, host)
    if suffix:
        helpers.store(suffix, key, args.username, password)
        where = f"docker-credential-{suffix}"
    else:
        auth = base64.b64encode(f"{args.username}:{password}".encode()).decode()
        doc.setdefault("auths", {})[key] = {"auth": auth}
        _write_config(path, doc)
        where = str(path)
    print(f"Login succeeded; credentials stored in {where}", file=sys.stderr)
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    from ..builtin import helpers
    from ..builtin.docker_config import host_of, load_config, server_key

    host = normalize_registry(args.registry)
    path = _config_file(args)
    doc = load_config(path) or {}
    key = server_key(host)
    suffix = _helper_for(doc, host)
    if suffix:
        helpers.erase(suffix, key)
    auths = doc.get("auths") or {}
    removed = [k for k in list(auths) if k == key or host_of(k) == host_of(key)]
    for k in removed:
        del auths[k]
    if removed:
        _write_config(path, doc)
    if not suffix and not removed:
        print(f"ocireg: not logged in to {host}", file=sys.stderr)
        return 3
    print(f"Removed credentials for {host}", file=sys.stderr)
    return 0


def cmd_auth(args: argparse.Namespace) -> int:
    host = normalize_registry(args.registry)
    with make_client(args, [host]) as client:
        info = client.explain_credentials(host)

    def text() -> list[str]:
        if info["provider"] is None:
            return [f"{host}: anonymous (asked: {', '.join(info['asked'])})"]
        who = f" as {info['username']}" if info.get("username") else ""
        return [f"{host}: {info['kind']}{who} from {info['provider']}: {info['source']}"]

    _emit(args, info, text)
    return 0
