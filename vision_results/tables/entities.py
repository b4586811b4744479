"""``landmarks`` and ``logos``: EntityAnnotations with a box.

``landmarks`` has one row per location (``latLng``); an entity without a
location keeps one row with null coordinates.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vision_results.batch import Batch
from vision_results.messages import ENTITIES, PAGE_SIZE, PAGE_SIZES
from vision_results.tables import _arrow
from vision_results.tables._boxes import boxes
from vision_results.tables._common import (
    BOX_FIELDS,
    PROPERTIES,
    table_schema,
)
from vision_results.tables._registry import Declaration

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


def flatten(batch: Batch) -> dict[str, pa.Table]:
    width, height = batch.page_sizes
    landmarks = _arrow.explode(batch.field("landmarkAnnotations"))
    logos = _arrow.explode(batch.field("logoAnnotations"))
    return {
        "landmarks": _landmarks(batch, landmarks, width, height),
        "logos": pa.Table.from_pydict(
            _entity_columns(batch, logos, np.arange(len(logos)), width, height), schema=LOGOS
        ),
    }


def _entity_columns(
    batch: Batch, level: _arrow.Level, rows: np.ndarray, width: np.ndarray, height: np.ndarray
) -> dict[str, pa.Array]:
    """The columns every entity table has, for output rows of entities ``rows``."""
    entities = level.values.take(pa.array(rows, pa.int64()))
    responses = level.parents[rows]
    return {
        **batch.keys(responses),
        "rank": level.positions[rows],
        "mid": _arrow.text(_arrow.field(entities, "mid")),
        "description": _arrow.text(_arrow.field(entities, "description")),
        "score": _arrow.number(_arrow.field(entities, "score")),
        **boxes(_arrow.field(entities, "boundingPoly"), width[responses], height[responses]),
        "properties": _arrow.properties(entities),
    }


def _landmarks(
    batch: Batch, level: _arrow.Level, width: np.ndarray, height: np.ndarray
) -> pa.Table:
    """One row per location of each landmark; one with null location columns for a
    landmark without any."""
    locations = _arrow.explode(_arrow.field(level.values, "locations"))
    counts = np.maximum(locations.lengths(), 1)
    rows = np.repeat(np.arange(len(level), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    position = np.arange(len(rows), dtype=np.int64) - starts[rows]
    has_location = locations.lengths()[rows] > 0
    taken = pa.array(locations.offsets[rows] + position, mask=~has_location)
    location = locations.values.take(taken)
    present = pc.is_valid(location)  # a null item of the list counts as none, too

    def coordinate(name: str) -> pa.Array:
        values = _arrow.number(_arrow.field(location, "latLng", name))
        return pc.if_else(present, values, pa.scalar(None, pa.float64()))

    columns = {
        **_entity_columns(batch, level, rows, width, height),
        "location_index": pc.if_else(present, pa.array(position, pa.int32()), None),
        "latitude": coordinate("latitude"),
        "longitude": coordinate("longitude"),
    }
    return pa.Table.from_pydict(columns, schema=LANDMARKS)


DECLARATION = Declaration(
    tables={"landmarks": LANDMARKS, "logos": LOGOS},
    reads={
        "landmarkAnnotations": ENTITIES,
        "logoAnnotations": ENTITIES,
        PAGE_SIZE: PAGE_SIZES,
    },
    flatten=flatten,
    position=60,
)
