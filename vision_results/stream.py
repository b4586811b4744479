"""Read, decode and flatten shards concurrently, in order, with bounded memory.

Consecutive shards are cut into groups (:func:`groups`: at most
:data:`GROUP_SHARDS` shards or :data:`GROUP_BYTES` bytes, and small enough that
every thread gets some). One thread per core takes a group, decodes its shards
one after the other (pyarrow decodes outside the GIL, so the threads use every
core) and flattens them together: the flatteners cost mostly per call, not per
row, so a group costs little more than one shard (benchmarks/README.md). Local
shards are read by that thread, one at a time; ``gs://`` shards are downloaded
by ``workers`` threads of their own, a group at once. The caller writes the
groups' tables in order. One group more than there are threads is in flight, so
memory does not grow with the number of shards. A bad shard ends its chunk of
rows and is reported on its own.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import pyarrow as pa

from vision_results import answers
from vision_results.batch import Batch
from vision_results.decode import decode_shard
from vision_results.errors import ShardError, VisionResultsError
from vision_results.parse import Data
from vision_results.source import LocalSource, Shard, Source
from vision_results.status import response_error
from vision_results.tables import fields_for, flatten_shard

DEFAULT_WORKERS = 8
"""Shards read at once: downloads from gs:// wait on the network, not the CPU."""
MAX_SHARD_BYTES = 512 << 20
"""Larger shards are refused unread: Vision writes at most 100 responses per file,
a few MB each at the most, and a shard is parsed in memory (about 5x its size)."""
GROUP_SHARDS = 8
GROUP_BYTES = 32 << 20


@dataclass
class ShardResult:
    """One shard read: what it held, or the error that stopped it."""

    shard: Shard
    responses: int = 0
    errors: int = 0
    nbytes: int = 0
    error: VisionResultsError | None = None
    unrecognised: int = 0
    unknown_fields: dict[str, int] = field(default_factory=dict)
    fallback: bool = False
    """Read by the exact decoder: the fast path could not take it."""


@dataclass
class Chunk:
    """Consecutive shards: their results in order and the rows of the good ones
    (every asked-for table and the index of answers). A bad shard is a chunk of
    its own, without rows."""

    results: list[ShardResult]
    tables: dict[str, pa.Table]


@dataclass
class _Decoded:
    result: ShardResult
    batch: Batch
    index: pa.Table


def _decode(data: Data, shard: Shard, fields: frozenset[str]) -> _Decoded:
    decoded = decode_shard(
        data, shard.name, shard.location, fields=fields, job_uris=shard.job_uris, keep=shard.keep
    )
    parsed = decoded.parsed
    result = ShardResult(
        shard,
        len(parsed),
        sum(1 for response in parsed.responses if response_error(response)),
        len(data),
        unrecognised=parsed.unrecognised,
        unknown_fields=dict(parsed.unknown_fields),
        fallback=not decoded.fast,
    )
    return _Decoded(result, decoded.batch, answers.of(parsed))


def parse_and_flatten(data: bytes, shard: Shard, tables: Iterable[str]) -> Chunk:
    """Decode and flatten one shard's bytes, as a chunk of one; raises
    :class:`ShardError` if it is bad."""
    wanted = tuple(tables)
    (chunk,) = _flatten([_decode(data, shard, fields_for(frozenset(wanted)))], wanted)
    if chunk.results[0].error is not None:
        raise chunk.results[0].error
    return chunk


@contextmanager
def parsing() -> Iterator[None]:
    """Settings for decoding many shards, restored afterwards.

    - The cyclic GC is paused: the decoder's allocations would trigger collections
      that rescan every live object, several times slower (benchmarks/README.md).
      The JSON trees have no cycles, so reference counting frees them anyway.
    - Arrow allocates from the system allocator, not mimalloc (pyarrow's default),
      which keeps freed memory (benchmarks/README.md). Buffers remember their
      pool, so those made before or after are unaffected.
    - With glibc, blocks of 128 KB and more are always mapped (and so returned
      when freed): glibc's own threshold rises with the shards' sizes, and the
      heap then fragments as threads free them (an export of 3.3 GB grew from
      280 to 363 MB; with this, it stays at ~300 MB). Not undone: it is harmless.
    """
    was_enabled = gc.isenabled()
    pool = pa.default_memory_pool()
    gc.disable()
    pa.set_memory_pool(pa.system_memory_pool())
    _map_large_blocks()
    try:
        yield
    finally:
        pa.set_memory_pool(pool)
        if was_enabled:
            gc.enable()


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None  # not glibc
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


@functools.cache
def _map_large_blocks() -> None:
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, 128 << 10)


