"""The Dask engine: one export spread over the workers of a Dask cluster.

The export is planned and finished on this machine by
:mod:`vision_results.pipeline`, as for the local engine: the SOURCE is listed
once (with the job manifest), DEST staged, an earlier run picked up with
``resume``. The shards still to read are cut into tasks of consecutive shards. A
task lists nothing: it reads its shards through a Source rebuilt on the worker
from the same :class:`~vision_results.options.ExportOptions`, decodes, flattens
and writes its own part files into the staging place,
``<table>/part-<run>-<task>-<n>.parquet``: zero-padded, so the part files sorted
by name are in shard order and a folder reads back in the same row order as the
local engine's. A task sends back only a small report (per shard: its counts or
its error, and the parts it wrote); this machine records them as tasks finish
(``_progress.json`` every ``checkpoint_bytes``), so a killed export resumes with
``resume=True`` from its finished tasks.

DEST is a folder every worker sees (this machine's, or a shared file system), or
``gs://BUCKET/PREFIX`` (:mod:`vision_results.destination`). dask and distributed
are imported only here, and only when this engine runs: they are the optional
extra ``[dask]``.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.fs as pafs

from vision_results import answers
from vision_results.errors import UsageError, VisionResultsError
from vision_results.options import ExportOptions
from vision_results.pipeline import Plan, finish, planned, schema_of
from vision_results.progress import tqdm
from vision_results.report import ExportReport
from vision_results.source import GcsSource, LocalSource, Shard, Source
from vision_results.storage import gcs_filesystem, storage_client
from vision_results.stream import ShardResult, parsing, stream_chunks
from vision_results.writer import TableWriter, keep_within_budget

if TYPE_CHECKING:
    from distributed import Client, Event, Future

TASK_BYTES = 64 << 20
"""A task takes consecutive shards up to this many bytes (at least one shard)..."""
TASK_SHARDS = 32
"""... and at most this many: tasks short enough to balance the workers and to redo
cheaply when a worker is lost, long enough that parts are not thousands of tiny files."""
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


@dataclass(frozen=True)
class Target:
    """The staging place as every machine sees it: a local path, or a GCS path
    (``bucket/object-prefix``, the form of pyarrow's filesystem)."""

    root: str
    gcs: bool

    def filesystem(self) -> pafs.FileSystem:
        return gcs_filesystem() if self.gcs else pafs.LocalFileSystem()


@functools.cache
def _worker_storage_client() -> Any:
    """One storage client per worker process, shared by its tasks."""
    return storage_client()


def worker_source(location: str, options: ExportOptions) -> Source:
    """The SOURCE rebuilt on a worker, with the export's options: only ``read`` is used."""
    if location.startswith("gs://"):
        return GcsSource(location, _worker_storage_client(), deadline=options.retry_deadline)
    return LocalSource(Path(location))


@dataclass
class TaskReport:
    """What a task sends back: per shard its counts or its error (its rows are in
    its part files), and those parts' names by table."""

    number: int
    results: list[ShardResult]
    parts: dict[str, list[str]]
    options: ExportOptions
    """The options the task ran with: the client's, whole."""


def run_task(
    number: int,
    shards: list[Shard],
    location: str,
    target: Target,
    options: ExportOptions,
    stem: str,
    stop: Event,
) -> TaskReport:
    """Read, flatten and write one task's shards (runs on a worker).

    A bad shard ends the task when ``on_error`` is "raise"; ``stop`` is set by the
    client when the export has failed, and ends every task at its next shard.
    Running a task again (a lost worker) writes the same part names again.
    """
    filesystem = target.filesystem()
    writers = {
        name: TableWriter(
            f"{target.root}/{name}", schema_of(name), filesystem=filesystem, stem=stem
        )
        for name in [*options.tables, answers.NAME]
    }
    done: list[ShardResult] = []
    chunks = stream_chunks(
        worker_source(location, options), shards, options.tables, workers=options.workers,
        max_shard_bytes=options.max_shard_bytes,
    )  # fmt: skip
    with closing(chunks), parsing():
        for chunk in chunks:
            if stop.is_set():
                break
            done += chunk.results
            if chunk.results[-1].error is not None and options.on_error == "raise":
                break  # a bad shard is a chunk of its own
            for name, table in chunk.tables.items():
                writers[name].write(table)
            keep_within_budget(writers.values())
    # No file for a table this task has no rows of: finish() makes one per empty table.
    parts = {name: writer.checkpoint() if writer.rows else [] for name, writer in writers.items()}
    return TaskReport(number, done, parts, options)


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


def export_dask(
    source: str | os.PathLike[str] | Source,
    dest: str | os.PathLike[str],
    options: ExportOptions,
    *,
    scheduler: str | Client | None,
    client: Any,
) -> ExportReport:
    """:func:`~vision_results.export` with ``engine="dask"``."""
    try:
        from distributed import Event
    except ImportError as exc:
        raise VisionResultsError(
            "the Dask engine needs dask and distributed: pip install 'vision-results[dask]' "
            "(on the client and on every worker)."
        ) from exc
    if scheduler is None:
        raise UsageError(
            "the Dask engine needs the scheduler: --scheduler ADDRESS (scheduler=ADDRESS "
            "or a distributed.Client), e.g. tcp://10.0.0.2:8786."
        )
    options.refuse("Dask", ["processes"])
    if not isinstance(source, str | os.PathLike):
        raise UsageError(
            f"the Dask engine reads gs://BUCKET/PREFIX or a local path, not a {type(source)}: "
            "its workers rebuild the source from its location."
        )
    # The scheduler and DEST are checked before listing, which can take minutes.
    with _connect(scheduler) as dask, planned(source, dest, options, client) as plan:
        stop = Event(f"vision-results-stop-{uuid.uuid4().hex[:8]}", client=dask)
        try:
            _run(plan, dask, stop)
        finally:
            with suppress(Exception):
                stop.clear()
        return finish(plan)


def _run(plan: Plan, dask: Client, stop: Event) -> None:
    """Submit the tasks, record each as it finishes, raise the first bad shard."""
    from distributed import as_completed

    options, report = plan.options, plan.report
    tasks = plan_tasks(plan.todo)
    width = max(5, len(str(len(tasks))))
    run = f"{plan.progress.runs:03d}"
    gcs = not isinstance(plan.staging.filesystem, pafs.LocalFileSystem)
    target = Target(plan.staging.root, gcs)
    futures: list[Future[TaskReport]] = [
        dask.submit(
            run_task,
            number,
            shards,
            plan.reader.location,
            target,
            options,
            f"part-{run}-{number:0{width}d}",
            stop,
            key=f"vision-results-export-{uuid.uuid4().hex[:8]}-{number:0{width}d}",
        )
        for number, shards in enumerate(tasks)
    ]
    order = {shard.name: i for i, shard in enumerate(plan.listing.shards)}
    parts = {name: list(plan.progress.parts.get(name, ())) for name in plan.written}
    bar = tqdm(total=len(plan.todo), unit="shard", desc="export", dynamic_ncols=True,
               disable=None if options.progress is None else not options.progress)  # fmt: skip
    unsaved = 0
    try:
        with bar:
            for future in as_completed(futures, loop=dask.loop):
                task: TaskReport = future.result()
                for result in task.results:
                    if result.error is not None and options.on_error == "raise":
                        raise result.error
                    report.add(result)
                    unsaved += result.shard.size
                for name, names in task.parts.items():
                    parts[name] += names
                bar.update(len(task.results))
                bar.set_postfix(images=report.images, MB=f"{report.bytes_read / 1e6:.0f}")
                if unsaved >= options.checkpoint_bytes:
                    plan.checkpoint({name: sorted(names) for name, names in parts.items()})
                    unsaved = 0
    except BaseException:
        # Let running tasks stop before the staging is removed under them.
        stop.set()
        with suppress(Exception):
            for _ in as_completed(futures, dask.loop, raise_errors=False, timeout=STOP_TIMEOUT):
                pass
        if options.resume:
            plan.checkpoint({name: sorted(names) for name, names in parts.items()})
        raise
    finally:
        dask.cancel(futures)
    report.shards.sort(key=lambda record: order.get(record.name, -1))
    report.skipped_shards.sort(key=lambda skipped: order.get(skipped.name, -1))
    plan.checkpoint({name: sorted(names) for name, names in parts.items()})
