"""The Dask engine: one export spread over the workers of a Dask cluster.

The client lists the SOURCE once (with the job manifest, as the local engine
does) and cuts the shards into tasks of consecutive shards. A task lists
nothing: it reads its shards through a Source built on the worker, parses and
flattens them and writes its own part files, ``<table>/part-<task>-<n>.parquet``.
Task numbers are zero-padded, so the part files sorted by name are in shard
order and a folder reads back in the same row order as the local engine's. A
task sends back only a small report (per shard: its counts or its error); the
client writes ``_export.json`` once, at the end, with the same
:class:`~vision_results.report.ExportReport`.

DEST is a folder every worker sees (the client's machine, or a shared file
system), staged and renamed as by the local engine, or ``gs://BUCKET/PREFIX``,
staged under ``gs://BUCKET/.PREFIX.partial-<id>/`` (see
:func:`gcs_staged`). dask and distributed are imported only here,
and only when this engine runs: they are the optional extra ``[dask]``.
"""

from __future__ import annotations

import functools
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.fs as pafs

from vision_results import answers
from vision_results.check import errors_by_code, missing_images
from vision_results.dedupe import drop, superseded
from vision_results.errors import DestinationError, VisionResultsError
from vision_results.export import OnError, list_shards, schema_of, start_report
from vision_results.progress import tqdm
from vision_results.report import ExportReport
from vision_results.source import (
    EXPORT_RECORD,
    GcsSource,
    LocalSource,
    Shard,
    Source,
    open_source,
    storage_client,
)
from vision_results.stream import ShardResult, parsing, stream_chunks
from vision_results.writer import StagedDestination, TableWriter, keep_within_budget, rows_in

if TYPE_CHECKING:
    from distributed import Client, Event, Future

TASK_BYTES = 64 << 20
"""A task takes consecutive shards up to this many bytes (at least one shard)..."""
TASK_SHARDS = 32
"""... and at most this many: tasks short enough to balance the workers and to redo
cheaply when a worker is lost, long enough that parts are not thousands of tiny files."""
DOWNLOADS_PER_TASK = 2
"""Shards a task downloads at once: the next one arrives while this one is parsed."""
COPY_THREADS = 16
STOP_TIMEOUT = 120.0
"""Seconds a failed export waits for running tasks to stop before removing the staging."""


def plan_tasks(shards: list[Shard]) -> list[list[Shard]]:
    """Cut the shards, in order, into runs of at most ``TASK_BYTES`` and ``TASK_SHARDS``."""
    tasks: list[list[Shard]] = []
    size = 0
    for shard in shards:
        if not tasks or size + shard.size > TASK_BYTES or len(tasks[-1]) >= TASK_SHARDS:
            tasks.append([])
            size = 0
        tasks[-1].append(shard)
        size += shard.size
    return tasks


def gcs_filesystem() -> pafs.GcsFileSystem:
    """pyarrow's GCS filesystem, built where it is used (client or worker) from that
    machine's environment: ``STORAGE_EMULATOR_HOST`` (an emulator, no credentials),
    else Application Default Credentials, as :func:`~vision_results.source.storage_client`."""
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if not emulator:
        return pafs.GcsFileSystem()
    scheme, _, host = emulator.rpartition("://")
    return pafs.GcsFileSystem(anonymous=True, scheme=scheme or "http", endpoint_override=host)


@dataclass(frozen=True)
class Target:
    """Where the part files go, as every machine sees it: a local path or a GCS path
    (``bucket/object-prefix``, the form of pyarrow's filesystem)."""

    root: str
    gcs: bool

    def filesystem(self) -> pafs.FileSystem | None:
        return gcs_filesystem() if self.gcs else None

    def writers(self, tables: list[str], stem: str) -> dict[str, TableWriter]:
        filesystem = self.filesystem()
        return {
            name: TableWriter(
                f"{self.root}/{name}", schema_of(name), filesystem=filesystem, stem=stem
            )
            for name in tables
        }

    def write_bytes(self, name: str, data: bytes) -> None:
        filesystem = self.filesystem()
        if filesystem is None:
            Path(self.root, name).write_bytes(data)
            return
        with filesystem.open_output_stream(f"{self.root}/{name}") as out:
            out.write(data)


def _files(filesystem: pafs.FileSystem, path: str) -> list[str]:
    selector = pafs.FileSelector(path, recursive=True, allow_not_found=True)
    return [i.path for i in filesystem.get_file_info(selector) if i.type == pafs.FileType.File]


