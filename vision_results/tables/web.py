"""Web detection: ``web_entities``, ``web_images``, ``web_pages``, ``web_labels``.

``web_images`` holds the image-level matches (``page_index`` null) and the
matches listed under each page of ``pagesWithMatchingImages`` (``page_index``
= that page's row in ``web_pages``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from vision_results.batch import Batch
from vision_results.messages import WEB_DETECTION
from vision_results.tables import _arrow
from vision_results.tables._common import table_schema
from vision_results.tables._registry import Declaration

IMAGE_KINDS = {
    "full": "fullMatchingImages",
    "partial": "partialMatchingImages",
    "similar": "visuallySimilarImages",
}
_RANK = pa.field("rank", pa.int32(), nullable=False)

ENTITIES = table_schema(
    _RANK,
    pa.field("entity_id", pa.string()),
    pa.field("description", pa.string()),
    pa.field("score", pa.float64()),
)
IMAGES = table_schema(
    pa.field("page_index", pa.int32()),
    pa.field("kind", pa.string(), nullable=False),
    _RANK,
    pa.field("url", pa.string()),
    pa.field("score", pa.float64()),
)
PAGES = table_schema(
    pa.field("page_index", pa.int32(), nullable=False),
    pa.field("url", pa.string()),
    pa.field("page_title", pa.string()),
    pa.field("score", pa.float64()),
    pa.field("n_full_matching", pa.int32(), nullable=False),
    pa.field("n_partial_matching", pa.int32(), nullable=False),
)
LABELS = table_schema(
    _RANK,
    pa.field("label", pa.string()),
    pa.field("language_code", pa.string()),
)


_KINDS = pa.array(list(IMAGE_KINDS), pa.string())
_PAGE_FIELDS = ("fullMatchingImages", "partialMatchingImages")
"""The matching images a WebPage lists (it has no visually similar ones)."""


def flatten(batch: Batch) -> dict[str, pa.Table]:
    web = batch.field("webDetection")
    pages = _arrow.explode(_arrow.field(web, "pagesWithMatchingImages"))
    return {
        "web_entities": _entities(batch, web),
        "web_images": _web_images(batch, web, pages),
        "web_pages": _pages(batch, pages),
        "web_labels": _labels(batch, web),
    }


def _entities(batch: Batch, web: pa.Array) -> pa.Table:
    level = _arrow.explode(_arrow.field(web, "webEntities"))
    columns = {
        **batch.keys(level.parents),
        "rank": level.positions,
        "entity_id": _arrow.text(_arrow.field(level.values, "entityId")),
        "description": _arrow.text(_arrow.field(level.values, "description")),
        "score": _arrow.number(_arrow.field(level.values, "score")),
    }
    return pa.Table.from_pydict(columns, schema=ENTITIES)


def _web_images(batch: Batch, web: pa.Array, pages: _arrow.Level) -> pa.Table:
    """The image-level matches, then those under each page, in the Python
    flattener's order: by response, page (image-level first), kind, rank."""
    pieces = []
    for kind, name in enumerate(IMAGE_KINDS.values()):
        level = _arrow.explode(_arrow.field(web, name))
        pieces.append(_matches(level, level.parents, np.full(len(level), -1), kind))
        if name in _PAGE_FIELDS:
            level = _arrow.explode(_arrow.field(pages.values, name))
            owner = level.parents
            pieces.append(_matches(level, pages.parents[owner], pages.positions[owner], kind))
    matches = pa.concat_tables(pieces)
    keys = [matches[name].to_numpy() for name in ("rank", "kind", "page", "response")]
    matches = matches.take(pa.array(np.lexsort(keys)))
    page_index = matches["page"].to_numpy()
    images = matches["image"].combine_chunks()
    columns = {
        **batch.keys(matches["response"].to_numpy()),
        "page_index": pa.array(page_index, pa.int32(), mask=page_index < 0),
        "kind": _KINDS.take(matches["kind"]),
        "rank": matches["rank"],
        "url": _arrow.text(_arrow.field(images, "url")),
        "score": _arrow.number(_arrow.field(images, "score")),
    }
    return pa.Table.from_pydict(columns, schema=IMAGES)


def _matches(images: _arrow.Level, responses: np.ndarray, pages: np.ndarray, kind: int) -> pa.Table:
    """One list's matching images with their sort keys (page -1: image-level)."""
    return pa.table(
        {
            "response": responses,
            "page": pages.astype(np.int32),
            "kind": np.full(len(images), kind, np.int8),
            "rank": images.positions,
            "image": images.values,
        }
    )


def _pages(batch: Batch, pages: _arrow.Level) -> pa.Table:
    full, partial = (_arrow.explode(_arrow.field(pages.values, name)) for name in _PAGE_FIELDS)
    columns = {
        **batch.keys(pages.parents),
        "page_index": pages.positions,
        "url": _arrow.text(_arrow.field(pages.values, "url")),
        "page_title": _arrow.text(_arrow.field(pages.values, "pageTitle")),
        "score": _arrow.number(_arrow.field(pages.values, "score")),
        "n_full_matching": full.lengths(),
        "n_partial_matching": partial.lengths(),
    }
    return pa.Table.from_pydict(columns, schema=PAGES)


def _labels(batch: Batch, web: pa.Array) -> pa.Table:
    level = _arrow.explode(_arrow.field(web, "bestGuessLabels"))
    columns = {
        **batch.keys(level.parents),
        "rank": level.positions,
        "label": _arrow.text(_arrow.field(level.values, "label")),
        "language_code": _arrow.text(_arrow.field(level.values, "languageCode")),
    }
    return pa.Table.from_pydict(columns, schema=LABELS)


DECLARATION = Declaration(
    tables={
        "web_entities": ENTITIES,
        "web_images": IMAGES,
        "web_pages": PAGES,
        "web_labels": LABELS,
    },
    reads={"webDetection": WEB_DETECTION},
    flatten=flatten,
    position=90,
)
