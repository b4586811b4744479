"""Hand-made responses, blank pictures and pixel probes shared by the drawing tests."""

from __future__ import annotations

import io
import sys
from typing import Any

import orjson
import pyarrow as pa
import pytest
from PIL import Image

import vision_results as vr

URI = "gs://bucket/photo.jpg"
WHITE = (255, 255, 255)
Point = tuple[float, float]


def poly(points: list[Point], key: str = "vertices") -> dict[str, Any]:
    return {key: [{"x": x, "y": y} for x, y in points]}


def rect(x0: float, y0: float, x1: float, y1: float, key: str = "vertices") -> dict[str, Any]:
    return poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], key)


def word(text: str, points: list[Point]) -> dict[str, Any]:
    symbols = [{"text": ch} for ch in text]
    return {"boundingBox": poly(points), "symbols": symbols, "confidence": 0.9}


def response(width: int, height: int, *words: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A response whose OCR page (of `words`, in one block 20 pixels inside the page)
    gives the image size."""
    block = {
        "boundingBox": rect(20, 20, width - 20, height - 20),
        "paragraphs": [{"words": list(words)}],
    }
    page = {"width": width, "height": height, "blocks": [block]}
    return {"fullTextAnnotation": {"pages": [page], "text": "x"}, **fields}


def tables_of(*responses: dict[str, Any], uri: str = URI) -> dict[str, pa.Table]:
    """Every table of one shard with `responses`, all about `uri`."""
    shard = {"responses": [{**r, "context": {"uri": uri}} for r in responses]}
    parsed = vr.parse_shard(orjson.dumps(shard), "output-1-to-1.json", "mem")
    return vr.flatten_shard(parsed, vr.TABLE_NAMES)


def blank(width: int, height: int, color: tuple[int, int, int] = WHITE) -> Image.Image:
    return Image.new("RGB", (width, height), color)


def png(picture: Image.Image, **options: Any) -> bytes:
    out = io.BytesIO()
    picture.save(out, format="PNG", **options)
    return out.getvalue()


def at(picture: Image.Image, x: float, y: float) -> Any:
    return picture.getpixel((round(x), round(y)))


def edge_midpoints(x0: float, y0: float, x1: float, y1: float) -> list[Point]:
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    return [(xm, y0), (xm, y1), (x0, ym), (x1, ym)]


def colours(picture: Image.Image) -> set[Any]:
    return {color for _, color in picture.getcolors(maxcolors=1 << 20) or []}


WORD = word("Invoice", [(100, 100), (200, 100), (200, 140), (100, 140)])
PLAIN = {"labels": False, "confidence": False}


def an_object(name: str, score: float | None = None) -> dict[str, pa.Table]:
    """The tables of one object, `name`, whose box is 100..300 x 150..270 on a 400x300
    picture; its caption band, if any, is in rows 120..149 above it."""
    obj: dict[str, Any] = {
        "name": name,
        "boundingPoly": rect(0.25, 0.5, 0.75, 0.9, "normalizedVertices"),
    }
    if score is not None:
        obj["score"] = score
    return tables_of({"localizedObjectAnnotations": [obj]})


def extent(
    picture: Image.Image, color: Any, x0: int, y0: int, x1: int, y1: int
) -> tuple[int, int, int, int] | None:
    """The bounds (left, top, right, bottom, inclusive) of the pixels of `color` in the
    rectangle x0..x1 x y0..y1 (inclusive); None when there are none."""
    found = [
        (x, y)
        for x in range(x0, x1 + 1)
        for y in range(y0, y1 + 1)
        if picture.getpixel((x, y)) == color
    ]
    if not found:
        return None
    xs, ys = [x for x, _ in found], [y for _, y in found]
    return min(xs), min(ys), max(xs), max(ys)


def hide_installed_fonts(monkeypatch: pytest.MonkeyPatch, *, matplotlib: bool = True) -> None:
    """No font folders for the caption fonts' lookup; nor matplotlib's DejaVu Sans
    unless `matplotlib`."""
    from vision_results import _fonts

    monkeypatch.setattr(_fonts, "FOLDERS", ())
    if not matplotlib:
        monkeypatch.setitem(sys.modules, "matplotlib", None)