@contextmanager
def gcs_staged(filesystem: pafs.FileSystem, url: str, *, overwrite: bool) -> Iterator[str]:
    """:class:`~vision_results.writer.StagedDestination` for ``gs://BUCKET/PREFIX``,
    where nothing can be renamed; yields the staging path.

    The export is written under ``gs://BUCKET/.PREFIX.partial-<id>/``; a failed
    export removes it, a killed one leaves it (and nothing under PREFIX). On
    success each object is copied (server-side) to its final name, with
    ``_export.json`` last: an object under a final name is always complete (GCS
    writes are atomic), and ``PREFIX/_export.json`` exists only once every table
    is. With ``overwrite``, the old ``_export.json`` is deleted before anything
    else is touched and the old objects that the new export does not replace are
    deleted before the new one is written, so a DEST holding ``_export.json`` is
    always exactly what it describes; without it, DEST is an interrupted export.
    """
    bucket, _, prefix = url.removeprefix("gs://").strip("/").partition("/")
    if not bucket or not prefix:
        raise DestinationError(f"{url}: write DEST as gs://BUCKET/PREFIX (not a whole bucket).")
    dest = f"{bucket}/{prefix}"
    try:
        exists = bool(_files(filesystem, dest))
    except OSError as exc:
        raise DestinationError(f"{url}: cannot list the destination ({exc})") from exc
    if exists and not overwrite:
        raise DestinationError(
            f"{url} already holds objects. Choose another DEST or pass --overwrite "
            "(overwrite=True) to replace them."
        )
    parent, _, name = dest.rpartition("/")
    staging = f"{parent}/.{name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        yield staging
    except BaseException:
        with suppress(OSError):
            filesystem.delete_dir_contents(staging, missing_dir_ok=True)
        raise
    try:
        _commit(filesystem, staging, dest)
    except OSError as error:
        raise DestinationError(
            f"gs://{dest}: copying the export into place failed ({error}); "
            f"it is complete under gs://{staging}/"
        ) from error


def _commit(fs: pafs.FileSystem, staging: str, dest: str) -> None:
    record = f"{dest}/{EXPORT_RECORD}"
    old = set(_files(fs, dest))
    if record in old:
        fs.delete_file(record)
    final = {path: dest + path.removeprefix(staging) for path in _files(fs, staging)}
    parts = [path for path, name in final.items() if name != record]
    with ThreadPoolExecutor(COPY_THREADS) as pool:
        list(pool.map(fs.delete_file, sorted(old - set(final.values()))))
        list(pool.map(fs.copy_file, parts, [final[path] for path in parts]))
    fs.copy_file(f"{staging}/{EXPORT_RECORD}", record)
    fs.delete_dir_contents(staging, missing_dir_ok=True)


@contextmanager
def staged_target(dest: str | os.PathLike[str], overwrite: bool) -> Iterator[Target]:
    """The staging place of DEST; it becomes DEST when the block ends without error."""
    text = os.fspath(dest)
    if text.startswith("gs://"):
        with gcs_staged(gcs_filesystem(), text, overwrite=overwrite) as path:
            yield Target(path, gcs=True)
    else:
        with StagedDestination(Path(text), overwrite=overwrite) as staging:
            yield Target(str(staging.resolve()), gcs=False)


@functools.cache
def _worker_storage_client() -> Any:
    """One storage client per worker process, shared by its tasks."""
    return storage_client()


def worker_source(location: str) -> Source:
    """The SOURCE rebuilt on a worker: only ``read`` is used there."""
    if location.startswith("gs://"):
        return GcsSource(location, _worker_storage_client())
    return LocalSource(Path(location))


@dataclass
class TaskReport:
    """What a task sends back: per shard, its counts or its error (its tables stay
    in the part files), and the rows written per table."""

    number: int
    results: list[ShardResult]
    rows: dict[str, int]


def run_task(
    number: int,
    shards: list[Shard],
    location: str,
    target: Target,
    tables: list[str],
    stem: str,
    stop_at_error: bool,
    stop: Event,
) -> TaskReport:
    """Read, flatten and write one task's shards (runs on a worker).

    A bad shard ends the task when ``stop_at_error``; ``stop`` is set by the
    client when the export has failed, and ends every task at its next shard.
    Running a task again (a lost worker) writes the same part names again.
    """
    writers = target.writers([*tables, answers.NAME], stem)
    done: list[ShardResult] = []
    chunks = stream_chunks(worker_source(location), shards, tables, workers=DOWNLOADS_PER_TASK)
    with closing(chunks), parsing():
        for chunk in chunks:
            if stop.is_set():
                break
            done += chunk.results
            if chunk.results[-1].error is not None and stop_at_error:
                break  # a bad shard is a chunk of its own
            for name, table in chunk.tables.items():
                writers[name].write(table)
            keep_within_budget(writers.values())
    # No file for a table this task has no rows of: the client makes one per empty table.
    rows = {name: writer.close() if writer.rows else 0 for name, writer in writers.items()}
    return TaskReport(number, done, rows)


