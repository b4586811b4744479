"""The ``text_annotations`` table: ``textAnnotations`` (0 = the whole text, then words)."""

from __future__ import annotations

import pyarrow as pa

from vision_results.parse import ParsedShard
from vision_results.tables._common import BOX_FIELDS, Columns, table_schema
from vision_results.tables.ocr import page_size

SCHEMA = table_schema(
    pa.field("index", pa.int32(), nullable=False),
    pa.field("description", pa.string()),
    pa.field("locale", pa.string()),
    *BOX_FIELDS,
)


def flatten(parsed: ParsedShard) -> dict[str, pa.Table]:
    cols = Columns(SCHEMA, parsed)
    for index, response in enumerate(parsed.responses):
        annotations = response.get("textAnnotations")
        if not annotations:
            continue
        width, height = page_size(response)
        for position, annotation in enumerate(annotations):
            cols.key(index)
            cols.add(
                index=position,
                description=annotation.get("description") or None,
                locale=annotation.get("locale") or None,
            )
            cols.add_box(annotation.get("boundingPoly"), width, height)
    return {"text_annotations": cols.table()}
