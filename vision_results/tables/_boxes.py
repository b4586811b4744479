"""Boxes, computed for a whole table at once.

Polygons are kept as the JSON gives them, missing coordinates (proto3 omits
zeros) filled with 0; pixel bounds are segment reductions in numpy, not a
Python loop per element.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vision_results.tables._arrow import rename_struct_list

VERTICES = pa.list_(pa.struct([("x", pa.int32()), ("y", pa.int32())]))
NORMALIZED_VERTICES = pa.list_(pa.struct([("x", pa.float64()), ("y", pa.float64())]))
BOUND_NAMES = ("x_min", "y_min", "x_max", "y_max")
NORMALIZED_BOUND_NAMES = tuple(f"norm_{name}" for name in BOUND_NAMES)
PIXEL_DECIMALS = 3
"""Pixel bounds computed from normalized vertices are rounded to this many decimals:
a float32 vertex holds about 7 significant digits, which for pages below 10,000
pixels (or points) is 3 decimals; the rest is noise of the product
(73.00000021999999 -> 73.0)."""


def box_fields(prefix: str = "", *, normalized_bounds: bool = False) -> list[pa.Field]:
    """Pixel bounds, optionally normalized bounds, then both polygons as given."""
    names = BOUND_NAMES + (NORMALIZED_BOUND_NAMES if normalized_bounds else ())
    return [
        *(pa.field(f"{prefix}{name}", pa.float64()) for name in names),
        pa.field(f"{prefix}vertices", VERTICES),
        pa.field(f"{prefix}normalized_vertices", NORMALIZED_VERTICES),
    ]


def segment_reduce(reduce: np.ufunc, values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``reduce`` over each segment of ``values`` between ``offsets``; NaN where empty."""
    out = np.full(len(offsets) - 1, np.nan)
    filled = np.diff(offsets) > 0
    if filled.any():
        out[filled] = reduce.reduceat(values, offsets[:-1][filled])
    return out


def _extent(polygons: pa.ListArray, axis: str) -> tuple[np.ndarray, np.ndarray]:
    offsets = polygons.offsets.to_numpy()
    values = polygons.values.field(axis).to_numpy(zero_copy_only=False)  # float64 only per box
    return segment_reduce(np.fmin, values, offsets), segment_reduce(np.fmax, values, offsets)


def _column(values: np.ndarray) -> pa.Array:
    return pa.array(values, from_pandas=True)  # NaN -> null


def _columns(
    pixel: pa.ListArray, normal: pa.ListArray, width: np.ndarray, height: np.ndarray, prefix: str
) -> dict[str, pa.Array]:
    scale = {"x": width, "y": height}
    known = ~np.isnan(scale["x"]) & ~np.isnan(scale["y"])
    out: dict[str, pa.Array] = {}
    for axis in ("x", "y"):
        low, high = _extent(pixel, axis)
        normal_low, normal_high = _extent(normal, axis)
        use_normal = np.isnan(low) & known
        low[use_normal] = np.round(normal_low[use_normal] * scale[axis][use_normal], PIXEL_DECIMALS)
        high[use_normal] = np.round(
            normal_high[use_normal] * scale[axis][use_normal], PIXEL_DECIMALS
        )
        out[f"{prefix}{axis}_min"] = _column(low)
        out[f"{prefix}{axis}_max"] = _column(high)
        out[f"{prefix}norm_{axis}_min"] = _column(normal_low)
        out[f"{prefix}norm_{axis}_max"] = _column(normal_high)
    out[f"{prefix}vertices"] = pixel
    out[f"{prefix}normalized_vertices"] = normal
    return out


def boxes(
    polys: pa.Array, width: np.ndarray, height: np.ndarray, prefix: str = ""
) -> dict[str, pa.Array]:
    """The box columns of BoundingPoly structs (null where an element has none), with
    each row's page size (NaN where unknown) to scale normalized vertices."""
    pixel = rename_struct_list(pc.struct_field(polys, "vertices"), ["x", "y"],
                               {"x": 0, "y": 0}, VERTICES)  # fmt: skip
    normal = rename_struct_list(pc.struct_field(polys, "normalizedVertices"), ["x", "y"],
                                {"x": 0.0, "y": 0.0}, NORMALIZED_VERTICES)  # fmt: skip
    return _columns(pixel, normal, np.asarray(width, np.float64), np.asarray(height, np.float64),
                    prefix)  # fmt: skip
