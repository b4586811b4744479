"""The ``text_annotations`` table: ``textAnnotations`` (0 = the whole text, then words)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from vision_results.batch import Batch
from vision_results.parse import ParsedShard
from vision_results.tables import _arrow
from vision_results.tables._boxes import boxes
from vision_results.tables._common import BOX_FIELDS, Columns, annotated, table_schema
from vision_results.tables.ocr import page_size

_EMPTY: dict[str, Any] = {}

SCHEMA = table_schema(
    pa.field("index", pa.int32(), nullable=False),
    pa.field("description", pa.string()),
    pa.field("locale", pa.string()),
    *BOX_FIELDS,
)


def flatten(parsed: ParsedShard) -> dict[str, pa.Table]:
    cols = Columns(SCHEMA, parsed)
    for index, items, response in annotated(parsed, "textAnnotations"):
        # One row per word of the image: lists extended directly, not row by row.
        count = len(items)
        width, height = page_size(response)
        cols.rows.extend([index] * count)
        cols.data["index"].extend(range(count))
        cols.data["description"].extend([a.get("description") or None for a in items])
        cols.data["locale"].extend([a.get("locale") or None for a in items])
        vertices, normalized, widths, heights = cols.boxes()
        boxes = [a.get("boundingPoly") or _EMPTY for a in items]
        vertices.extend([box.get("vertices") or None for box in boxes])
        normalized.extend([box.get("normalizedVertices") or None for box in boxes])
        widths.extend([width] * count)
        heights.extend([height] * count)
    return {"text_annotations": cols.table()}


def flatten_arrow(batch: Batch) -> dict[str, pa.Table]:
    level = _arrow.explode(batch.field("textAnnotations"))
    items = level.values
    width, height = _arrow.page_sizes(batch)
    columns = {
        **batch.keys(level.parents),
        "index": level.positions,
        "description": _arrow.text(_arrow.field(items, "description")),
        "locale": _arrow.text(_arrow.field(items, "locale")),
        **boxes(_arrow.field(items, "boundingPoly"), width[level.parents], height[level.parents]),
    }
    return {"text_annotations": pa.Table.from_pydict(columns, schema=SCHEMA)}
