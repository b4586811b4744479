"""Reading a job's output with its manifest: which image each response is about,
and which answer wins when a retry answered an image again.

Vision writes one response per request, in request order, into files named
``output-N-to-M.json`` (N..M are request positions) under each operation's
sub-prefix, so the listing alone says which images every operation answered.
The latest operation that answered an image wins: a retry only covers images
that failed or were missing before.
"""

from __future__ import annotations

import dataclasses

from vision_results.jobs.manifest import JobManifest, OperationRecord
from vision_results.source import SHARD_NAME, Shard


def _operation(manifest: JobManifest, name: str) -> tuple[int, OperationRecord, str] | None:
    for number, op in enumerate(manifest.operations):
        prefix = op.output.removeprefix(manifest.output)
        if name.startswith(prefix) and "/" not in name[len(prefix) :]:
            return number, op, name[len(prefix) :]
    return None


def annotate(manifest: JobManifest, shards: list[Shard]) -> list[Shard]:
    """The shards, each told the input of every response and which ones a later
    operation supersedes. Shards outside the manifest's operations are unchanged."""
    placed: list[tuple[Shard, int, list[int]]] = []
    latest: dict[int, int] = {}
    for shard in shards:
        found = _operation(manifest, shard.name)
        match = SHARD_NAME.fullmatch(found[2]) if found else None
        if found is None or match is None:
            placed.append((shard, -1, []))
            continue
        number, op, _ = found
        positions = op.images[int(match[1]) - 1 : int(match[2])]
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
