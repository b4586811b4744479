"""Web detection: ``web_entities``, ``web_images``, ``web_pages``, ``web_labels``.

``web_images`` holds the image-level matches (``page_index`` null) and the
matches listed under each page of ``pagesWithMatchingImages`` (``page_index``
= that page's row in ``web_pages``).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from vision_results.parse import ParsedShard
from vision_results.tables._common import Columns, annotated, table_schema

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


def _images(cols: Columns, index: int, parent: dict[str, Any], page_index: int | None) -> None:
    for kind, field in IMAGE_KINDS.items():
        for rank, image in enumerate(parent.get(field) or ()):
            cols.key(index)
            cols.add(
                page_index=page_index,
                kind=kind,
                rank=rank,
                url=image.get("url") or None,
                score=image.get("score", 0.0),
            )


def flatten(parsed: ParsedShard) -> dict[str, pa.Table]:
    entities, images = Columns(ENTITIES, parsed), Columns(IMAGES, parsed)
    pages, labels = Columns(PAGES, parsed), Columns(LABELS, parsed)
    for index, web, _ in annotated(parsed, "webDetection"):
        for rank, entity in enumerate(web.get("webEntities") or ()):
            entities.key(index)
            entities.add(
                rank=rank,
                entity_id=entity.get("entityId") or None,
                description=entity.get("description") or None,
                score=entity.get("score", 0.0),
            )
        _images(images, index, web, None)
        for page_index, page in enumerate(web.get("pagesWithMatchingImages") or ()):
            pages.key(index)
            pages.add(
                page_index=page_index,
                url=page.get("url") or None,
                page_title=page.get("pageTitle") or None,
                score=page.get("score", 0.0),
                n_full_matching=len(page.get("fullMatchingImages") or ()),
                n_partial_matching=len(page.get("partialMatchingImages") or ()),
            )
            _images(images, index, page, page_index)
        for rank, label in enumerate(web.get("bestGuessLabels") or ()):
            labels.key(index)
            labels.add(
                rank=rank,
                label=label.get("label") or None,
                language_code=label.get("languageCode") or None,
            )
    return {
        "web_entities": entities.table(),
        "web_images": images.table(),
        "web_pages": pages.table(),
        "web_labels": labels.table(),
    }
