"""Reading a job's output with its manifest: which image each response is about,
and which answer wins when a retry answered an image again.

Vision writes one response per request, in request order, into files named
``output-N-to-M.json`` (N..M are request positions) under each operation's
sub-prefix, so the listing alone says which images every operation answered. A
files operation writes each file under a prefix of its own (``file-00001/``, in
request order), one response per page (N..M are page numbers). The latest
operation that answered an input wins: a retry only covers inputs that failed
or were missing before.
"""

from __future__ import annotations

import dataclasses
import re

from vision_results.jobs.manifest import FILES, JobManifest, OperationRecord
from vision_results.source import SHARD_NAME, Shard

_FILE_SHARD = re.compile(r"file-(\d+)/(.+)")


def _operation(manifest: JobManifest, name: str) -> tuple[int, OperationRecord, str] | None:
    for number, op in enumerate(manifest.operations):
        prefix = op.output.removeprefix(manifest.output)
        if name.startswith(prefix) and name.count("/", len(prefix)) == (op.kind == FILES):
            return number, op, name[len(prefix) :]
    return None


def _positions(op: OperationRecord, rest: str) -> list[int] | None:
    """The job position of each response of the shard ``rest`` (its name under the
    operation's prefix), or None when the name is not one Vision writes."""
    if op.kind != FILES:
        match = SHARD_NAME.fullmatch(rest)
        return op.images[int(match[1]) - 1 : int(match[2])] if match else None
    folder = _FILE_SHARD.fullmatch(rest)
    match = SHARD_NAME.fullmatch(folder[2]) if folder else None
    if folder is None or match is None or not 1 <= int(folder[1]) <= len(op.images):
        return None
    return [op.images[int(folder[1]) - 1]] * (int(match[2]) - int(match[1]) + 1)


def annotate(manifest: JobManifest, shards: list[Shard]) -> list[Shard]:
    """The shards, each told the input of every response and which ones a later
    operation supersedes. Shards outside the manifest's operations are unchanged."""
    placed: list[tuple[Shard, int, list[int]]] = []
    latest: dict[int, int] = {}
    for shard in shards:
        found = _operation(manifest, shard.name)
        positions = _positions(found[1], found[2]) if found else None
        if found is None or positions is None:
            placed.append((shard, -1, []))
            continue
        number = found[0]
        placed.append((shard, number, positions))
        for position in positions:
            latest[position] = max(latest.get(position, -1), number)
    out = []
    for shard, number, positions in placed:
        if number < 0:
            out.append(shard)
            continue
        keep = tuple(latest[p] == number for p in positions)
        out.append(
            dataclasses.replace(
                shard,
                job_uris=tuple(manifest.images[p - 1] for p in positions),
                keep=None if all(keep) else keep,
            )
        )
    return out
