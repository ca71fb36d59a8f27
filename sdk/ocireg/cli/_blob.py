"""``ocireg blob get|put|head``: one blob, verified, with a progress bar on a terminal."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..reference import Reference
from ._common import emit, make_client, usage_error
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
        emit(args, data, lambda: [desc.digest])
        return 0
    ref = _blob_ref(args.reference)
    digest = ref.digest
    assert digest is not None
    with make_client(args, [ref.domain]) as client:
        if args.blob_command == "head":
            desc = client.head_blob(ref, digest)
        else:
            with progress_bar(args, _short(digest)) as bar:
                if bar is not None:  # one HEAD more, only for the bar's total and ETA
                    bar.set_total(client.head_blob(ref, digest).size)
                desc = client.pull_blob(ref, digest, args.output, progress=bar)
    data = {"repository": ref.repository, "digest": desc.digest, "size": desc.size}
    emit(args, data, lambda: [f"{desc.digest} {desc.size}"])
    return 0
