"""``export``: SOURCE -> ``DEST/<table>/part-*.parquet`` plus ``DEST/_export.json``.

The command line and the notebook API both end up here. This module runs the
local engine; ``engine="dask"`` is handed to :mod:`vision_results.distributed`.
"""

from __future__ import annotations

import difflib
import os
import time
from collections.abc import Iterable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from vision_results import answers
from vision_results.check import errors_by_code, missing_images
from vision_results.dedupe import drop, superseded
from vision_results.errors import (
    DestinationError,
    ShardError,
    SourceError,
    UsageError,
)
from vision_results.jobs.layout import annotate
from vision_results.jobs.manifest import JobManifest
from vision_results.parse import parse_shard
from vision_results.progress import tqdm
from vision_results.report import ExportReport, Skipped
from vision_results.resume import PROGRESS, Progress, drop_shards, find_staging, start, to_read
from vision_results.source import EXPORT_RECORD, Listing, Source, open_source
from vision_results.stream import DEFAULT_WORKERS, MAX_SHARD_BYTES, parsing, stream_chunks
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
    if not wanted:
        raise UsageError(f"no table names given. Give one or more of: {', '.join(TABLE_NAMES)}.")
    unknown = sorted(wanted - set(TABLE_NAMES))
    if unknown:
        raise UsageError(f"{unknown_table(unknown[0])} Known: {', '.join(TABLE_NAMES)}.")
    return [name for name in TABLE_NAMES if name in wanted]


def unknown_table(name: str) -> str:
    """ "unknown table X", with the closest names when there are any."""
    close = difflib.get_close_matches(name, TABLE_NAMES, n=2, cutoff=0.6)
    hint = f" (did you mean {' or '.join(close)}?)." if close else "."
    return f"unknown table: {name}{hint}"


def check_apart(source: str | os.PathLike[str] | Source, dest: str | os.PathLike[str]) -> None:
    """Refuse a DEST inside SOURCE (a later export would read the tables' folder as
    shards) or a SOURCE inside DEST (``--overwrite`` would delete it)."""
    if not isinstance(source, str | os.PathLike):
        return
    one, other = os.fspath(source), os.fspath(dest)
    if one.startswith("gs://") != other.startswith("gs://"):
        return
    if _inside(other, one):
        raise UsageError(
            f"DEST {other} is inside SOURCE {one}: every later export of SOURCE would meet "
            "the tables there. Choose a DEST outside SOURCE."
        )
    if _inside(one, other):
        raise UsageError(
            f"SOURCE {one} is inside DEST {other}: writing DEST would replace it. Choose a "
            "DEST outside SOURCE."
        )


def _inside(inner: str, outer: str) -> bool:
    """Whether ``inner`` is ``outer`` or below it (both gs:// or both local paths)."""
    if outer.startswith("gs://"):
        return f"{inner.rstrip('/')}/".startswith(f"{outer.rstrip('/')}/")
    path, folder = Path(inner).resolve(), Path(outer).resolve()
    return path == folder or folder in path.parents


def unread_vision(reader: Source, listing: Listing) -> list[str]:
    """The ignored objects that hold Vision responses all the same (JSON files with
    names of their own): looked inside, so that none is left out silently."""
    found = []
    for shard in listing.candidates:
        if shard.size > MAX_SHARD_BYTES:
            continue
        try:
            if len(parse_shard(reader.read(shard), shard.name, shard.location, fields=frozenset())):
                found.append(shard.name)
        except (ShardError, SourceError):
            continue
    return found


def list_shards(reader: Source) -> tuple[Listing, JobManifest | None]:
    """List the SOURCE once; with a job manifest, tell each shard its inputs."""
    listing = reader.list()
    if listing.manifest is None:
        return listing, None
    manifest = JobManifest.from_json(reader.read(listing.manifest), listing.manifest.location)
    listing.shards = annotate(manifest, listing.shards)
    return listing, manifest


def start_report(reader: Source, listing: Listing, names: list[str]) -> ExportReport:
    """The report before any shard is read: the source, what its listing ignored and
    which of those hold Vision responses all the same."""
    unread = unread_vision(reader, listing)
    return ExportReport(
        source=listing.source,
        tables=names,
        ignored_objects=[
            Skipped(
                name, f"holds Vision responses, not read: {reason}" if name in unread else reason
            )
            for name, reason in listing.ignored
        ],
        unread_files=unread,
    )


