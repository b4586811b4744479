"""Resumable and incremental exports: what an earlier export already wrote.

A local export writes a progress record, ``_progress.json``, into its staging
folder at every checkpoint (every ``checkpoint_bytes`` of shards read, and
before it stops on an error when ``resume=True``): the part files that are
complete and the report of the shards whose rows they hold. With ``resume=True``
(``--resume``) an export starts from

- the staging folder ``.DEST.partial-*`` of an export that was killed or stopped:
  its complete parts are kept, files written after its last checkpoint deleted;
- else a finished DEST (its ``_export.json``): its parts are hard-linked into a
  new staging folder, so DEST stays as it was until the new export replaces it;
- else nothing: a fresh export.

Either way a recorded shard whose name and generation (for a local file, its
modification time in ns) are unchanged is not read again; one whose generation
changed, or that is gone from SOURCE, has its rows removed and, if still there,
is read again. Shards recorded as skipped are tried again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from vision_results import answers
from vision_results.errors import DestinationError
from vision_results.report import ExportReport, ShardRecord
from vision_results.source import EXPORT_RECORD, PROGRESS_RECORD, Shard
from vision_results.writer import rewrite_without

PROGRESS = PROGRESS_RECORD


@dataclass
class Progress:
    """What the staging folder holds: complete parts and the shards in them."""

    report: ExportReport
    parts: dict[str, list[str]] = field(default_factory=dict)
    keep_all: bool = False

    def to_json(self) -> bytes:
        return orjson.dumps(
            {"report": asdict(self.report), "parts": self.parts, "keep_all": self.keep_all}
        )

    @classmethod
    def from_json(cls, data: bytes) -> Progress:
        raw: dict[str, Any] = orjson.loads(data)
        report = ExportReport.from_json(orjson.dumps(raw["report"]))
        return cls(report, raw["parts"], raw["keep_all"])

    def save(self, staging: Path) -> None:
        """Replace the record in one step: a kill leaves the old one or the new one."""
        temporary = staging / f"{PROGRESS}.tmp"
        temporary.write_bytes(self.to_json())
        os.replace(temporary, staging / PROGRESS)


def find_staging(dest: Path) -> Path | None:
    """The newest staging folder of an earlier export to DEST that has a checkpoint."""
    found = [p for p in dest.parent.glob(f".{dest.name}.partial-*") if (p / PROGRESS).is_file()]
    return max(found, key=lambda p: (p / PROGRESS).stat().st_mtime_ns, default=None)


def start(staging: Path, dest: Path, source: str, tables: list[str], keep_all: bool) -> Progress:
    """The progress to continue from, with ``staging`` made to hold exactly its parts."""
    if (staging / PROGRESS).is_file():
        progress = Progress.from_json((staging / PROGRESS).read_bytes())
        _check_same(progress.report, progress.keep_all, staging, source, tables, keep_all)
        for table in [*tables, answers.NAME]:
            complete = set(progress.parts.get(table, ()))
            for path in (staging / table).glob("*") if (staging / table).is_dir() else ():
                if path.name not in complete:
                    path.unlink()  # written after the last checkpoint
        return progress
    record = dest / EXPORT_RECORD
    if not record.is_file():
        return Progress(ExportReport(source, tables), keep_all=keep_all)
    report = ExportReport.from_json(record.read_bytes())
    # A finished export kept every answer or one per image: a later run must match.
    _check_same(report, report.keep_all, dest, source, tables, keep_all)
    parts = {}
    for table in [*tables, answers.NAME]:
        (staging / table).mkdir()
        names = sorted(p.name for p in (dest / table).glob("*.parquet"))
        for name in names:
            os.link(dest / table / name, staging / table / name)
        parts[table] = names
    return Progress(report, parts, keep_all)


def _check_same(
    report: ExportReport,
    was_keep_all: bool,
    where: Path,
    source: str,
    tables: list[str],
    keep_all: bool,
) -> None:
    if (report.source, report.tables, was_keep_all) != (source, tables, keep_all):
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


def drop_shards(staging: Path, tables: Iterable[str], shards: Iterable[str]) -> None:
    """Remove the rows of ``shards`` from every table's parts."""
    names = pa.array(sorted(set(shards)), pa.string())
    if len(names):
        for table in tables:
            rewrite_without(staging / table, ["shard"], lambda t: pc.is_in(t["shard"], names))
