"""Every table: its explicit Arrow schema and the pure function that fills it.

A flattener takes one :class:`~vision_results.batch.Batch` (a shard's responses
in Arrow) and returns Arrow tables by name; :func:`flatten_shard` runs those
that are asked for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

import pyarrow as pa

from vision_results.batch import Batch
from vision_results.canonical import WrongType, to_arrow
from vision_results.errors import ShardError
from vision_results.messages import PAGE_SIZE, response_type
from vision_results.naming import RESPONSE_FIELDS
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

Flattener = Callable[[Batch], dict[str, pa.Table]]


def _sized(*fields: str) -> frozenset[str]:
    """``fields`` and the page size, to scale normalized vertices to pixels."""
    return frozenset({*fields, PAGE_SIZE})


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

FLATTENERS: list[tuple[frozenset[str], Flattener, frozenset[str]]] = [
    # (the tables a flattener fills, the flattener, the response fields it reads)
    (frozenset({"images"}), images.flatten, RESPONSE_FIELDS),
    (frozenset({"labels"}), labels.flatten, frozenset({"labelAnnotations"})),
    (frozenset({"text_annotations"}), text_annotations.flatten, _sized("textAnnotations")),
    (frozenset(ocr.SCHEMAS), ocr.flatten, frozenset({"fullTextAnnotation"})),
    (frozenset({"faces", "face_landmarks"}), faces.flatten, _sized("faceAnnotations")),
    (
        frozenset({"landmarks", "logos"}),
        entities.flatten,
        _sized("landmarkAnnotations", "logoAnnotations"),
    ),
    (frozenset({"objects"}), objects.flatten, _sized("localizedObjectAnnotations")),
    (
        frozenset({"safe_search", "colors", "crop_hints"}),
        image_properties.flatten,
        _sized("safeSearchAnnotation", "imagePropertiesAnnotation", "cropHintsAnnotation"),
    ),
    (
        frozenset({"web_entities", "web_images", "web_pages", "web_labels"}),
        web.flatten,
        frozenset({"webDetection"}),
    ),
    (
        frozenset({"products", "product_objects"}),
        products.flatten,
        _sized("productSearchResults"),
    ),
    (frozenset({"errors"}), errors.flatten, frozenset()),
]


@functools.cache
def fields_for(tables: frozenset[str]) -> frozenset[str]:
    """The response fields the flatteners of ``tables`` read: the parser builds only
    those (``context`` and ``error`` always)."""
    return frozenset().union(*(fields for names, _, fields in FLATTENERS if names & tables))


def flatten_shard(shard: Batch | ParsedShard, tables: Iterable[str]) -> dict[str, pa.Table]:
    """The asked-for tables of one shard, by name: a :class:`Batch`, or a
    :class:`ParsedShard` of :func:`~vision_results.parse.parse_shard` (converted
    once; the export decodes straight to a Batch, :mod:`vision_results.decode`)."""
    wanted = set(tables)
    batch = shard if isinstance(shard, Batch) else _batch(shard, fields_for(frozenset(wanted)))
    out: dict[str, pa.Table] = {}
    for names, flattener, _ in FLATTENERS:
        if names & wanted:
            out.update((k, v) for k, v in flattener(batch).items() if k in wanted)
    return out


def _batch(parsed: ParsedShard, fields: frozenset[str]) -> Batch:
    paths = parsed.paths or [f"responses[{i}]" for i in range(len(parsed.responses))]
    try:
        responses = to_arrow(parsed.responses, response_type(fields), paths)
    except WrongType as exc:
        raise ShardError(parsed.shard, f"not a Vision response: {exc}") from None
    return Batch.of(parsed, responses)
