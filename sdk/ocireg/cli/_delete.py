"""``ocireg delete`` and ``ocireg prune``: delete exactly the tags asked for (or that a
retention policy selects), never a manifest a remaining tag needs. The rules are the SDK's
(``Client.plan_tag_deletes``/``execute_plan``, :mod:`ocireg.retention`); this prints them."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..deletion import BatchResult
from ..errors import NotFoundError, OciregError
from ..reference import Reference
from ._common import emit, make_client, plain, usage_error
from ._signals import exit_code_for_interrupt

if TYPE_CHECKING:
    from ..client import Client
    from ..deletion import BatchPlan, DeletePlan


class Report:
    """What ``delete``/``prune`` did (or would do): kept up to date as the run goes, so an
    interrupted run still says what was done, what was not, and why."""

    def __init__(self, dry_run: bool) -> None:
        self.dry_run = dry_run
        self.results: list[BatchResult] = []
        self.recovered: list[str] = []
        self.learnt: list[str] = []
        self.stopped: str | None = None

    def steps(self, batch: BatchPlan) -> list[DeletePlan]:
        """The steps of ``batch`` to show: its plan on a dry run; else the steps done, a
        list that fills as :meth:`execute` goes, so it is right when a run is interrupted."""
        for line in batch.learnt:
            if line not in self.learnt:
                self.learnt.append(line)
        if self.dry_run:
            self.recovered.extend(p.tag for p in batch.recover if p.tag)
            return list(batch.deletes)
        self.results.append(BatchResult(batch))
        return self.results[-1].deleted

    def execute(self, client: Client, batch: BatchPlan) -> None:
        """Carry out ``batch``, after :meth:`steps` (nothing on a dry run)."""
        if not self.dry_run:
            client.execute_plan(batch, result=self.results[-1])

    def not_done(self) -> list[dict[str, Any]]:
        return [n.to_dict() for r in self.results for n in r.not_done]

    def data(self, **extra: Any) -> dict[str, Any]:
        recovered = self.recovered + [t for r in self.results for t in r.recovered]
        return {
            "dry_run": self.dry_run,
            **extra,
            "recovered": recovered,
            "not_done": self.not_done(),
            "stopped": self.stopped,
            "learnt": self.learnt,
        }

    def lines(self) -> list[str]:
        recovered = self.recovered + [t for r in self.results for t in r.recovered]
        out = [f"recovered {t} (left on a placeholder by an interrupted run)" for t in recovered]
        out += [f"not done: {n['tag']} ({n['reason']})" for n in self.not_done()]
        if self.dry_run:
            out += [f"learnt: {line}" for line in self.learnt]
        if self.stopped:
            out.append(f"stopped: {self.stopped}; the steps above are all that was done")
        return out


def _interrupted(
    args: argparse.Namespace, report: Report, exc: KeyboardInterrupt, data: Any, text: Any
) -> int:
    report.stopped = str(exc) or "interrupted"
    emit(args, data(), text)
    return exit_code_for_interrupt(exc)


def cmd_delete(args: argparse.Namespace) -> int:
    refs = [Reference.parse(r) for r in args.references]
    # Tags of one repository are planned together on one look at its graph (and none is
    # deleted when one is missing); digest references go one by one, as --force asks.
    groups: dict[str, list[Reference]] = {}
    for ref in refs:
        if ref.tag is not None and ref.digest is None:
            groups.setdefault(ref.repository, []).append(ref)
    report = Report(args.dry_run)
    batch_steps: list[list[DeletePlan]] = []
    by_digest: dict[str, Any] = {}
    plans: list[Any] = []

    def collect() -> None:
        """The plans of what was done so far, in the order the references were given."""
        done = {str(step.ref): plain(step) for steps in batch_steps for step in steps}
        done.update(by_digest)
        plans[:] = [done[str(r)] for r in refs if str(r) in done]

    def text() -> list[str]:
        verb = "would" if args.dry_run else "did"
        return [
            f"{p.get('ref') or p.get('reference')}: {verb} {p.get('action')}"
            + (f" via {p['via']}" if p.get("via") not in (None, p.get("action")) else "")
            + (f" ({p['reason']})" if p.get("reason") else "")
            for p in plans
        ] + report.lines()

    def data() -> dict[str, Any]:
        return report.data(plans=plans)

    with make_client(args, sorted({r.domain for r in refs})) as client:
        batches = [
            client.plan_tag_deletes(
                group[0], [r.tag for r in group if r.tag], probe=not args.no_probe
            )
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
        try:
            for batch in batches:
                batch_steps.append(report.steps(batch))
                report.execute(client, batch)
            for ref in refs:
                if ref.tag is None or ref.digest is not None:
                    step = client.delete_tag(ref, force=args.force, dry_run=args.dry_run)
                    by_digest[str(ref)] = plain(step)
        except KeyboardInterrupt as exc:
            collect()
            return _interrupted(args, report, exc, data, text)
        collect()
    emit(args, data(), text)
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from .. import retention

    ref = Reference.parse(args.repository)
    try:
        older = retention.parse_age(args.older_than) if args.older_than else None
        with make_client(args, [ref.domain]) as client:
            graph = client.snapshot(ref)
            infos = retention.gather(
                client, ref, descriptors=graph.tags, records=graph.records, age_from=args.age_from
            )
            selection = retention.select(
                infos,
                patterns=args.match,
                excludes=args.exclude,
                keep_latest=args.keep_latest,
                older_than=older,
                age_from=args.age_from,
            )
            batch = client.plan_tag_deletes(
                ref, selection.delete_tags, graph=graph, probe=not args.no_probe
            )
            kept = [
                {"tag": info.tag, "digest": info.digest, "reason": why}
                for info, why in selection.keep
            ]
            report = Report(args.dry_run)
            steps = report.steps(batch)

            def data() -> dict[str, Any]:
                by_tag = {p.tag: plain(p) for p in steps}
                plans = [by_tag[info.tag] for info in selection.delete if info.tag in by_tag]
                return report.data(repository=ref.repository, deleted=plans, kept=kept)

            def text() -> list[str]:
                verb = "would delete" if args.dry_run else "deleted"
                return (
                    [f"{verb} {p.tag}" + (f" via {p.via}" if p.via else "") for p in steps]
                    + [f"kept {k['tag']} ({k['reason']})" for k in kept]
                    + report.lines()
                )

            try:
                report.execute(client, batch)
            except KeyboardInterrupt as exc:
                return _interrupted(args, report, exc, data, text)
    except ValueError as exc:
        if isinstance(exc, OciregError):
            raise  # the CLI's one mapping: InvalidSelectionError (--match...) is a usage error
        usage_error(str(exc))
    emit(args, data(), text)
    return 0
