"""``objects``: ``localizedObjectAnnotations``, boxes normalized and, where the image
size is known (from the OCR page), in pixels."""

from __future__ import annotations

import pyarrow as pa

from vision_results.batch import Batch
from vision_results.parse import ParsedShard
from vision_results.tables import _arrow
from vision_results.tables._boxes import box_fields, boxes
from vision_results.tables._common import (
    OBJECT_FIELDS,
    Columns,
    annotated,
    object_values,
    table_schema,
)
from vision_results.tables.ocr import page_size

SCHEMA = table_schema(
    pa.field("rank", pa.int32(), nullable=False),
    *OBJECT_FIELDS,
    *box_fields(normalized_bounds=True),
)


def flatten(parsed: ParsedShard) -> dict[str, pa.Table]:
    cols = Columns(SCHEMA, parsed)
    for index, items, response in annotated(parsed, "localizedObjectAnnotations"):
        width, height = page_size(response)
        for rank, item in enumerate(items):
            cols.key(index)
            cols.add(rank=rank, **object_values(item))
            cols.add_box(item.get("boundingPoly"), width, height)
    return {"objects": cols.table()}


def flatten_arrow(batch: Batch) -> dict[str, pa.Table]:
    level = _arrow.explode(batch.field("localizedObjectAnnotations"))
    items = level.values
    width, height = _arrow.page_sizes(batch)
    columns = {
        **batch.keys(level.parents),
        "rank": level.positions,
        "mid": _arrow.text(_arrow.field(items, "mid")),
        "name": _arrow.text(_arrow.field(items, "name")),
        "language_code": _arrow.text(_arrow.field(items, "languageCode")),
        "score": _arrow.number(_arrow.field(items, "score")),
        **boxes(_arrow.field(items, "boundingPoly"), width[level.parents], height[level.parents]),
    }
    return {"objects": pa.Table.from_pydict(columns, schema=SCHEMA)}
