"""``safe_search``, ``colors`` (dominant colors) and ``crop_hints``: one small table each."""

from __future__ import annotations

import pyarrow as pa

from vision_results.parse import ParsedShard
from vision_results.tables._common import (
    BOX_FIELDS,
    Columns,
    likelihood,
    likelihood_fields,
    table_schema,
)
from vision_results.tables.ocr import page_size

SAFE_SEARCH_FIELDS = ("adult", "spoof", "medical", "violence", "racy")

SAFE_SEARCH = table_schema(*likelihood_fields(*SAFE_SEARCH_FIELDS))
COLORS = table_schema(
    pa.field("rank", pa.int32(), nullable=False),
    pa.field("red", pa.float64()),
    pa.field("green", pa.float64()),
    pa.field("blue", pa.float64()),
    pa.field("alpha", pa.float64()),
    pa.field("hex", pa.string()),
    pa.field("score", pa.float64()),
    pa.field("pixel_fraction", pa.float64()),
)
CROP_HINTS = table_schema(
    pa.field("rank", pa.int32(), nullable=False),
    *BOX_FIELDS,
    pa.field("confidence", pa.float64()),
    pa.field("importance_fraction", pa.float64()),
)


def hex_color(red: float, green: float, blue: float) -> str:
    """``#rrggbb`` from 0-255 components."""
    return "#" + "".join(f"{min(255, max(0, round(c))):02x}" for c in (red, green, blue))


def flatten(parsed: ParsedShard) -> dict[str, pa.Table]:
    safe, colors = Columns(SAFE_SEARCH, parsed), Columns(COLORS, parsed)
    crops = Columns(CROP_HINTS, parsed)
    for index, response in enumerate(parsed.responses):
        safe_search = response.get("safeSearchAnnotation")
        if safe_search:
            safe.key(index)
            for field in SAFE_SEARCH_FIELDS:
                name, level = likelihood(safe_search.get(field))
                safe.add(**{field: name, f"{field}_level": level})
        dominant = (response.get("imagePropertiesAnnotation") or {}).get("dominantColors") or {}
        for rank, item in enumerate(dominant.get("colors") or ()):
            color = item.get("color") or {}
            red, green, blue = (color.get(c, 0.0) for c in ("red", "green", "blue"))
            alpha = color.get("alpha")
            colors.key(index)
            colors.add(
                rank=rank,
                red=red,
                green=green,
                blue=blue,
                # A FloatValue wrapper: absent is "fully opaque", not 0.
                alpha=alpha.get("value", 0.0) if isinstance(alpha, dict) else alpha,
                hex=hex_color(red, green, blue),
                score=item.get("score", 0.0),
                pixel_fraction=item.get("pixelFraction", 0.0),
            )
        hints = (response.get("cropHintsAnnotation") or {}).get("cropHints")
        if hints:
            width, height = page_size(response)
            for rank, hint in enumerate(hints):
                crops.key(index)
                crops.add(
                    rank=rank,
                    confidence=hint.get("confidence", 0.0),
                    importance_fraction=hint.get("importanceFraction", 0.0),
                )
                crops.add_box(hint.get("boundingPoly"), width, height)
    return {"safe_search": safe.table(), "colors": colors.table(), "crop_hints": crops.table()}
