"""The ``labels`` table: ``labelAnnotations``, one row per label, in response order."""

from __future__ import annotations

import pyarrow as pa

from vision_results.parse import ParsedShard
from vision_results.tables._common import PROPERTIES, Columns, properties, table_schema

SCHEMA = table_schema(
    pa.field("rank", pa.int32(), nullable=False),
    pa.field("mid", pa.string()),
    pa.field("description", pa.string()),
    pa.field("score", pa.float64()),
    pa.field("topicality", pa.float64()),
    pa.field("properties", PROPERTIES),
)


def flatten(parsed: ParsedShard) -> dict[str, pa.Table]:
    cols = Columns(SCHEMA, parsed)
    for index, response in enumerate(parsed.responses):
        for rank, label in enumerate(response.get("labelAnnotations") or ()):
            cols.key(index)
            cols.add(
                rank=rank,
                mid=label.get("mid") or None,
                description=label.get("description") or None,
                score=label.get("score", 0.0),
                topicality=label.get("topicality", 0.0),
                properties=properties(label),
            )
    return {"labels": cols.table()}
