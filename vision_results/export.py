"""``export``: SOURCE -> ``DEST/<table>/part-*.parquet`` plus ``DEST/_export.json``.

The command line and the notebook API both end up here. This module runs the
local engine; ``engine="dask"`` is handed to :mod:`vision_results.distributed`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any, Literal

from vision_results.check import errors_by_code, missing_images
from vision_results.dedupe import drop, superseded
from vision_results.errors import DestinationError, VisionResultsError
from vision_results.jobs.layout import annotate
from vision_results.jobs.manifest import JobManifest
from vision_results.progress import tqdm
from vision_results.report import ExportReport, Skipped
from vision_results.resume import PROGRESS, Progress, drop_shards, find_staging, start, to_read
from vision_results.source import DEFAULT_DEADLINE, EXPORT_RECORD, Listing, Source, open_source
from vision_results.stream import (
    DEFAULT_WORKERS,
    MAX_SHARD_BYTES,
    auto_processes,
    parsing,
    stream_shards,
)
from vision_results.tables import SCHEMAS, TABLE_NAMES
from vision_results.writer import (
    StagedDestination,
    TableWriter,
    keep_within_budget,
    rows_in,
)

CHECKPOINT_BYTES = 512 << 20
"""How many bytes of shards are read between two checkpoints (resume.py)."""

OnError = Literal["raise", "skip"]
Engine = Literal["local", "dask"]


def check_tables(tables: Iterable[str] | None) -> list[str]:
    """The asked-for table names in reference order; all when None."""
    if tables is None:
        return list(TABLE_NAMES)
    wanted = set(tables)
    unknown = wanted - set(TABLE_NAMES)
    if unknown:
        raise VisionResultsError(
            f"unknown table(s): {', '.join(sorted(unknown))}. Known: {', '.join(TABLE_NAMES)}."
        )
    return [name for name in TABLE_NAMES if name in wanted]


def list_shards(reader: Source) -> tuple[Listing, JobManifest | None]:
    """List the SOURCE once; with a job manifest, tell each shard its inputs."""
    listing = reader.list()
    if listing.manifest is None:
        return listing, None
    manifest = JobManifest.from_json(reader.read(listing.manifest), listing.manifest.location)
    listing.shards = annotate(manifest, listing.shards)
    return listing, manifest


def start_report(listing: Listing, names: list[str]) -> ExportReport:
    """The report before any shard is read: the source and what its listing ignored."""
    return ExportReport(
        source=listing.source,
        tables=names,
        ignored_objects=[Skipped(name, reason) for name, reason in listing.ignored],
    )


def export(
    source: str | os.PathLike[str] | Source,
    dest: str | os.PathLike[str],
    *,
    tables: Iterable[str] | None = None,
    on_error: OnError = "raise",
    workers: int = DEFAULT_WORKERS,
    processes: int | None = None,
    overwrite: bool = False,
    resume: bool = False,
    keep_all: bool = False,
    client: Any = None,
    progress: bool | None = None,
    engine: Engine = "local",
    scheduler: Any = None,
    checkpoint_bytes: int = CHECKPOINT_BYTES,
    max_shard_bytes: int = MAX_SHARD_BYTES,
    retry_deadline: float = DEFAULT_DEADLINE,
) -> ExportReport:
    """Export every Vision response under SOURCE to Parquet tables in DEST.

    ``on_error="raise"`` stops at the first bad shard with a :class:`ShardError`
    and leaves nothing under DEST; ``"skip"`` goes on and lists the shard and
    the reason in the report. ``workers`` shards are downloaded at once;
    ``processes`` parse them (0: parse in the download threads; None: one per
    core when the source holds 64 MB or more, unless this runs in a script run
    by path, which would run again in each process: there, guard the script
    with ``if __name__ == "__main__":`` and pass ``processes``).
    ``progress=None`` shows a bar on a terminal only.
    SOURCE may also be a ready :class:`~vision_results.source.Source`, e.g.
    ``GcsSource(url, client, retry=...)`` to choose how downloads are retried.

    ``resume=True`` continues a killed or stopped export to DEST, or brings a
    finished one up to date with SOURCE, reading only new and changed shards
    (:mod:`vision_results.resume`); progress is recorded every
    ``checkpoint_bytes`` of shards read. One answer per image is kept unless
    ``keep_all`` (:mod:`vision_results.dedupe`); ``images`` is then always
    written, since that is where duplicates are found. Shards larger than
    ``max_shard_bytes`` are refused unread. Each listing page and download of a
    ``gs://`` SOURCE is retried (503, 429, 500, resets, timeouts) for up to
    ``retry_deadline`` seconds.

    ``engine="dask"`` runs the export on the Dask cluster ``scheduler`` (an
    address or a ``distributed.Client``); DEST may then be ``gs://BUCKET/PREFIX``.
    ``workers``, ``processes``, ``resume`` and ``checkpoint_bytes`` are for the
    local engine. See :mod:`vision_results.distributed`.
    """
    if on_error not in ("raise", "skip"):
        raise VisionResultsError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    names = check_tables(tables if keep_all or tables is None else [*tables, "images"])
    if engine == "dask":
        if resume:
            raise VisionResultsError("resume is for the local engine; the Dask engine starts over.")
        from vision_results.distributed import export_dask

        return export_dask(
            source, dest, scheduler=scheduler, tables=names, on_error=on_error,
            overwrite=overwrite, keep_all=keep_all, client=client, progress=progress,
        )  # fmt: skip
    if engine != "local":
        raise VisionResultsError(f"engine must be 'local' or 'dask', not {engine!r}")
    if scheduler is not None:
        raise VisionResultsError("scheduler is for engine='dask'; pass engine='dask' too.")
    if os.fspath(dest).startswith("gs://"):
        raise DestinationError(
            f"{os.fspath(dest)}: the local engine writes a local folder. Use the Dask engine "
            "(--engine dask, engine='dask') for a gs:// DEST, or copy the folder afterwards."
        )
    started = time.perf_counter()
    reader = open_source(source, client=client, retry_deadline=retry_deadline)
    listing, manifest = list_shards(reader)
    target = Path(dest)
    staged = StagedDestination(
        target,
        overwrite=overwrite or resume,
        staging=find_staging(target) if resume else None,
        keep_on_error=resume,
    )
    with staged as staging, parsing():
        if resume:
            done = start(staging, target, listing.source, names, keep_all)
        else:
            done = Progress(ExportReport(listing.source, names), keep_all=keep_all)
        todo, stale = to_read(done, listing.shards)
        drop_shards(staging, names, [record.name for record in stale])
        report = done.report
        report.keep_all = keep_all
        report.ignored_objects = [Skipped(name, reason) for name, reason in listing.ignored]
        report.reused_shards = len(report.shards)
        report.replaced_shards = [record.name for record in stale]
        report.bytes_read = 0
        writers = {
            name: TableWriter(
                staging / name, SCHEMAS[name], first_part=len(done.parts.get(name, ()))
            )
            for name in names
        }
        _checkpoint(done, writers, staging)
        if processes is None:
            processes = auto_processes(todo)
        results = stream_shards(
            reader, todo, names, workers=workers, processes=processes,
            max_shard_bytes=max_shard_bytes,
        )  # fmt: skip
        bar = tqdm(
            total=len(todo),
            unit="shard",
            desc="export",
            dynamic_ncols=True,
            disable=None if progress is None else not progress,
        )
        unsaved = 0
        with bar, closing(results):
            for result in results:
                if result.error is not None and on_error == "raise":
                    if resume:
                        _checkpoint(done, writers, staging)
                    raise result.error
                for name, table in result.tables.items():
                    writers[name].write(table)
                keep_within_budget(writers.values())
                report.add(result)
                unsaved += result.shard.size
                if unsaved >= checkpoint_bytes:
                    _checkpoint(done, writers, staging)
                    unsaved = 0
                bar.update()
                bar.set_postfix(images=report.images, MB=f"{report.bytes_read / 1e6:.0f}")
        for writer in writers.values():
            writer.close()
        _finish(report, staging, manifest)
        report.seconds = time.perf_counter() - started
        (staging / EXPORT_RECORD).write_bytes(report.to_json())
        (staging / PROGRESS).unlink()
    return report


def _finish(report: ExportReport, staging: Path, manifest: JobManifest | None) -> None:
    """After the last shard: drop superseded answers, then count what is there."""
    images = staging / "images"
    if not report.keep_all:
        losers = superseded(images, report.shards)
        drop(staging, report.tables, losers)
        report.superseded += len(losers)
    if "images" in report.tables:
        report.errors_by_code = errors_by_code(images)
        if manifest is not None:
            report.missing_images = missing_images(images, manifest.images)
    report.rows = {name: rows_in(staging / name) for name in report.tables}
    report.recount()


def _checkpoint(done: Progress, writers: dict[str, TableWriter], staging: Path) -> None:
    """Close every part file and record them with the shards they hold."""
    done.parts = {name: writer.checkpoint() for name, writer in writers.items()}
    done.save(staging)
