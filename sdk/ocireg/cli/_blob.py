"""``ocireg blob get|put|head``: one blob, verified, with a progress bar on a terminal.

``blob get`` replaces a regular file only once the blob is verified; a device, a FIFO or
stdout (``-o -``) is written as the bytes come and checked at the end; a symbolic link is
refused without ``--force`` (:meth:`ocireg.Client.pull_blob`)."""

from __future__ import annotations

import argparse
import os
import sys
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
    if args.blob_command == "get" and args.output == "-":
        return _get_to_stdout(args, ref, digest)
    with make_client(args, [ref.domain]) as client:
        desc = client.head_blob(ref, digest)  # the size: the bar's total, the download's limit
        if args.blob_command == "get":
            with progress_bar(args, _short(digest), desc.size) as bar:
                try:
                    desc = client.pull_blob(ref, desc, args.output, force=args.force, progress=bar)
                except FileExistsError:
                    if not os.path.islink(args.output):
                        raise
                    usage_error(
                        f"-o {args.output} is a symbolic link; add --force to write the file "
                        "it points to"
                    )
    data = {"repository": ref.repository, "digest": desc.digest, "size": desc.size}
    emit(args, data, lambda: [f"{desc.digest} {desc.size}"])
    return 0


def _get_to_stdout(args: argparse.Namespace, ref: Reference, digest: str) -> int:
    """``blob get -o -``: the bytes go to stdout as they come, and are verified at the end,
    so a failure says that what was already written was not verified. Nothing else is
    printed on stdout; a terminal gets no blob (its bytes could drive it)."""
    if args.json:
        usage_error("-o - writes the blob to stdout: --json would be mixed into it")
    out = sys.stdout.buffer
    if out.isatty():
        usage_error("refusing to write a blob to a terminal: redirect stdout, or give -o FILE")
    written = 0

    def count(n: int) -> None:
        nonlocal written
        written += n
        if bar is not None:
            bar(n)

    with make_client(args, [ref.domain]) as client:
        desc = client.head_blob(ref, digest)
        with progress_bar(args, _short(digest), desc.size) as bar:
            try:
                client.pull_blob(ref, desc, out, progress=count)
            except BaseException:
                if written:
                    print(
                        f"ocireg: warning: the {written} bytes already written to stdout were "
                        "not verified: discard them",
                        file=sys.stderr,
                    )
                raise
    return 0