def _trim() -> None:
    """Give the heap's free pages back (glibc's ``malloc_trim``): the decoding
    threads' arenas otherwise keep what they freed, and the peak creeps up over a
    long export (298 -> 288 MB on 3.3 GB, ~1.6% of the time, benchmarks/README.md)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


_M_MMAP_THRESHOLD = -3  # from glibc's malloc.h
TRIM_BYTES = 128 << 20
"""Shard bytes between two :func:`_trim` calls (about a second of decoding)."""


def _start_decoder_process() -> None:
    """A decoder process decodes until it ends (see :func:`parsing`)."""
    gc.disable()
    pa.set_memory_pool(pa.system_memory_pool())


def groups(shards: list[Shard], workers: int) -> list[list[Shard]]:
    """Consecutive shards in groups: at most GROUP_SHARDS shards or GROUP_BYTES
    bytes each, and at least ``2 * workers`` groups when there are enough shards."""
    most = max(1, min(GROUP_SHARDS, -(-len(shards) // (2 * workers))))
    out: list[list[Shard]] = []
    size = 0
    for shard in shards:
        if not out or len(out[-1]) >= most or size + shard.size > GROUP_BYTES:
            out.append([])
            size = 0
        out[-1].append(shard)
        size += shard.size
    return out


def stream_chunks(
    source: Source,
    shards: Iterable[Shard],
    tables: Iterable[str],
    *,
    workers: int = DEFAULT_WORKERS,
    processes: int = 0,
    max_shard_bytes: int = MAX_SHARD_BYTES,
) -> Generator[Chunk, None, None]:
    """Every shard read, decoded and flattened, as :class:`Chunk` s in shard order
    (see the module). ``workers`` shards are read at once; groups are decoded in
    one thread per core (at most ``workers``), or with ``processes > 0`` in that
    many processes."""
    wanted = tuple(tables)
    workers = max(1, workers)
    decoders = processes or min(workers, os.cpu_count() or 1)
    todo = iter(groups(list(shards), decoders))
    cpu = (
        ProcessPoolExecutor(
            processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_decoder_process,
        )
        if processes > 0
        else None
    )
    # Local files are read by the thread that decodes them; downloads get threads
    # of their own, so that a group's shards are fetched at once.
    io = None if isinstance(source, LocalSource) else ThreadPoolExecutor(workers)
    pool = ThreadPoolExecutor(decoders, thread_name_prefix="vision-results")
    work = functools.partial(_group, source, tables=wanted, io=io, cpu=cpu, limit=max_shard_bytes)
    pending: deque[Future[list[Chunk]]] = deque()
    try:
        for group in todo:
            pending.append(pool.submit(work, group))
            if len(pending) > decoders:
                break
        unreturned = 0
        while pending:
            chunks = pending.popleft().result()
            for group in todo:
                pending.append(pool.submit(work, group))
                break
            yield from chunks
            unreturned += sum(result.shard.size for chunk in chunks for result in chunk.results)
            if unreturned >= TRIM_BYTES:
                _trim()
                unreturned = 0
    finally:
        for executor in (pool, io, cpu):
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)


def _group(
    source: Source,
    shards: list[Shard],
    tables: tuple[str, ...],
    io: Executor | None,
    cpu: Executor | None,
    limit: int,
) -> list[Chunk]:
    """One group read, decoded and flattened (decoded in ``cpu`` if given)."""
    if isinstance(source, LocalSource):
        if cpu is not None:
            # A process reads local files itself: no bytes through a pipe.
            return cpu.submit(_read_group, source, shards, tables, limit).result()
        return _read_group(source, shards, tables, limit)
    assert io is not None
    downloads = deque(io.submit(_read, shard, limit, source.read) for shard in shards)
    # Each download is let go once taken: its bytes last until their shard is decoded,
    # not until the whole group is.
    arrived = (downloads.popleft().result() for _ in shards)
    if cpu is None:
        return _decode_group(arrived, shards, tables)
    return cpu.submit(_decode_group, list(arrived), shards, tables).result()


def _read_group(
    source: LocalSource, shards: list[Shard], tables: tuple[str, ...], limit: int
) -> list[Chunk]:
    """A group of local shards, each read when its turn comes, into one buffer (a
    shard's bytes are not kept past its decoding)."""
    buffer = bytearray(min(max(shard.size for shard in shards), limit) + 1)
    read = functools.partial(source.read_into, buffer=buffer)
    return _decode_group((_read(shard, limit, read) for shard in shards), shards, tables)


def _decode_group(
    reads: Iterable[Data | VisionResultsError],
    shards: list[Shard],
    tables: tuple[str, ...],
) -> list[Chunk]:
    """Decode each shard's bytes (or take the error that stopped its read), then
    flatten the good ones together; a bad shard ends the chunk before it."""
    fields = fields_for(frozenset(tables))
    chunks: list[Chunk] = []
    decoded: list[_Decoded] = []
    for shard, data in zip(shards, reads, strict=True):
        try:
            if isinstance(data, VisionResultsError):
                raise data
            decoded.append(_decode(data, shard, fields))
        except VisionResultsError as exc:
            chunks += _flatten(decoded, tables)
            chunks.append(Chunk([ShardResult(shard, error=exc)], {}))
            decoded = []
    return chunks + _flatten(decoded, tables)


def _read(shard: Shard, limit: int, read: Callable[[Shard], Data]) -> Data | VisionResultsError:
    """The shard's bytes as ``read`` gives them, or the error that stopped reading it."""
    if shard.size > limit:
        return ShardError(
            shard.location,
            f"{shard.size / 1e6:,.0f} MB is more than the {limit / 1e6:,.0f} MB "
            "a shard may have (Vision writes at most 100 responses per file); raise the "
            "limit with --max-shard-mb (max_shard_bytes=) if this is really one shard",
        )
    try:
        return read(shard)
    except VisionResultsError as exc:
        return exc


def _flatten(group: list[_Decoded], tables: tuple[str, ...]) -> list[Chunk]:
    """The tables of decoded shards, flattened together (no chunk for no shards).
    If the tables cannot take a value no decoder refused, each shard is flattened
    alone, so that only that shard is bad."""
    if not group:
        return []
    try:
        flat = flatten_shard(Batch.concat([item.batch for item in group]), tables)
    except (pa.ArrowException, TypeError, ValueError, IndexError) as exc:
        if len(group) > 1:
            return [chunk for item in group for chunk in _flatten([item], tables)]
        shard = group[0].result.shard
        error = ShardError(shard.location, f"not a Vision response ({type(exc).__name__}: {exc})")
        return [Chunk([ShardResult(shard, error=error)], {})]
    flat[answers.NAME] = pa.concat_tables([item.index for item in group])
    return [Chunk([item.result for item in group], flat)]
