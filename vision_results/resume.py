"""Resumable and incremental exports: what an earlier export already wrote.

Every export writes a progress record, ``_progress.json``, into its staging
place (:mod:`vision_results.destination`) at every checkpoint (every
``checkpoint_bytes`` of shards read, and before it stops on an error when
``resume=True``): the part files that are complete and the report of the shards
whose rows they hold. With ``resume=True`` (``--resume``) an export starts from

- the staging place ``.DEST.partial-*`` of an export that was killed or stopped:
  its complete parts are kept, files written after its last checkpoint deleted;
- else a finished DEST (its ``_export.json``): its parts are linked (local) or
  copied server-side (GCS) into a new staging place, so DEST stays as it was
  until the new export replaces it;
- else nothing: a fresh export.

Either way a recorded shard whose name and generation (for a local file, its
modification time in ns) are unchanged is not read again; one whose generation
changed, or that is gone from SOURCE, has its rows removed and, if still there,
is read again. Shards recorded as skipped are tried again. The same holds for
both engines and both kinds of DEST.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from vision_results import answers
from vision_results.destination import Staging
from vision_results.errors import DestinationError
from vision_results.report import ExportReport, ShardRecord
from vision_results.source import PROGRESS_RECORD, Shard
from vision_results.writer import rewrite_without

PROGRESS = PROGRESS_RECORD


@dataclass
class Progress:
    """What the staging place holds: complete parts and the shards in them."""

    report: ExportReport
    parts: dict[str, list[str]] = field(default_factory=dict)
    keep_all: bool = False
    runs: int = 0
    """How many runs wrote here before this one (the Dask engine names its parts by
    run, so that a resumed run adds parts after the earlier ones')."""

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "report": asdict(self.report),
                "parts": self.parts,
                "keep_all": self.keep_all,
                "runs": self.runs,
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> Progress:
        raw: dict[str, Any] = orjson.loads(data)
        report = ExportReport.from_json(orjson.dumps(raw["report"]))
        return cls(report, raw["parts"], raw["keep_all"], raw.get("runs", 0))

    def save(self, staging: Staging) -> None:
        staging.write(PROGRESS_RECORD, self.to_json())


def start(staging: Staging, source: str, tables: Sequence[str], keep_all: bool) -> Progress:
    """The progress to continue from, with ``staging`` made to hold exactly its parts."""
    written = [*tables, answers.NAME]
    record = staging.read(PROGRESS_RECORD)
    if record is not None:
        progress = Progress.from_json(record)
        _check_same(progress.report, progress.keep_all, staging.root, source, tables, keep_all)
        for table in written:  # files written after the last checkpoint go
            staging.drop_parts(table, set(progress.parts.get(table, ())))
        progress.runs += 1
        return progress
    finished = staging.destination.record()
    if finished is None:
        return Progress(ExportReport(source, list(tables)), keep_all=keep_all)
    report = ExportReport.from_json(finished)
    # A finished export kept every answer or one per image: a later run must match.
    _check_same(report, report.keep_all, staging.destination.url, source, tables, keep_all)
    index = staging.destination.final(answers.NAME)
    if staging.destination.filesystem.get_file_info(index).type == pafs.FileType.NotFound:
        raise DestinationError(
            f"{staging.destination.url}: made by an earlier version of vision-results, without "
            f"{answers.NAME}/; export again with --overwrite instead of --resume."
        )
    return Progress(report, {table: staging.adopt(table) for table in written}, keep_all, runs=1)


def _check_same(
    report: ExportReport,
    was_keep_all: bool,
    where: str,
    source: str,
    tables: Sequence[str],
    keep_all: bool,
) -> None:
    if (report.source, report.tables, was_keep_all) != (source, list(tables), keep_all):
        raise DestinationError(
            f"{where} holds an export of {report.source} (tables {','.join(report.tables)}"
            f"{', --keep-all' if was_keep_all else ''}); --resume continues an export of the "
            "same SOURCE with the same tables and --keep-all. Run it that way, or pass "
            "--overwrite instead of --resume to start again."
        )


def to_read(progress: Progress, shards: list[Shard]) -> tuple[list[Shard], list[ShardRecord]]:
    """The shards still to read, and the recorded ones whose rows must go (changed
    generation or gone from SOURCE); ``progress.report`` keeps only the others."""
    current = {shard.name: shard for shard in shards}
    kept: list[ShardRecord] = []
    stale: list[ShardRecord] = []
    for record in progress.report.shards:
        shard = current.get(record.name)
        same = shard is not None and shard.generation == record.generation
        (kept if same else stale).append(record)
    progress.report.shards = kept
    progress.report.skipped_shards = []
    done = {record.name for record in kept}
    return [shard for shard in shards if shard.name not in done], stale


def drop_shards(staging: Staging, tables: Iterable[str], shards: Iterable[str]) -> None:
    """Remove the rows of ``shards`` from every table's parts."""
    names = pa.array(sorted(set(shards)), pa.string())
    if len(names):
        for table in tables:
            rewrite_without(
                staging.path(table),
                ["shard"],
                lambda t: pc.is_in(t["shard"], names),
                staging.filesystem,
            )
