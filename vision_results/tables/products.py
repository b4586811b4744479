"""Product search: ``products`` (each result) and ``product_objects``.

``productSearchResults.results`` are rows with a null ``group_index``; each of
``productGroupedResults`` (one detected product in the image) gives rows with
its ``group_index`` and its box. ``product_objects`` are the groups'
``objectAnnotations``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vision_results.batch import Batch
from vision_results.messages import PAGE_SIZE, PAGE_SIZES, PRODUCT_SEARCH_RESULTS
from vision_results.tables import _arrow
from vision_results.tables._boxes import boxes
from vision_results.tables._common import (
    BOX_FIELDS,
    OBJECT_FIELDS,
    table_schema,
)
from vision_results.tables._registry import Declaration

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


def flatten(batch: Batch) -> dict[str, pa.Table]:
    search = batch.field("productSearchResults")
    groups = _arrow.explode(_arrow.field(search, "productGroupedResults"))
    return {
        "products": _products(batch, search, groups),
        "product_objects": _objects(batch, groups),
    }


def _products(batch: Batch, search: pa.Array, groups: _arrow.Level) -> pa.Table:
    """The top-level results (no group, no box), then each group's, in the Python
    flattener's order: by response, group (top-level first), rank."""
    top = _arrow.explode(_arrow.field(search, "results"))
    grouped = _arrow.explode(_arrow.field(groups.values, "results"))
    polys = _arrow.field(groups.values, "boundingPoly")
    found = pa.concat_tables(
        [
            _found(top, top.parents, np.full(len(top), -1), pa.nulls(len(top), polys.type)),
            _found(
                grouped,
                groups.parents[grouped.parents],
                groups.positions[grouped.parents],
                polys.take(pa.array(grouped.parents)),
            ),
        ]
    )
    keys = [found[name].to_numpy() for name in ("rank", "group", "response")]
    found = found.take(pa.array(np.lexsort(keys)))
    rows = found["response"].to_numpy()
    group = found["group"].to_numpy()
    results = found["result"].combine_chunks()
    product = _arrow.field(results, "product")
    width, height = batch.page_sizes
    columns = {
        **batch.keys(rows),
        "group_index": pa.array(group, pa.int32(), mask=group < 0),
        "rank": found["rank"],
        "product": _arrow.text(_arrow.field(product, "name")),
        "display_name": _arrow.text(_arrow.field(product, "displayName")),
        "description": _arrow.text(_arrow.field(product, "description")),
        "category": _arrow.text(_arrow.field(product, "productCategory")),
        "labels": _labels(_arrow.field(product, "productLabels")),
        "score": _arrow.number(_arrow.field(results, "score")),
        "image": _arrow.text(_arrow.field(results, "image")),
        "index_time": _arrow.text(_arrow.field(search, "indexTime")).take(pa.array(rows)),
        **boxes(found["poly"].combine_chunks(), width[rows], height[rows]),
    }
    return pa.Table.from_pydict(columns, schema=PRODUCTS)


def _found(
    results: _arrow.Level, responses: np.ndarray, groups: np.ndarray, polys: pa.Array
) -> pa.Table:
    """One list of results with their sort keys (group -1: top-level) and boxes."""
    return pa.table(
        {
            "response": responses,
            "group": groups.astype(np.int32),
            "rank": results.positions,
            "result": results.values,
            "poly": polys,
        }
    )


def _labels(lists: pa.Array) -> pa.Array:
    """``productLabels`` as ``labels``: empty strings null, empty lists null."""
    lists = _arrow.non_empty(lists)
    items = lists.values
    children = [_arrow.text(pc.struct_field(items, name)) for name in ("key", "value")]
    struct = pa.StructArray.from_arrays(children, names=["key", "value"])
    return pa.ListArray.from_arrays(
        lists.offsets, struct, type=PRODUCT_LABELS, mask=lists.is_null()
    )


def _objects(batch: Batch, groups: _arrow.Level) -> pa.Table:
    level = _arrow.explode(_arrow.field(groups.values, "objectAnnotations"))
    objects = level.values
    columns = {
        **batch.keys(groups.parents[level.parents]),
        "group_index": groups.positions[level.parents],
        "rank": level.positions,
        "mid": _arrow.text(_arrow.field(objects, "mid")),
        "name": _arrow.text(_arrow.field(objects, "name")),
        "language_code": _arrow.text(_arrow.field(objects, "languageCode")),
        "score": _arrow.number(_arrow.field(objects, "score")),
    }
    return pa.Table.from_pydict(columns, schema=OBJECTS)


DECLARATION = Declaration(
    tables={"products": PRODUCTS, "product_objects": OBJECTS},
    reads={"productSearchResults": PRODUCT_SEARCH_RESULTS, PAGE_SIZE: PAGE_SIZES},
    flatten=flatten,
    position=100,
)
