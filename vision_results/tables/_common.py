"""What every table shares: the key columns, boxes, enum names, column building.

Normalisation rules, so the service's JSON (zero values omitted) and a client's
re-serialised JSON (every default present, enums as numbers) give identical rows:

- a missing number is 0 (proto3), a missing or empty string is null;
- an enum is always its name (``"LINE_BREAK"``), whether written as name or number;
- an empty list is the same as a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vision_results.parse import ParsedShard

KEY_FIELDS = [
    pa.field("uri", pa.string(), nullable=False),
    pa.field("page_number", pa.int32()),
    pa.field("shard", pa.string(), nullable=False),
    pa.field("response_index", pa.int32(), nullable=False),
]

VERTICES = pa.list_(pa.struct([("x", pa.int32()), ("y", pa.int32())]))
NORMALIZED_VERTICES = pa.list_(pa.struct([("x", pa.float64()), ("y", pa.float64())]))

BOX_FIELDS = [
    pa.field("x_min", pa.float64()),
    pa.field("y_min", pa.float64()),
    pa.field("x_max", pa.float64()),
    pa.field("y_max", pa.float64()),
    pa.field("vertices", VERTICES),
    pa.field("normalized_vertices", NORMALIZED_VERTICES),
]
BOX_NAMES = [f.name for f in BOX_FIELDS]
KEY_NAMES = [f.name for f in KEY_FIELDS]


def table_schema(*fields: pa.Field) -> pa.Schema:
    """A table's schema: the key columns, then its own."""
    return pa.schema([*KEY_FIELDS, *fields])


def _zero_filled(raw: list[Any], list_type: pa.DataType) -> pa.ListArray:
    """Polygons from the JSON's vertex dicts; a missing x or y becomes 0."""
    polygons = pa.array(raw, type=list_type)
    points = polygons.values
    filled = pa.StructArray.from_arrays(
        [pc.fill_null(points.field("x"), 0), pc.fill_null(points.field("y"), 0)],
        fields=list(list_type.value_type),
    )
    return pa.ListArray.from_arrays(
        polygons.offsets, filled, type=list_type, mask=polygons.is_null()
    )


def segment_reduce(reduce: np.ufunc, values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``reduce`` over each segment of ``values`` between ``offsets``; NaN where empty."""
    out = np.full(len(offsets) - 1, np.nan)
    filled = np.diff(offsets) > 0
    if filled.any():
        out[filled] = reduce.reduceat(values, offsets[:-1][filled])
    return out


def _extent(polygons: pa.ListArray, axis: str) -> tuple[np.ndarray, np.ndarray]:
    offsets = polygons.offsets.to_numpy()
    values = polygons.values.field(axis).to_numpy(zero_copy_only=False).astype(np.float64)
    return segment_reduce(np.fmin, values, offsets), segment_reduce(np.fmax, values, offsets)


def box_columns(
    vertices: list[Any], normalized: list[Any], width: list[Any], height: list[Any]
) -> dict[str, pa.Array]:
    """The box columns, computed for a whole table at once.

    ``x_min`` .. ``y_max`` are pixels: from ``vertices``, or else from
    ``normalizedVertices`` times the page size when that is known.
    """
    pixel = _zero_filled(vertices, VERTICES)
    normal = _zero_filled(normalized, NORMALIZED_VERTICES)
    scale = {
        "x": np.array(width, dtype=np.float64),
        "y": np.array(height, dtype=np.float64),
    }
    out: dict[str, pa.Array] = {}
    for axis in ("x", "y"):
        low, high = _extent(pixel, axis)
        normal_low, normal_high = _extent(normal, axis)
        # Both sizes known, or a normalized box gives no pixels at all.
        use_normal = np.isnan(low) & ~np.isnan(scale["x"]) & ~np.isnan(scale["y"])
        low[use_normal] = normal_low[use_normal] * scale[axis][use_normal]
        high[use_normal] = normal_high[use_normal] * scale[axis][use_normal]
        out[f"{axis}_min"] = pa.array(low, from_pandas=True)
        out[f"{axis}_max"] = pa.array(high, from_pandas=True)
    out["vertices"] = pixel
    out["normalized_vertices"] = normal
    return out


def enum_name(value: Any, names: Sequence[str]) -> str:
    """An enum as its name: names stay, numbers are looked up, missing is value 0."""
    if value is None:
        return names[0]
    if isinstance(value, int):
        return names[value] if 0 <= value < len(names) else str(value)
    return str(value)


def top_language(prop: dict[str, Any] | None) -> str | None:
    """The most confident of a TextProperty's detected languages (first on ties)."""
    languages = (prop or {}).get("detectedLanguages")
    if not languages:
        return None
    best = max(languages, key=lambda lang: lang.get("confidence", 0.0))
    return best.get("languageCode") or None


class Columns:
    """Column lists for one table of one shard, appended row by row.

    Only ``response_index`` is kept per row for the key; ``uri``, ``page_number``
    and ``shard`` are taken from the shard when the table is built. Boxes keep
    the JSON's polygons and are computed for all rows at once (:func:`box_columns`).
    """

    def __init__(self, schema: pa.Schema, parsed: ParsedShard) -> None:
        self.schema = schema
        self.parsed = parsed
        own = [name for name in schema.names if name not in KEY_NAMES and name not in BOX_NAMES]
        self.data: dict[str, list[Any]] = {name: [] for name in own}
        self.rows: list[int] = []
        self._boxes: tuple[list[Any], ...] = ([], [], [], [])

    def key(self, index: int) -> None:
        """Start a row for response ``index``."""
        self.rows.append(index)

    def add(self, **values: Any) -> None:
        for name, value in values.items():
            self.data[name].append(value)

    def add_box(self, poly: dict[str, Any] | None, width: Any, height: Any) -> None:
        """The row's BoundingPoly, with the page size to scale normalized vertices."""
        vertices, normalized, widths, heights = self._boxes
        if poly:
            vertices.append(poly.get("vertices") or None)
            normalized.append(poly.get("normalizedVertices") or None)
        else:
            vertices.append(None)
            normalized.append(None)
        widths.append(width)
        heights.append(height)

    def table(self, **arrays: pa.Array) -> pa.Table:
        """The Arrow table; ``arrays`` gives columns computed elsewhere."""
        index = pa.array(self.rows, pa.int32())
        columns: dict[str, Any] = {
            "uri": pa.array(self.parsed.uris, pa.string()).take(index),
            "page_number": pa.array(self.parsed.pages, pa.int32()).take(index),
            "shard": pa.repeat(self.parsed.shard, len(self.rows)),
            "response_index": index,
            **self.data,
            **arrays,
        }
        if "vertices" in self.schema.names:
            columns.update(box_columns(*self._boxes))
        return pa.Table.from_pydict(
            {name: columns[name] for name in self.schema.names}, schema=self.schema
        )
