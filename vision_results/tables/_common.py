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

import pyarrow as pa

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

Box = tuple[
    float | None,
    float | None,
    float | None,
    float | None,
    list[dict[str, int]] | None,
    list[dict[str, float]] | None,
]
NO_BOX: Box = (None, None, None, None, None, None)


def table_schema(*fields: pa.Field) -> pa.Schema:
    """A table's schema: the key columns, then its own."""
    return pa.schema([*KEY_FIELDS, *fields])


def box(poly: dict[str, Any] | None, width: float | None, height: float | None) -> Box:
    """Pixel bounds and the polygon as given, from a BoundingPoly.

    Pixel bounds come from ``vertices``, or from ``normalizedVertices`` times the
    page size when that is known; a missing x or y is 0.
    """
    if not poly:
        return NO_BOX
    pixel = poly.get("vertices") or None
    normal = poly.get("normalizedVertices") or None
    pixel_points = [{"x": v.get("x", 0), "y": v.get("y", 0)} for v in pixel] if pixel else None
    normal_points = (
        [{"x": v.get("x", 0.0), "y": v.get("y", 0.0)} for v in normal] if normal else None
    )
    if pixel_points:
        xs = [p["x"] for p in pixel_points]
        ys = [p["y"] for p in pixel_points]
        return min(xs), min(ys), max(xs), max(ys), pixel_points, normal_points
    if normal_points and width and height:
        xs = [p["x"] for p in normal_points]
        ys = [p["y"] for p in normal_points]
        return (
            min(xs) * width,
            min(ys) * height,
            max(xs) * width,
            max(ys) * height,
            None,
            normal_points,
        )
    return None, None, None, None, None, normal_points


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
    """Column lists for one table of one shard, appended row by row."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.data: dict[str, list[Any]] = {name: [] for name in schema.names}
        self._keys = [self.data[f.name] for f in KEY_FIELDS]

    def key(self, parsed: ParsedShard, index: int) -> None:
        """Append the key columns of response ``index``."""
        uri, page, shard, position = self._keys
        uri.append(parsed.uris[index])
        page.append(parsed.pages[index])
        shard.append(parsed.shard)
        position.append(index)

    def add(self, **values: Any) -> None:
        for name, value in values.items():
            self.data[name].append(value)

    def add_box(self, value: Box) -> None:
        for name, item in zip(BOX_NAMES, value, strict=True):
            self.data[name].append(item)

    def table(self) -> pa.Table:
        return pa.Table.from_pydict(self.data, schema=self.schema)
