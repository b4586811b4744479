"""Pictures: an image with the boxes Vision found on it (``vr.draw``, ``res.show``).

Pillow is imported only when a picture is drawn: it comes with the ``notebook``
extra (``pip install 'vision-results[notebook]'``), which the core install does
without.

Where boxes land. Pixel ``vertices`` and bounds are in the units of the
response's OCR page (the pixels of the image Vision saw; points for PDF pages),
so they are scaled by the picture's size over the page's size: a thumbnail or a
PDF page rendered at any resolution works. ``normalized_vertices`` are fractions
of the picture's size. A box is drawn as its polygon, as Vision gave it, rather
than its axis-aligned bounds, so text on a rotated page is framed where it is.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Union

import pyarrow as pa
import pyarrow.compute as pc

from vision_results import _fonts
from vision_results.errors import ImageError, SourceError, UsageError, VisionResultsError
from vision_results.storage import read_object

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow.dataset as ds
    from PIL import Image, ImageDraw, ImageFont

__all__ = ["DEFAULT_KINDS", "DENSE_KINDS", "KINDS", "PALETTE", "draw"]

Color = tuple[int, int, int]
Row = dict[str, Any]
Point = tuple[float, float]


class Opened(Protocol):
    """What draw needs of an opened export (a :class:`~vision_results.results.Results`)."""

    @property
    def tables(self) -> Sequence[str]: ...

    def dataset(self, name: str) -> ds.Dataset: ...


Tables = Opened | str | os.PathLike[str] | Mapping[str, "pd.DataFrame | pa.Table"]
Picture = Union["Image.Image", bytes, str, os.PathLike[str]]
Captions = bool | str | Iterable[str] | None

PALETTE: dict[str, Color] = {
    "crop_hints": (255, 105, 180),  # pink
    "blocks": (148, 0, 211),  # violet
    "paragraphs": (255, 0, 255),  # magenta
    "lines": (0, 170, 170),  # teal
    "words": (0, 90, 255),  # blue
    "products": (128, 0, 0),  # maroon
    "objects": (0, 180, 0),  # green
    "landmarks": (139, 69, 19),  # brown
    "logos": (255, 200, 0),  # gold
    "faces": (255, 120, 0),  # orange: both boxes of a face, fdBoundingPoly the thinner
    "face_landmarks": (255, 0, 0),  # red: the dots of the face's landmarks
}
"""The colour of each kind (RGB). Kinds are drawn in this order, large to small, so
small boxes stay on top; labels are drawn last."""


@dataclass(frozen=True)
class _Kind:
    table: str
    label: str | None  # the column of the label's text; None: the kind's own name
    score: str
    boxes: tuple[str, ...] = ("",)  # column prefixes of the boxes drawn
    keep: Callable[[Row], bool] = lambda row: True


_KINDS = {
    "crop_hints": _Kind("crop_hints", None, "confidence"),
    "blocks": _Kind("ocr_blocks", "text", "confidence"),
    "paragraphs": _Kind("ocr_paragraphs", "text", "confidence"),
    "lines": _Kind("ocr_lines", "text", "confidence"),
    "words": _Kind("ocr_words", "text", "confidence"),
    # A group's box is on each of its results: drawn once, named after the best.
    "products": _Kind("products", "display_name", "score", keep=lambda r: r["rank"] == 0),
    "objects": _Kind("objects", "name", "score"),
    # One row per location: drawn once, from the first.
    "landmarks": _Kind("landmarks", "description", "score", keep=lambda r: not r["location_index"]),
    "logos": _Kind("logos", "description", "score"),
    "faces": _Kind("faces", None, "detection_confidence", boxes=("", "fd_")),
}
KINDS = tuple(_KINDS)
DEFAULT_KINDS = ("words", "objects", "faces", "logos", "landmarks", "crop_hints", "products")
DENSE_KINDS = ("words", "lines")
"""The kinds captioned only when asked for: a page of text has hundreds of them."""
_LABEL_CHARS = 30


def draw(
    tables: Tables,
    uri: str,
    *,
    image: Picture | None = None,
    images: Mapping[str, Picture] | None = None,
    page_number: int | None = None,
    kinds: Iterable[str] | None = None,
    labels: Captions = None,
    confidence: Captions = None,
    colors: Mapping[str, Color] | None = None,
    font: str | os.PathLike[str] | None = None,
    client: Any = None,
) -> Image.Image:
    """The picture of `uri` with the boxes of `tables` drawn on it, as a new RGB image.

    `tables`: a :class:`~vision_results.results.Results` (``vr.open``), an export's
    DEST folder, or a mapping of table name to DataFrame or Arrow table.

    The picture: `image` (a PIL image, bytes, or a path or ``gs://`` address) if
    given; else ``images[uri]`` if `images` has it; else `uri` itself when it is a
    local path or ``gs://`` (only that object is downloaded, with `client` or
    :func:`~vision_results.storage.storage_client`). Anything else raises
    :class:`ImageError`. The EXIF orientation is applied first: Vision's boxes are on
    the picture as displayed.

    `page_number`: the page of a PDF, TIFF or GIF (pass its picture as `image`).
    `kinds`: what to draw, from :data:`KINDS` (the OCR levels ``words``, ``lines``,
    ``paragraphs``, ``blocks``; ``objects``, ``faces`` with their landmarks,
    ``logos``, ``landmarks``, ``crop_hints``, ``products``); default
    :data:`DEFAULT_KINDS`, skipping tables that were not read (named kinds need
    their table).

    `labels` and `confidence`: which boxes get a caption above them with their text
    or name (`labels`) and their score (`confidence`). None (the default): every
    kind but :data:`DENSE_KINDS` (``words``, ``lines``), which would bury a page of
    text under captions; True: every kind; False: none; a kind or a list of kinds:
    those (``labels="words"`` captions the words alone, ``labels=True,
    confidence=False`` every box with its text but no score).
    `colors` overrides :data:`PALETTE` by kind.

    `font`: a TrueType or OpenType file for every caption. Without it, captions
    are in Pillow's built-in font, which has little beyond ASCII; a caption with a
    letter it lacks is in the first installed font that has all the caption's
    letters (DejaVu Sans, from the system's fonts or matplotlib's, for accented
    Latin, Greek, Cyrillic, Hebrew, Arabic; Noto Sans CJK for Japanese, Chinese,
    Korean; see ``vision_results._fonts``), else the one with the most of them,
    else the built-in font. A caption mostly in a right-to-left script (Hebrew,
    Arabic) ends at the box's right edge and reads right to left.
    """
    try:
        from PIL import ImageDraw, ImageOps
    except ImportError as exc:
        raise VisionResultsError(
            "drawing needs Pillow: pip install 'vision-results[notebook]'"
        ) from exc
    wanted = _kinds(kinds)
    named, scored = _captioned(labels), _captioned(confidence)
    key, page = _locate(tables, uri, page_number)
    if image is None and images is not None and uri in images:
        image = images[uri]
    picture = ImageOps.exif_transpose(_open(uri if image is None else image, client))
    canvas = picture.convert("RGB")
    palette = {**PALETTE, **(colors or {})}
    scale = _Scale(canvas.size, page)
    width = max(1, round(max(canvas.size) / 400))
    pen = ImageDraw.Draw(canvas)
    captions: list[tuple[list[Point], str, Color]] = []
    for name in (k for k in _KINDS if k in wanted):
        kind = _KINDS[name]
        rows = _rows(tables, kind.table, key)
        if rows is None:
            if kinds is None:
                continue
            raise UsageError(f"drawing {name} needs the table {kind.table!r}: read it too")
        for row in filter(kind.keep, rows):
            shapes = [s for s in (scale.polygon(row, prefix) for prefix in kind.boxes) if s]
            for i, shape in enumerate(shapes):
                pen.line([*shape, shape[0]], palette[name], width if i == 0 else max(1, width // 2))
            caption = _caption(row, kind, name, name in named, name in scored)
            if shapes and caption:
                captions.append((shapes[0], caption, palette[name]))
        if name == "faces":
            radius = width + 1
            for dot in _rows(tables, "face_landmarks", key) or []:
                x, y = scale.point(dot["x"], dot["y"])
                box = (x - radius, y - radius, x + radius, y + radius)
                pen.ellipse(box, fill=palette["face_landmarks"])
    size = max(10, round(max(canvas.size) / 80))
    try:
        chosen = _fonts.load(font, size) if font else None
    except OSError as exc:
        raise UsageError(f"{font}: not a font file Pillow can read ({exc})") from exc
    for shape, caption, color in captions:
        face = chosen or _fonts.font_for(caption, size)
        _tag(pen, face, shape, caption, color, canvas.width)
    return canvas


def _kinds(kinds: Iterable[str] | None) -> set[str]:
    wanted = set(DEFAULT_KINDS if kinds is None else [kinds] if isinstance(kinds, str) else kinds)
    if unknown := wanted - set(KINDS):
        raise UsageError(f"unknown kinds {sorted(unknown)}; choose from {', '.join(KINDS)}")
    return wanted


def _captioned(option: Captions) -> set[str]:
    """The kinds a `labels` or `confidence` option captions."""
    if option is None:
        return set(KINDS) - set(DENSE_KINDS)
    if isinstance(option, bool):
        return set(KINDS) if option else set()
    return _kinds(option)


def _rows(tables: Tables, name: str, where: pc.Expression) -> list[Row] | None:
    """The rows of table `name` that match `where`; None when there is no such table."""
    import pyarrow.dataset as ds  # imports pandas: only when drawing

    if isinstance(tables, Mapping):
        if name not in tables:
            return None
        table = tables[name]
        data = ds.dataset(
            table
            if isinstance(table, pa.Table)
            else pa.Table.from_pandas(table, preserve_index=False)
        )
    elif isinstance(tables, str | os.PathLike):
        folder = Path(tables) / name
        if not folder.is_dir():
            return None
        data = ds.dataset(folder, format="parquet")
    elif name in tables.tables:
        data = tables.dataset(name)
    else:
        return None
    rows: list[Row] = data.to_table(filter=where).to_pylist()
    return rows


def _locate(
    tables: Tables, uri: str, page_number: int | None
) -> tuple[pc.Expression, tuple[int, int] | None]:
    """The filter of the rows of `uri` (and `page_number`), and the page's size if known.

    Checked against ``images`` before any picture is fetched: a uri or page that is
    not in the results is an error, not a bare picture.
    """
    key = pc.field("uri") == uri
    answers = _rows(tables, "images", key)
    page = pc.field("page_number")
    key &= page.is_null() if page_number is None else page == page_number
    if answers is None:
        return key, None
    pages = sorted({r["page_number"] for r in answers} - {None})
    chosen = [r for r in answers if r["page_number"] == page_number]
    if not answers:
        raise UsageError(f"{uri}: not in these results (see the uri column of images)")
    if not chosen and page_number is None:
        raise UsageError(
            f"{uri} is a file with pages {pages}: pass page_number= and that page's picture "
            "as image="
        )
    if not chosen:
        raise UsageError(f"{uri} has no page {page_number}; its pages: {pages or 'none'}")
    width, height = chosen[-1]["width"], chosen[-1]["height"]
    return key, (width, height) if width and height else None


def _open(picture: Picture, client: Any) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    if isinstance(picture, Image.Image):
        return picture
    name = "the image= bytes" if isinstance(picture, bytes) else os.fspath(picture)
    data = picture if isinstance(picture, bytes) else _fetch(name, client)
    try:
        return Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise ImageError(f"{name}: not an image Pillow can read") from exc


def _fetch(location: str, client: Any) -> bytes:
    """The bytes of a local file or one ``gs://`` object; nothing else is fetched."""
    how = (
        "Pass the picture as image= (a PIL image, bytes or a path), or images={uri: picture} "
        "for many."
    )
    if location.startswith("gs://"):
        try:
            return read_object(location, client)
        except SourceError as exc:
            raise ImageError(f"{exc}. {how}") from exc
    if "://" in location:
        raise ImageError(f"{location}: only local files and gs:// objects are fetched. {how}")
    path = Path(location)
    if not path.is_file():
        raise ImageError(f"{location}: no such file. {how}")
    return path.read_bytes()


