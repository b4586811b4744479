"""Every table: its explicit Arrow schema and the pure function that fills it.

A flattener takes one :class:`~vision_results.parse.ParsedShard` and returns
Arrow tables by name; :func:`flatten_shard` runs those that are asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pyarrow as pa

from vision_results.parse import ParsedShard
from vision_results.tables import (
    entities,
    errors,
    faces,
    image_properties,
    images,
    labels,
    objects,
    ocr,
    products,
    text_annotations,
    web,
)

Flattener = Callable[[ParsedShard], dict[str, pa.Table]]

SCHEMAS: dict[str, pa.Schema] = {
    "images": images.SCHEMA,
    "labels": labels.SCHEMA,
    "text_annotations": text_annotations.SCHEMA,
    **ocr.SCHEMAS,
    "faces": faces.FACES,
    "face_landmarks": faces.LANDMARKS,
    "landmarks": entities.LANDMARKS,
    "logos": entities.LOGOS,
    "objects": objects.SCHEMA,
    "safe_search": image_properties.SAFE_SEARCH,
    "colors": image_properties.COLORS,
    "crop_hints": image_properties.CROP_HINTS,
    "web_entities": web.ENTITIES,
    "web_images": web.IMAGES,
    "web_pages": web.PAGES,
    "web_labels": web.LABELS,
    "products": products.PRODUCTS,
    "product_objects": products.OBJECTS,
    "errors": errors.SCHEMA,
}
TABLE_NAMES = tuple(SCHEMAS)

FLATTENERS: list[tuple[frozenset[str], Flattener]] = [
    (frozenset({"images"}), images.flatten),
    (frozenset({"labels"}), labels.flatten),
    (frozenset({"text_annotations"}), text_annotations.flatten),
    (frozenset(ocr.SCHEMAS), ocr.flatten),
    (frozenset({"faces", "face_landmarks"}), faces.flatten),
    (frozenset({"landmarks", "logos"}), entities.flatten),
    (frozenset({"objects"}), objects.flatten),
    (frozenset({"safe_search", "colors", "crop_hints"}), image_properties.flatten),
    (frozenset({"web_entities", "web_images", "web_pages", "web_labels"}), web.flatten),
    (frozenset({"products", "product_objects"}), products.flatten),
    (frozenset({"errors"}), errors.flatten),
]


def flatten_shard(parsed: ParsedShard, tables: Iterable[str]) -> dict[str, pa.Table]:
    """The asked-for tables of one parsed shard, by name."""
    wanted = set(tables)
    out: dict[str, pa.Table] = {}
    for names, flattener in FLATTENERS:
        if names & wanted:
            out.update((k, v) for k, v in flattener(parsed).items() if k in wanted)
    return out