def export(
    source: str | os.PathLike[str] | Source,
    dest: str | os.PathLike[str],
    *,
    tables: Iterable[str] | None = None,
    on_error: OnError = "raise",
    workers: int = DEFAULT_WORKERS,
    processes: int = 0,
    overwrite: bool = False,
    resume: bool = False,
    keep_all: bool = False,
    client: Any = None,
    progress: bool | None = None,
    engine: Engine = "local",
    scheduler: Any = None,
    checkpoint_bytes: int = CHECKPOINT_BYTES,
    max_shard_bytes: int = MAX_SHARD_BYTES,
    retry_deadline: float | None = None,
    include: Sequence[str] | None = None,
) -> ExportReport:
    """Export every Vision response under SOURCE to Parquet tables in DEST.

    ``on_error="raise"`` stops at the first bad shard with a :class:`ShardError`
    and leaves nothing under DEST; ``"skip"`` goes on and lists the shard and
    the reason in the report. ``workers`` shards are downloaded and decoded at
    once, in threads (pyarrow decodes outside the GIL, so they use every core);
    ``processes`` > 0 decodes in that many processes instead (a script run by
    path must then be guarded by ``if __name__ == "__main__":``, since each
    process imports it again).
    ``progress=None`` shows a bar on a terminal only.
    SOURCE may also be a ready :class:`~vision_results.source.Source`, e.g.
    ``GcsSource(url, client, retry=...)`` to choose how downloads are retried.

    ``resume=True`` continues a killed or stopped export to DEST, or brings a
    finished one up to date with SOURCE, reading only new and changed shards
    (:mod:`vision_results.resume`); progress is recorded every
    ``checkpoint_bytes`` of shards read. One answer per image is kept unless
    ``keep_all`` (:mod:`vision_results.dedupe`), found in the export's index of
    answers, ``DEST/_answers`` (:mod:`vision_results.answers`), which every
    export writes beside the tables asked for. Shards larger than
    ``max_shard_bytes`` are refused unread. Each listing page and download of a
    ``gs://`` SOURCE is retried (503, 429, 500, resets, timeouts) for up to
    ``retry_deadline`` seconds (None: 120 s, but a refused connection while listing
    fails at once). ``include``: globs of the shards to read, matched against their
    path under SOURCE or their file name (default: every ``*.json`` of a local
    folder, ``output-N-to-M.json`` under a ``gs://`` prefix); other JSON files that
    hold Vision responses are named in the report, which is then incomplete.

    ``engine="dask"`` runs the export on the Dask cluster ``scheduler`` (an
    address or a ``distributed.Client``); DEST may then be ``gs://BUCKET/PREFIX``.
    ``workers``, ``processes``, ``resume`` and ``checkpoint_bytes`` are for the
    local engine. See :mod:`vision_results.distributed`.
    """
    if on_error not in ("raise", "skip"):
        raise UsageError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    if tables is not None:
        tables = list(tables)
        check_tables(tables)
    names = check_tables(tables)
    check_apart(source, dest)
    if engine == "dask":
        if resume:
            raise UsageError("resume is for the local engine; the Dask engine starts over.")
        from vision_results.distributed import export_dask

        return export_dask(
            source, dest, scheduler=scheduler, tables=names, on_error=on_error,
            overwrite=overwrite, keep_all=keep_all, client=client, progress=progress,
            include=include,
        )  # fmt: skip
    if engine != "local":
        raise UsageError(f"engine must be 'local' or 'dask', not {engine!r}")
    if scheduler is not None:
        raise UsageError("scheduler is for engine='dask'; pass engine='dask' too.")
    if os.fspath(dest).startswith("gs://"):
        raise DestinationError(
            f"{os.fspath(dest)}: the local engine writes a local folder. Use the Dask engine "
            "(--engine dask, engine='dask') for a gs:// DEST, or copy the folder afterwards."
        )
    started = time.perf_counter()
    reader = open_source(source, client=client, retry_deadline=retry_deadline, include=include)
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
            if done.report.shards and not (staging / answers.NAME).is_dir():
                raise DestinationError(
                    f"{target}: made by an earlier version of vision-results, without "
                    f"{answers.NAME}/; export again with --overwrite instead of --resume."
                )
        else:
            done = Progress(ExportReport(listing.source, names), keep_all=keep_all)
        todo, stale = to_read(done, listing.shards)
        written = [*names, answers.NAME]
        drop_shards(staging, written, [record.name for record in stale])
        report = done.report
        report.keep_all = keep_all
        looked = start_report(reader, listing, names)
        report.ignored_objects, report.unread_files = looked.ignored_objects, looked.unread_files
        report.reused_shards = len(report.shards)
        report.replaced_shards = [record.name for record in stale]
        report.bytes_read = 0
        writers = {
            name: TableWriter(
                staging / name, schema_of(name), first_part=len(done.parts.get(name, ()))
            )
            for name in written
        }
        _checkpoint(done, writers, staging)
        chunks = stream_chunks(
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
        with bar, closing(chunks):
            for chunk in chunks:
                for name, table in chunk.tables.items():
                    writers[name].write(table)
                keep_within_budget(writers.values())
                for result in chunk.results:  # a bad shard is a chunk of its own
                    if result.error is not None and on_error == "raise":
                        if resume:
                            _checkpoint(done, writers, staging)
                        raise result.error
                    report.add(result)
                    unsaved += result.shard.size
                bar.update(len(chunk.results))
                bar.set_postfix(images=report.images, MB=f"{report.bytes_read / 1e6:.0f}")
                if unsaved >= checkpoint_bytes:
                    _checkpoint(done, writers, staging)
                    unsaved = 0
        for writer in writers.values():
            writer.close()
        _finish(report, staging, manifest)
        report.seconds = time.perf_counter() - started
        (staging / EXPORT_RECORD).write_bytes(report.to_json())
        (staging / PROGRESS).unlink()
    return report


def _finish(report: ExportReport, staging: Path, manifest: JobManifest | None) -> None:
    """After the last shard: drop superseded answers, then count what is there."""
    index = staging / answers.NAME
    if not report.keep_all:
        losers = superseded(index, report.shards)
        drop(staging, [*report.tables, answers.NAME], losers)
        report.superseded += len(losers)
    report.errors_by_code = errors_by_code(index)
    if manifest is not None:
        report.missing_images = missing_images(index, manifest.images)
    report.rows = {name: rows_in(staging / name) for name in report.tables}
    report.recount()


def schema_of(name: str) -> pa.Schema:
    """The schema of a table, or of the export's index of answers."""
    return answers.SCHEMA if name == answers.NAME else SCHEMAS[name]


def _checkpoint(done: Progress, writers: dict[str, TableWriter], staging: Path) -> None:
    """Close every part file and record them with the shards they hold."""
    done.parts = {name: writer.checkpoint() for name, writer in writers.items()}
    done.save(staging)
