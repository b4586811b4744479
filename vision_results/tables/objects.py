"""``objects``: ``localizedObjectAnnotations``, boxes normalized and, where the image
size is known (from the OCR page), in pixels."""

from __future__ import annotations

import pyarrow as pa

from vision_results.batch import Batch
from vision_results.messages import LOCALIZED_OBJECT_ANNOTATION, PAGE_SIZE, PAGE_SIZES
from vision_results.tables import _arrow
from vision_results.tables._boxes import box_fields, boxes
from vision_results.tables._common import (
    OBJECT_FIELDS,
    table_schema,
)
from vision_results.tables._registry import Declaration

SCHEMA = table_schema(
    pa.field("rank", pa.int32(), nullable=False),
    *OBJECT_FIELDS,
    *box_fields(normalized_bounds=True),
)


def flatten(batch: Batch) -> dict[str, pa.Table]:
    level = _arrow.explode(batch.field("localizedObjectAnnotations"))
    items = level.values
    width, height = batch.page_sizes
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


DECLARATION = Declaration(
    tables={"objects": SCHEMA},
    reads={
        "localizedObjectAnnotations": pa.list_(LOCALIZED_OBJECT_ANNOTATION),
        PAGE_SIZE: PAGE_SIZES,
    },
    flatten=flatten,
    position=70,
)
