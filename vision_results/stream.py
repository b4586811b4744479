"""Read and flatten shards concurrently, in order, with a bounded number in flight.

Peak memory depends on ``workers`` (how many shards are held at once), never
on how many shards the SOURCE has.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa

from vision_results.errors import ShardError, VisionResultsError
from vision_results.parse import parse_shard
from vision_results.source import Shard, Source
from vision_results.tables import flatten_shard
from vision_results.tables.errors import response_error

DEFAULT_WORKERS = min(8, 2 * (os.cpu_count() or 1))


@dataclass
class ShardResult:
    """One shard read: its tables, or the error that stopped it."""

    shard: Shard
    tables: dict[str, pa.Table] = field(default_factory=dict)
    responses: int = 0
    errors: int = 0
    nbytes: int = 0
    error: VisionResultsError | None = None


def read_and_flatten(source: Source, shard: Shard, tables: Iterable[str]) -> ShardResult:
    """Download, parse and flatten one shard; a bad shard is returned, not raised."""
    try:
        data = source.read(shard)
        parsed = parse_shard(data, shard.name, shard.location)
        try:
            flat = flatten_shard(parsed, tables)
        except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
            # A field of the wrong JSON type deep inside a response.
            raise ShardError(
                shard.location, f"not a Vision response ({type(exc).__name__}: {exc})"
            ) from exc
        errors = sum(1 for response in parsed.responses if response_error(response))
        return ShardResult(shard, flat, len(parsed), errors, len(data))
    except VisionResultsError as exc:
        return ShardResult(shard, error=exc)


def stream_shards(
    source: Source,
    shards: Iterable[Shard],
    tables: Iterable[str],
    *,
    workers: int = DEFAULT_WORKERS,
) -> Generator[ShardResult, None, None]:
    """Yield one :class:`ShardResult` per shard, in the order given.

    At most ``workers`` shards are downloaded and parsed at once; no more than
    ``2 * workers`` results wait to be consumed.
    """
    wanted = tuple(tables)
    pending: deque[Future[ShardResult]] = deque()
    todo = iter(shards)
    pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="vision-results")
    try:
        for shard in todo:
            pending.append(pool.submit(read_and_flatten, source, shard, wanted))
            if len(pending) >= 2 * max(1, workers):
                break
        while pending:
            result = pending.popleft().result()
            for shard in todo:
                pending.append(pool.submit(read_and_flatten, source, shard, wanted))
                break
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
