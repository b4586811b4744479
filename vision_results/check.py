"""Accounting: what an export read, what failed, what is missing.

Counted once at the end of an export into ``_export.json`` (the
:class:`~vision_results.report.ExportReport`); :func:`check` reads it back for
``vision-results reconcile DEST`` and ``res.check()``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from vision_results.errors import DestinationError
from vision_results.report import ExportReport
from vision_results.source import EXPORT_RECORD


def missing_images(
    index: Path | str, wanted: Iterable[str], filesystem: pafs.FileSystem | None = None
) -> list[str]:
    """The inputs of a job manifest that have no answer in the export's index of
    answers (``_answers``, a path of ``filesystem`` if given), in job order; for a
    file answered in part, each page without an answer as ``URI#page=N`` (its page
    count is its ``totalPages``, else the highest page answered)."""
    # Imported here: vision_results.jobs (the Vision client) is loaded only by a job.
    from vision_results.jobs.manifest import mime_type

    wanted = list(wanted)
    table = pq.read_table(index, columns=["uri", "page_number", "total_pages"],
                          filesystem=filesystem)  # fmt: skip
    answered = set(pc.unique(table["uri"]).to_pylist())
    files = pa.array([uri for uri in wanted if mime_type(uri)], pa.string())
    pages: dict[str, set[int]] = defaultdict(set)
    totals: dict[str, int] = defaultdict(int)
    for row in table.filter(pc.is_in(table["uri"], files)).to_pylist():
        pages[row["uri"]].add(row["page_number"] or 0)  # 0: the whole file failed
        totals[row["uri"]] = max(totals[row["uri"]], row["total_pages"] or 0)
    missing = []
    for uri in wanted:
        if uri not in answered:
            missing.append(uri)
        elif uri in pages and 0 not in pages[uri]:
            count = totals[uri] or max(pages[uri])
            missing += [f"{uri}#page={n}" for n in range(1, count + 1) if n not in pages[uri]]
    return missing


def errors_by_code(index: Path | str, filesystem: pafs.FileSystem | None = None) -> dict[str, int]:
    """How many kept answers carry an error, by gRPC code (as text, for JSON), from
    the export's index of answers."""
    table = pq.read_table(index, columns=["error_code"], filesystem=filesystem)
    codes = table["error_code"].drop_null()
    counts = pc.value_counts(codes).to_pylist()
    return {str(c["values"]): c["counts"] for c in sorted(counts, key=lambda c: c["values"])}


def check(dest: Path) -> ExportReport:
    """The record of the export in ``dest``: its summary says what was read, the
    errors by code, what was skipped and why and, with a job manifest, which
    images have no answer; ``.complete`` says whether anything is missing."""
    record = dest / EXPORT_RECORD
    if record.is_file():
        return ExportReport.from_json(record.read_bytes())
    raise DestinationError(f"{dest}: {not_an_export(dest)}")


def not_an_export(folder: Path) -> str:
    """Why ``folder`` has no export record, and what to run instead."""
    if not folder.exists():
        return (
            "no such folder. Give an export's DEST folder, or the gs://BUCKET/PREFIX/ "
            "OUTPUT of a job."
        )
    if not folder.is_dir():
        return "not a folder. Give an export's DEST folder."
    unfinished = [p for p in folder.parent.glob(f".{folder.name}.partial-*") if p.is_dir()]
    if unfinished or any(folder.glob("*/part-*.parquet")):
        return (
            f"an export that did not finish (no {EXPORT_RECORD}). Run the same "
            f"`vision-results export SOURCE {folder} --resume` to finish it."
        )
    if any(folder.rglob("*.json")):
        return (
            f"a folder of Vision output (a SOURCE), not an export. Export it first: "
            f"`vision-results export {folder} TABLES`, then `vision-results reconcile TABLES`."
        )
    return f"not an export: it has no {EXPORT_RECORD}, no tables and no Vision output."