class _Scale:
    """From the tables' coordinates to the picture's pixels."""

    def __init__(self, size: tuple[int, int], page: tuple[int, int] | None) -> None:
        self.width, self.height = size
        page_width, page_height = page or size
        self.sx, self.sy = self.width / page_width, self.height / page_height

    def point(self, x: float, y: float) -> Point:
        return x * self.sx, y * self.sy

    def polygon(self, row: Row, prefix: str) -> list[Point]:
        """The box of `row` (columns starting with `prefix`): its pixel polygon, else its
        normalised one, else its bounds (all ``ocr_lines`` has); [] when it has none."""
        if vertices := row.get(f"{prefix}vertices"):
            return [self.point(v["x"], v["y"]) for v in vertices]
        if normalized := row.get(f"{prefix}normalized_vertices"):
            return [(v["x"] * self.width, v["y"] * self.height) for v in normalized]
        if row.get(f"{prefix}x_min") is None:
            return []
        x0, y0 = self.point(row[f"{prefix}x_min"], row[f"{prefix}y_min"])
        x1, y1 = self.point(row[f"{prefix}x_max"], row[f"{prefix}y_max"])
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _caption(row: Row, kind: _Kind, name: str, labels: bool, confidence: bool) -> str:
    parts = []
    if labels:
        text = str(row[kind.label] or "") if kind.label else name.rstrip("s").replace("_", " ")
        text = " ".join(text.split())  # one line, even for a block's text
        parts.append(text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…")
    if confidence and row[kind.score] is not None:
        parts.append(f"{row[kind.score]:.2f}")
    return " ".join(p for p in parts if p)


def _tag(
    pen: ImageDraw.ImageDraw,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    shape: list[Point],
    caption: str,
    color: Color,
    image_width: int,
) -> None:
    """`caption` on a band of `color` just above the box (inside it at the top edge),
    in black or white, whichever reads better on that colour. The band starts at the
    box's left edge, or ends at its right edge when the caption reads right to left."""
    from PIL import ImageFont

    rtl = _fonts.right_to_left(caption)
    direction = None
    if rtl and getattr(font, "layout_engine", None) == ImageFont.Layout.RAQM:
        direction = "rtl"  # libraqm orders the letters (and any number) itself
    elif rtl:
        caption = _fonts.display_order(caption)  # without it they would read backwards
    left, top, right, bottom = pen.textbbox((0, 0), caption, font=font, direction=direction)
    pad = 2
    w, h = right - left + 2 * pad, bottom - top + 2 * pad
    xs = [p[0] for p in shape]
    x = max(0, min(max(xs) - w if rtl else min(xs), image_width - w))
    y = min(p[1] for p in shape) - h
    y = y if y >= 0 else y + h
    pen.rectangle((x, y, x + w, y + h), fill=color)
    light = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2] > 150
    pen.text(
        (x + pad - left, y + pad - top),
        caption,
        fill=(0, 0, 0) if light else (255, 255, 255),
        font=font,
        direction=direction,
    )
