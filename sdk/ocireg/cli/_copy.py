"""``ocireg copy``: an image or index to another repository or registry."""

from __future__ import annotations

import argparse

from ..reference import Reference
from ._common import emit, make_client, plain
from ._progress import progress_bar


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
    data = plain(result)
    emit(args, data, lambda: [f"{dst}: {data.get('digest')}"])
    return 0
