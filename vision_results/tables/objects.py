"""``objects``: ``localizedObjectAnnotations``, boxes normalized and, where the image
size is known (from the OCR page), in pixels."""

from __future__ import annotations

import pyarrow as pa

from vision_results.parse import ParsedShard
from vision_results.tables._boxes import box_fields
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
