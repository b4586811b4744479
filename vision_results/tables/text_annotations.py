"""The ``text_annotations`` table: ``textAnnotations`` (0 = the whole text, then words)."""

from __future__ import annotations

import pyarrow as pa

from vision_results.batch import Batch
from vision_results.messages import ENTITIES, PAGE_SIZE, PAGE_SIZES
from vision_results.tables import _arrow
from vision_results.tables._boxes import boxes
from vision_results.tables._common import BOX_FIELDS, table_schema
from vision_results.tables._registry import Declaration

SCHEMA = table_schema(
    pa.field("index", pa.int32(), nullable=False),
    pa.field("description", pa.string()),
    pa.field("locale", pa.string()),
    *BOX_FIELDS,
)


def flatten(batch: Batch) -> dict[str, pa.Table]:
    level = _arrow.explode(batch.field("textAnnotations"))
    items = level.values
    width, height = batch.page_sizes
    columns = {
        **batch.keys(level.parents),
        "index": level.positions,
        "description": _arrow.text(_arrow.field(items, "description")),
        "locale": _arrow.text(_arrow.field(items, "locale")),
        **boxes(_arrow.field(items, "boundingPoly"), width[level.parents], height[level.parents]),
    }
    return {"text_annotations": pa.Table.from_pydict(columns, schema=SCHEMA)}


DECLARATION = Declaration(
    tables={"text_annotations": SCHEMA},
    reads={"textAnnotations": ENTITIES, PAGE_SIZE: PAGE_SIZES},
    flatten=flatten,
    position=30,
)
