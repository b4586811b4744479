"""``landmarks`` and ``logos``: EntityAnnotations with a box.

``landmarks`` has one row per location (``latLng``); an entity without a
location keeps one row with null coordinates.
"""

from __future__ import annotations

import pyarrow as pa

from vision_results.parse import ParsedShard
from vision_results.tables._common import (
    BOX_FIELDS,
    PROPERTIES,
    Columns,
    properties,
    table_schema,
)
from vision_results.tables.ocr import page_size

_ENTITY = [
    pa.field("rank", pa.int32(), nullable=False),
    pa.field("mid", pa.string()),
    pa.field("description", pa.string()),
    pa.field("score", pa.float64()),
]
LANDMARKS = table_schema(
    *_ENTITY,
    pa.field("location_index", pa.int32()),
    pa.field("latitude", pa.float64()),
    pa.field("longitude", pa.float64()),
    *BOX_FIELDS,
    pa.field("properties", PROPERTIES),
)
LOGOS = table_schema(*_ENTITY, *BOX_FIELDS, pa.field("properties", PROPERTIES))


def flatten(parsed: ParsedShard) -> dict[str, pa.Table]:
    landmarks, logos = Columns(LANDMARKS, parsed), Columns(LOGOS, parsed)
    for index, response in enumerate(parsed.responses):
        width, height = page_size(response)
        for rank, entity in enumerate(response.get("landmarkAnnotations") or ()):
            locations = entity.get("locations") or [None]
            for location_index, location in enumerate(locations):
                lat_lng = (location or {}).get("latLng") or {}
                landmarks.key(index)
                landmarks.add(
                    rank=rank,
                    mid=entity.get("mid") or None,
                    description=entity.get("description") or None,
                    score=entity.get("score", 0.0),
                    location_index=None if location is None else location_index,
                    latitude=None if location is None else lat_lng.get("latitude", 0.0),
                    longitude=None if location is None else lat_lng.get("longitude", 0.0),
                    properties=properties(entity),
                )
                landmarks.add_box(entity.get("boundingPoly"), width, height)
        for rank, entity in enumerate(response.get("logoAnnotations") or ()):
            logos.key(index)
            logos.add(
                rank=rank,
                mid=entity.get("mid") or None,
                description=entity.get("description") or None,
                score=entity.get("score", 0.0),
                properties=properties(entity),
            )
            logos.add_box(entity.get("boundingPoly"), width, height)
    return {"landmarks": landmarks.table(), "logos": logos.table()}
