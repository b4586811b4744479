"""The ``labels`` table: ``labelAnnotations``, one row per label, in response order."""

from __future__ import annotations

import pyarrow as pa

from vision_results.batch import Batch
from vision_results.messages import ENTITIES
from vision_results.tables import _arrow
from vision_results.tables._common import PROPERTIES, table_schema
from vision_results.tables._registry import Declaration

SCHEMA = table_schema(
    pa.field("rank", pa.int32(), nullable=False),
    pa.field("mid", pa.string()),
    pa.field("description", pa.string()),
    pa.field("score", pa.float64()),
    pa.field("topicality", pa.float64()),
    pa.field("properties", PROPERTIES),
)


def flatten(batch: Batch) -> dict[str, pa.Table]:
    level = _arrow.explode(batch.field("labelAnnotations"))
    labels = level.values
    columns = {
        **batch.keys(level.parents),
        "rank": level.positions,
        "mid": _arrow.text(_arrow.field(labels, "mid")),
        "description": _arrow.text(_arrow.field(labels, "description")),
        "score": _arrow.number(_arrow.field(labels, "score")),
        "topicality": _arrow.number(_arrow.field(labels, "topicality")),
        "properties": _arrow.properties(labels),
    }
    return {"labels": pa.Table.from_pydict(columns, schema=SCHEMA)}


DECLARATION = Declaration(
    tables={"labels": SCHEMA},
    reads={"labelAnnotations": ENTITIES},
    flatten=flatten,
    position=20,
)