@contextmanager
def _connect(scheduler: str | Client) -> Iterator[Client]:
    from distributed import Client

    if isinstance(scheduler, Client):
        yield scheduler
        return
    try:
        client = Client(scheduler, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise VisionResultsError(
            f"cannot reach the Dask scheduler at {scheduler} ({exc}). Check --scheduler."
        ) from exc
    with client:
        yield client


def _collect(
    futures: list[Future[TaskReport]], shards: int, on_error: OnError, progress: bool | None
) -> list[TaskReport]:
    """Task reports as tasks finish; the first bad shard is raised with ``"raise"``."""
    from distributed import as_completed

    bar = tqdm(
        total=shards,
        unit="shard",
        desc="export",
        dynamic_ncols=True,
        disable=None if progress is None else not progress,
    )
    reports, images, nbytes = [], 0, 0
    with bar:
        for future in as_completed(futures):
            task: TaskReport = future.result()
            for result in task.results:
                if result.error is not None and on_error == "raise":
                    raise result.error
            reports.append(task)
            images += sum(result.responses for result in task.results)
            nbytes += sum(result.nbytes for result in task.results)
            bar.update(len(task.results))
            bar.set_postfix(images=images, MB=f"{nbytes / 1e6:.0f}")
    return reports


def export_dask(
    source: str | os.PathLike[str] | Source,
    dest: str | os.PathLike[str],
    *,
    scheduler: str | Client | None,
    tables: list[str],
    on_error: OnError,
    overwrite: bool,
    keep_all: bool,
    client: Any,
    progress: bool | None,
    include: Sequence[str] | None = None,
) -> ExportReport:
    """:func:`~vision_results.export` with ``engine="dask"`` (checked arguments)."""
    try:
        from distributed import Event, wait
    except ImportError as exc:
        raise VisionResultsError(
            "the Dask engine needs dask and distributed: pip install 'vision-results[dask]' "
            "(on the client and on every worker)."
        ) from exc
    if scheduler is None:
        raise VisionResultsError(
            "the Dask engine needs the scheduler: --scheduler ADDRESS (scheduler=ADDRESS "
            "or a distributed.Client), e.g. tcp://10.0.0.2:8786."
        )
    started = time.perf_counter()
    reader = open_source(source, client=client, include=include)
    if isinstance(reader, LocalSource):
        # Workers resolve paths against their own working folder.
        reader = LocalSource(reader.path.resolve())
    elif not isinstance(reader, GcsSource):
        raise VisionResultsError(
            f"the Dask engine reads gs://BUCKET/PREFIX or a local path, not a {type(reader)}."
        )
    # DEST and the scheduler are checked before listing, which can take minutes.
    with staged_target(dest, overwrite) as target, _connect(scheduler) as dask:
        listing, manifest = list_shards(reader)
        report = start_report(reader, listing, tables)
        tasks = plan_tasks(listing.shards)
        width = max(5, len(str(len(tasks))))
        run = uuid.uuid4().hex[:8]
        stop = Event(f"vision-results-stop-{run}", client=dask)
        futures = [
            dask.submit(
                run_task,
                number,
                shards,
                reader.location,
                target,
                tables,
                f"part-{number:0{width}d}",
                on_error == "raise",
                stop,
                key=f"vision-results-export-{run}-{number:0{width}d}",
            )
            for number, shards in enumerate(tasks)
        ]
        try:
            reports = _collect(futures, len(listing.shards), on_error, progress)
        except BaseException:
            # Let running tasks stop before the staging is removed under them.
            stop.set()
            with suppress(Exception):
                wait(futures, timeout=STOP_TIMEOUT)
            raise
        finally:
            dask.cancel(futures)
            with suppress(Exception):
                stop.clear()
        for task in sorted(reports, key=lambda task: task.number):
            for result in task.results:
                report.add(result)
        written = [*tables, answers.NAME]
        rows = {name: sum(task.rows[name] for task in reports) for name in written}
        report.rows = {name: rows[name] for name in tables}
        empty = [name for name, count in rows.items() if not count]
        for writer in target.writers(empty, f"part-{0:0{width}d}").values():
            writer.close()  # an empty table still gets one file, as with the local engine
        index, filesystem = f"{target.root}/{answers.NAME}", target.filesystem()
        report.keep_all = keep_all
        if not keep_all:  # as the local engine does (dedupe.py), once all parts are written
            losers = superseded(index, report.shards, filesystem)
            drop(target.root, written, losers, filesystem)
            report.superseded = len(losers)
            report.rows = {name: rows_in(f"{target.root}/{name}", filesystem) for name in tables}
        report.errors_by_code = errors_by_code(index, filesystem)
        if manifest is not None:
            report.missing_images = missing_images(index, manifest.images, filesystem)
        report.seconds = time.perf_counter() - started
        target.write_bytes(EXPORT_RECORD, report.to_json())
    return report
