"""An export as both engines run it: plan, then (the engine reads and writes), finish.

list -> read -> parse -> flatten -> write -> finish. :func:`planned` lists the
SOURCE, reads the job manifest, stages the DEST, picks up what an earlier run
wrote (``--resume``) and says which shards are still to read; an engine reads
those shards and writes their parts into the staging place (:mod:`export` here,
:mod:`distributed` on a Dask cluster); :func:`finish` drops superseded answers,
does the accounting, writes ``_export.json`` and commits.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from vision_results import answers
from vision_results.check import errors_by_code, missing_images
from vision_results.dedupe import drop, superseded
from vision_results.destination import Staging, open_destination
from vision_results.errors import ShardError, SourceError, UsageError
from vision_results.options import ExportOptions
from vision_results.parse import parse_shard
from vision_results.report import ExportReport, Skipped
from vision_results.resume import Progress, drop_shards, start, to_read
from vision_results.source import (
    EXPORT_RECORD,
    PROGRESS_RECORD,
    Listing,
    Shard,
    Source,
    open_source,
)
from vision_results.stream import MAX_SHARD_BYTES

if TYPE_CHECKING:
    from vision_results.jobs.manifest import JobManifest
from vision_results.tables import SCHEMAS
from vision_results.writer import TableWriter, rows_in


@dataclass
class Plan:
    """An export ready for an engine: what to read, where to write, what is done."""

    options: ExportOptions
    reader: Source
    listing: Listing
    manifest: JobManifest | None
    staging: Staging
    progress: Progress
    todo: list[Shard]
    started: float

    @property
    def report(self) -> ExportReport:
        return self.progress.report

    @property
    def written(self) -> list[str]:
        """The tables written: those asked for and the export's index of answers."""
        return [*self.options.tables, answers.NAME]

    def writer(self, table: str, stem: str = "part", first_part: int = 0) -> TableWriter:
        return TableWriter(self.staging.path(table), schema_of(table), stem=stem,
                           filesystem=self.staging.filesystem, first_part=first_part)  # fmt: skip

    def checkpoint(self, parts: dict[str, list[str]]) -> None:
        """Record ``parts`` as complete, with the shards of the report."""
        self.progress.parts = parts
        self.progress.save(self.staging)


def schema_of(name: str) -> pa.Schema:
    """The schema of a table, or of the export's index of answers."""
    return answers.SCHEMA if name == answers.NAME else SCHEMAS[name]


@contextmanager
def planned(
    source: str | os.PathLike[str] | Source,
    dest: str | os.PathLike[str],
    options: ExportOptions,
    client: Any = None,
) -> Iterator[Plan]:
    """The plan of an export (SOURCE and DEST checked apart by :func:`check_apart`);
    when the block fails, its staging place is removed (kept with ``resume``, for
    the next run to continue)."""
    started = time.perf_counter()
    reader = open_source(source, client=client, retry_deadline=options.retry_deadline,
                         include=options.include)  # fmt: skip
    destination = open_destination(dest, client)
    resume = options.resume
    try:
        staging = destination.stage(overwrite=options.overwrite or resume, resume=resume)
    except OSError as exc:
        raise destination.failed(exc, "cannot make the staging place") from exc
    try:
        listing, manifest = list_shards(reader)
        progress = (
            start(staging, listing.source, options.tables, options.keep_all)
            if resume
            else Progress(
                ExportReport(listing.source, list(options.tables)), keep_all=options.keep_all
            )
        )
        todo, stale = to_read(progress, listing.shards)
        plan = Plan(options, reader, listing, manifest, staging, progress, todo, started)
        drop_shards(staging, plan.written, [record.name for record in stale])
        report = progress.report
        report.keep_all = options.keep_all
        report.ignored_objects, report.unread_files = ignored(reader, listing)
        report.reused_shards = len(report.shards)
        report.replaced_shards = [record.name for record in stale]
        report.bytes_read = 0
        plan.checkpoint(progress.parts)
        yield plan
    except BaseException as exc:
        if not resume:
            staging.abort()
        if isinstance(exc, OSError):  # the SOURCE's are translated where it is read
            raise destination.failed(exc, "writing the export failed") from exc
        raise


def finish(plan: Plan) -> ExportReport:
    """After the last shard (the engine's last checkpoint records every part it
    wrote): drop superseded answers, count what is there, write the record and put
    the export in place."""
    report, staging = plan.report, plan.staging
    fs, index = staging.filesystem, staging.path(answers.NAME)
    for table in plan.written:
        parts = plan.progress.parts.setdefault(table, [])
        if not parts:  # a table without rows still has one empty part
            writer = plan.writer(table)
            writer.close()
            parts += writer.checkpoint()
        # Only the parts the engine recorded: not a file a task of a killed run wrote.
        staging.drop_parts(table, set(parts))
    if not report.keep_all:
        losers = superseded(index, report.shards, fs)
        drop(staging.root, plan.written, losers, fs)
        report.superseded += len(losers)
    report.errors_by_code = errors_by_code(index, fs)
    if plan.manifest is not None:
        report.missing_images = missing_images(index, plan.manifest.images, fs)
    report.rows = {name: rows_in(staging.path(name), fs) for name in report.tables}
    report.recount()
    report.seconds = time.perf_counter() - plan.started
    staging.write(EXPORT_RECORD, report.to_json())
    staging.delete(PROGRESS_RECORD)
    staging.commit()
    return report


def list_shards(reader: Source) -> tuple[Listing, JobManifest | None]:
    """List the SOURCE once; with a job manifest, tell each shard its inputs."""
    listing = reader.list()
    if listing.manifest is None:
        return listing, None
    # Imported here: vision_results.jobs (the Vision client) is loaded only for a job.
    from vision_results.jobs.layout import annotate
    from vision_results.jobs.manifest import JobManifest

    manifest = JobManifest.from_json(reader.read(listing.manifest), listing.manifest.location)
    listing.shards = annotate(manifest, listing.shards)
    return listing, manifest


def ignored(reader: Source, listing: Listing) -> tuple[list[Skipped], list[str]]:
    """What the listing left out, and which of those hold Vision responses all the
    same (JSON files with names of their own: looked inside, never silently lost)."""
    unread = [shard.name for shard in listing.candidates if _holds_responses(reader, shard)]
    skipped = [
        Skipped(name, f"holds Vision responses, not read: {reason}" if name in unread else reason)
        for name, reason in listing.ignored
    ]
    return skipped, unread


def _holds_responses(reader: Source, shard: Shard) -> bool:
    if shard.size > MAX_SHARD_BYTES:
        return False
    try:
        return (
            len(parse_shard(reader.read(shard), shard.name, shard.location, fields=frozenset())) > 0
        )
    except (ShardError, SourceError):
        return False


def check_apart(source: str | os.PathLike[str] | Source, dest: str | os.PathLike[str]) -> None:
    """Refuse a DEST inside SOURCE (a later export would read the tables' folder as
    shards) or a SOURCE inside DEST (writing DEST would replace it)."""
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
