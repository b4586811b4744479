"""Product search: ``products`` (each result) and ``product_objects``.

``productSearchResults.results`` are rows with a null ``group_index``; each of
``productGroupedResults`` (one detected product in the image) gives rows with
its ``group_index`` and its box. ``product_objects`` are the groups'
``objectAnnotations``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from vision_results.parse import ParsedShard
from vision_results.tables._common import (
    BOX_FIELDS,
    OBJECT_FIELDS,
    Columns,
    annotated,
    object_values,
    table_schema,
)
from vision_results.tables.ocr import page_size

PRODUCT_LABELS = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
_GROUP = pa.field("group_index", pa.int32())
_RANK = pa.field("rank", pa.int32(), nullable=False)

PRODUCTS = table_schema(
    _GROUP,
    _RANK,
    pa.field("product", pa.string()),
    pa.field("display_name", pa.string()),
    pa.field("description", pa.string()),
    pa.field("category", pa.string()),
    pa.field("labels", PRODUCT_LABELS),
    pa.field("score", pa.float64()),
    pa.field("image", pa.string()),
    pa.field("index_time", pa.string()),
    *BOX_FIELDS,
)
OBJECTS = table_schema(
    pa.field("group_index", pa.int32(), nullable=False),
    _RANK,
    *OBJECT_FIELDS,
)


def _results(
    cols: Columns,
    index: int,
    results: list[dict[str, Any]],
    group: tuple[int | None, dict[str, Any] | None],
    index_time: str | None,
    size: tuple[int | None, int | None],
) -> None:
    group_index, box = group
    for rank, result in enumerate(results):
        product = result.get("product") or {}
        labels = [
            {"key": label.get("key") or None, "value": label.get("value") or None}
            for label in product.get("productLabels") or ()
        ]
        cols.key(index)
        cols.add(
            group_index=group_index,
            rank=rank,
            product=product.get("name") or None,
            display_name=product.get("displayName") or None,
            description=product.get("description") or None,
            category=product.get("productCategory") or None,
            labels=labels or None,
            score=result.get("score", 0.0),
            image=result.get("image") or None,
            index_time=index_time,
        )
        cols.add_box(box, *size)


def flatten(parsed: ParsedShard) -> dict[str, pa.Table]:
    products, objects = Columns(PRODUCTS, parsed), Columns(OBJECTS, parsed)
    for index, search, response in annotated(parsed, "productSearchResults"):
        size = page_size(response)
        index_time = search.get("indexTime") or None
        _results(products, index, search.get("results") or [], (None, None), index_time, size)
        for group_index, group in enumerate(search.get("productGroupedResults") or ()):
            box = group.get("boundingPoly")
            _results(
                products, index, group.get("results") or [], (group_index, box), index_time, size
            )
            for rank, item in enumerate(group.get("objectAnnotations") or ()):
                objects.key(index)
                objects.add(group_index=group_index, rank=rank, **object_values(item))
    return {"products": products.table(), "product_objects": objects.table()}
