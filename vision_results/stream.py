"""Read and flatten shards concurrently, in order, with a bounded number in flight.

Peak memory depends on ``workers`` (how many shards are held at once), never
on how many shards the SOURCE has.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import pyarrow as pa

from vision_results import answers
from vision_results.errors import ShardError, VisionResultsError
from vision_results.parse import parse_shard
from vision_results.source import LocalSource, Shard, Source
from vision_results.tables import fields_for, flatten_shard
from vision_results.tables.errors import response_error

DEFAULT_WORKERS = min(8, 2 * (os.cpu_count() or 1))
MAX_SHARD_BYTES = 512 << 20
"""Larger shards are refused unread: Vision writes at most 100 responses per file,
a few MB each at the most, and a shard is parsed in memory (about 5x its size)."""


@dataclass
class ShardResult:
    """One shard read: its tables, or the error that stopped it."""

    shard: Shard
    tables: dict[str, pa.Table] = field(default_factory=dict)
    responses: int = 0
    errors: int = 0
    nbytes: int = 0
    error: VisionResultsError | None = None
    unrecognised: int = 0
    unknown_fields: dict[str, int] = field(default_factory=dict)


def parse_and_flatten(data: bytes, shard: Shard, tables: Iterable[str]) -> ShardResult:
    """Parse and flatten one shard's bytes: pure, and picklable for a process pool."""
    fields = fields_for(frozenset(tables))
    parsed = parse_shard(data, shard.name, shard.location, shard.job_uris, fields)
    if shard.keep is not None:
        parsed.keep(shard.keep)
    try:
        flat = flatten_shard(parsed, tables)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
        # A field of the wrong JSON type deep inside a response.
        raise ShardError(
            shard.location, f"not a Vision response ({type(exc).__name__}: {exc})"
        ) from exc
    flat[answers.NAME] = answers.of(parsed)
    errors = sum(1 for response in parsed.responses if response_error(response))
    return ShardResult(
        shard,
        flat,
        len(parsed),
        errors,
        len(data),
        unrecognised=parsed.unrecognised,
        unknown_fields=dict(parsed.unknown_fields),
    )


def read_and_flatten(
    source: Source,
    shard: Shard,
    tables: tuple[str, ...],
    cpu: Executor | None = None,
    max_shard_bytes: int = MAX_SHARD_BYTES,
) -> ShardResult:
    """Download one shard here, parse it here or in ``cpu``; a bad shard is returned."""
    try:
        if shard.size > max_shard_bytes:
            raise ShardError(
                shard.location,
                f"{shard.size / 1e6:,.0f} MB is more than the {max_shard_bytes / 1e6:,.0f} MB "
                "a shard may have (Vision writes at most 100 responses per file); raise the "
                "limit with --max-shard-mb (max_shard_bytes=) if this is really one shard",
            )
        if cpu is None:
            return parse_and_flatten(source.read(shard), shard, tables)
        if isinstance(source, LocalSource):
            # A parser process reads a local file itself: no bytes through a pipe.
            return cpu.submit(_read_and_flatten_here, source, shard, tables).result()
        return cpu.submit(parse_and_flatten, source.read(shard), shard, tables).result()
    except VisionResultsError as exc:
        return ShardResult(shard, error=exc)


def _read_and_flatten_here(
    source: LocalSource, shard: Shard, tables: tuple[str, ...]
) -> ShardResult:
    return parse_and_flatten(source.read(shard), shard, tables)


@contextmanager
def parsing() -> Iterator[None]:
    """Settings for parsing many shards, restored afterwards.

    - The cyclic GC is paused: the parser's allocations would trigger collections
      that rescan every live object, several times slower (performance-notes.md).
      The JSON trees have no cycles, so reference counting frees them anyway.
    - Arrow allocates from the system allocator, not mimalloc (pyarrow's default),
      which keeps freed memory: peak RSS of a 329 MB export, 312-336 MB with
      mimalloc, 257 MB with malloc, at the same speed (benchmarks/README.md).
      Buffers remember their pool, so those made before or after are unaffected.
    """
    was_enabled = gc.isenabled()
    pool = pa.default_memory_pool()
    gc.disable()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(pool)
        if was_enabled:
            gc.enable()


def _start_parser_process() -> None:
    """A parser process parses until it ends (see :func:`parsing`)."""
    gc.disable()
    pa.set_memory_pool(pa.system_memory_pool())


def spawn_is_safe() -> bool:
    """Whether parser processes may be started without the caller asking for them.

    A spawned process imports the main module again. That is harmless for a
    module run by name (``python -m``, Jupyter), an interactive session, and
    this package's own command (its entry point guards itself); but a script
    run by path would run its top level again, export included, unless it is
    guarded by ``if __name__ == "__main__":``, which we cannot see.
    """
    main = sys.modules.get("__main__")
    if getattr(main, "__spec__", None) is not None or not getattr(main, "__file__", None):
        return True
    cli = sys.modules.get("vision_results.cli")
    return cli is not None and getattr(main, "main", None) is cli.main


def auto_processes(shards: list[Shard]) -> int:
    """Parse in processes when there are cores to spare, enough bytes to pay for
    starting them (about a second) and it is safe to; else in the download threads."""
    cores = os.cpu_count() or 1
    big = sum(s.size for s in shards) >= 64 << 20
    return cores if cores > 1 and big and spawn_is_safe() else 0


def stream_shards(
    source: Source,
    shards: Iterable[Shard],
    tables: Iterable[str],
    *,
    workers: int = DEFAULT_WORKERS,
    processes: int = 0,
    max_shard_bytes: int = MAX_SHARD_BYTES,
) -> Generator[ShardResult, None, None]:
    """Yield one :class:`ShardResult` per shard, in the order given.

    ``workers`` threads download (and, with ``processes=0``, parse) shards; with
    ``processes > 0`` parsing runs in that many processes, around the GIL. At
    most ``workers`` shards are in flight and ``2 * workers`` results wait to be
    consumed, so memory does not grow with the number of shards.
    """
    wanted = tuple(tables)
    workers = max(1, workers)
    pending: deque[Future[ShardResult]] = deque()
    todo = iter(shards)
    cpu = (
        ProcessPoolExecutor(
            processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_parser_process,
        )
        if processes > 0
        else None
    )
    pool = ThreadPoolExecutor(workers, thread_name_prefix="vision-results")
    read = partial(
        read_and_flatten, source, tables=wanted, cpu=cpu, max_shard_bytes=max_shard_bytes
    )
    try:
        for shard in todo:
            pending.append(pool.submit(read, shard))
            if len(pending) >= 2 * workers:
                break
        while pending:
            result = pending.popleft().result()
            for shard in todo:
                pending.append(pool.submit(read, shard))
                break
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if cpu is not None:
            cpu.shutdown(wait=True, cancel_futures=True)
