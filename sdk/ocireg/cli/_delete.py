"""``ocireg delete`` and ``ocireg prune``: delete exactly the tags asked for (or that a
retention policy selects), never a manifest a remaining tag needs. The rules are the SDK's
(``Client.plan_tag_deletes``/``execute_plan``, :mod:`ocireg.retention`); this prints them."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import NotFoundError, OciregError
from ..reference import Reference
from ._common import emit, make_client, plain, usage_error


def cmd_delete(args: argparse.Namespace) -> int:
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
            client.plan_tag_deletes(group[0], [r.tag for r in group if r.tag])
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
            steps = batch.deletes if args.dry_run else client.execute_plan(batch).deleted
            done.update((str(p.ref), plain(p)) for p in steps)
        plans = []
        for ref in refs:
            if str(ref) in done:
                plans.append(done[str(ref)])
            else:
                plans.append(plain(client.delete_tag(ref, force=args.force, dry_run=args.dry_run)))

    def text() -> list[str]:
        verb = "would" if args.dry_run else "did"
        return [
            f"{p.get('ref') or p.get('reference')}: {verb} {p.get('action')}"
            + (f" ({p['reason']})" if p.get("reason") else "")
            for p in plans
        ]

    emit(args, {"dry_run": args.dry_run, "plans": plans}, text)
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from .. import retention

    ref = Reference.parse(args.repository)
    try:
        older = retention.parse_age(args.older_than) if args.older_than else None
        with make_client(args, [ref.domain]) as client:
            graph = client.snapshot(ref)
            infos = retention.gather(client, ref, descriptors=graph.tags)
            selection = retention.select(
                infos,
                patterns=args.match,
                excludes=args.exclude,
                keep_latest=args.keep_latest,
                older_than=older,
            )
            batch = client.plan_tag_deletes(ref, selection.delete_tags, graph=graph)
            steps = batch.deletes if args.dry_run else client.execute_plan(batch).deleted
            by_tag = {p.tag: plain(p) for p in steps}
            plans = [by_tag[info.tag] for info in selection.delete if info.tag in by_tag]
    except ValueError as exc:
        if isinstance(exc, OciregError):
            raise
        usage_error(str(exc))
    kept = [{"tag": info.tag, "digest": info.digest, "reason": why} for info, why in selection.keep]
    data = {"repository": ref.repository, "dry_run": args.dry_run, "deleted": plans, "kept": kept}
    verb = "would delete" if args.dry_run else "deleted"
    emit(
        args,
        data,
        lambda: (
            [f"{verb} {info.tag}" for info in selection.delete]
            + [f"kept {k['tag']} ({k['reason']})" for k in kept]
        ),
    )
    return 0
