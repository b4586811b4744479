"""One answer per image.

When the same image (``uri``, ``page_number``) was answered more than once — a
resubmission exported together with the first answers — every table keeps the
rows of one answer: the latest successful one, i.e. without ``error``, from the
newest shard by generation (for a local file, its modification time), then by
shard name and position; when every answer failed, the latest failed one.
``keep_all=True`` (``--keep-all``) keeps every answer; ``shard`` and
``response_index`` tell them apart.

A response without ``context`` gets its shard's location as ``uri``: that names
no image, so such responses are never taken for duplicates of each other. With a
job manifest, answers a retry superseded are dropped before flattening
(:mod:`vision_results.jobs.layout`) and never reach this.

The duplicate search reads the export's index of answers, ``_answers``
(:mod:`vision_results.answers`; about 100 bytes per image in memory), whatever
tables were asked for; nothing is rewritten when there are no duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from vision_results.report import ShardRecord
from vision_results.writer import rewrite_without

KEY = ["shard", "response_index"]


def superseded(
    index: Path | str, shards: Iterable[ShardRecord], filesystem: pafs.FileSystem | None = None
) -> pa.Array:
    """``shard:response_index`` of every answer another answer of its image supersedes
    (``index``: the ``_answers`` folder, a path of ``filesystem`` if given)."""
    columns = ["uri", "page_number", *KEY, "error_code"]
    keys = pq.read_table(index, columns=columns, filesystem=filesystem)
    records = list(shards)
    known = pa.table(
        {
            "shard": pa.array([r.name for r in records], pa.string()),
            "location": pa.array([r.location for r in records], pa.string()),
            "generation": pa.array([r.generation or 0 for r in records], pa.int64()),
        }
    )
    keys = keys.join(known, "shard", join_type="left outer")
    keys = keys.filter(pc.not_equal(keys["uri"], pc.fill_null(keys["location"], "")))
    if keys.num_rows < 2:
        return pa.array([], pa.string())
    keys = keys.append_column("ok", pc.is_null(keys["error_code"])).sort_by(
        [("ok", "ascending"), ("generation", "ascending")] + [(name, "ascending") for name in KEY]
    )
    keys = keys.append_column("rank", pa.array(np.arange(keys.num_rows)))
    page = keys.column_names.index("page_number")
    keys = keys.set_column(page, "page_number", pc.fill_null(keys["page_number"], -1))
    groups = keys.group_by(["uri", "page_number"]).aggregate([("rank", "max"), ("rank", "count")])
    groups = groups.filter(pc.greater(groups["rank_count"], 1))
    if not groups.num_rows:
        return pa.array([], pa.string())
    ranked = keys.join(groups, ["uri", "page_number"], join_type="inner")
    losers = ranked.filter(pc.not_equal(ranked["rank"], ranked["rank_max"]))
    return _joined(losers).combine_chunks()


def drop(
    staging: Path | str,
    tables: Iterable[str],
    losers: pa.Array,
    filesystem: pafs.FileSystem | None = None,
) -> None:
    """Remove the rows of the ``losers`` answers from every table's parts."""
    if not len(losers):
        return  # without this, every part's keys would be read to find nothing
    for table in tables:
        rewrite_without(
            f"{staging}/{table}", KEY, lambda t: pc.is_in(_joined(t), losers), filesystem
        )


def _joined(table: pa.Table) -> pa.ChunkedArray:
    return pc.binary_join_element_wise(
        table["shard"], pc.cast(table["response_index"], pa.string()), ":"
    )
