"""vr.draw / res.show: boxes land on the right pixels, in the right colours.

Every picture is generated: blank images of the page's size (or another size, to
check scaling), and the drawn result is read back pixel by pixel.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import vision_results as vr
from tests.draw_helpers import (
    PLAIN,
    URI,
    WHITE,
    WORD,
    Point,
    at,
    blank,
    colours,
    edge_midpoints,
    extent,
    hide_installed_fonts,
    png,
    rect,
    response,
    tables_of,
    word,
)
from vision_results.draw import DENSE_KINDS, KINDS, PALETTE, draw
from vision_results.synth import SAMPLE_IMAGES, SAMPLE_SEED, write_sample

# --- where boxes land ----------------------------------------------------------------


def test_word_box_edges_are_drawn_in_the_word_colour() -> None:
    picture = blank(400, 300)
    out = draw(tables_of(response(400, 300, WORD)), URI, images={URI: picture}, **PLAIN)

    assert out.size == (400, 300)
    for x, y in [*edge_midpoints(100, 100, 200, 140), (100, 100), (200, 140)]:
        assert at(out, x, y) == PALETTE["words"], (x, y)
    assert at(out, 150, 120) == WHITE  # inside the box
    assert at(out, 150, 95) == at(out, 205, 120) == WHITE  # outside, one line width away
    assert colours(picture) == {WHITE}  # a new image: the one given is left as it was


def test_pixel_boxes_scale_with_the_picture_and_normalized_ones_are_fractions_of_it() -> None:
    # The page is 800x600; the picture is a 400x300 thumbnail of it.
    obj = {
        "name": "Dog",
        "score": 0.8,
        "boundingPoly": rect(0.25, 0.5, 0.75, 0.9, "normalizedVertices"),
    }
    tables = tables_of(
        response(
            800,
            600,
            word("big", [(200, 100), (400, 100), (400, 200), (200, 200)]),
            localizedObjectAnnotations=[obj],
        )
    )
    out = draw(tables, URI, image=blank(400, 300), **PLAIN)

    for x, y in edge_midpoints(100, 50, 200, 100):  # the word's pixels, halved
        assert at(out, x, y) == PALETTE["words"], (x, y)
    for x, y in edge_midpoints(100, 150, 300, 270):  # 0.25..0.75 x 400, 0.5..0.9 x 300
        assert at(out, x, y) == PALETTE["objects"], (x, y)
    assert at(out, 200, 210) == WHITE


def test_normalized_boxes_land_without_an_ocr_page() -> None:
    obj = {"name": "Cat", "boundingPoly": rect(0.2, 0.25, 0.6, 0.75, "normalizedVertices")}
    tables = tables_of({"localizedObjectAnnotations": [obj]})
    assert tables["objects"].column("x_min").to_pylist() == [None]  # no size in the JSON

    out = draw(tables, URI, image=blank(500, 400), **PLAIN)
    for x, y in edge_midpoints(100, 100, 300, 300):
        assert at(out, x, y) == PALETTE["objects"], (x, y)


def rotated(cx: float, cy: float, w: float, h: float, degrees: float) -> list[Point]:
    """The corners of a w x h box turned by `degrees` about its centre, in reading order
    (top-left of the text first), as Vision gives rotated text."""
    a = math.radians(degrees)
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    return [
        (
            round(cx + x * math.cos(a) - y * math.sin(a)),
            round(cy + x * math.sin(a) + y * math.cos(a)),
        )
        for x, y in corners
    ]


def test_rotated_text_is_framed_by_its_polygon_not_its_bounds() -> None:
    # Text on a page turned 90 degrees reads bottom to top: its first vertex is the
    # bottom-left corner of the box. Another word is tilted by 30 degrees.
    upright = [(100, 700), (100, 300), (160, 300), (160, 700)]
    tilted = rotated(700, 400, 300, 60, 30)
    tables = tables_of(response(1200, 1200, word("up", upright), word("tilted", tilted)))
    out = draw(tables, URI, image=blank(1200, 1200), kinds=["words"], **PLAIN)

    assert tables["ocr_words"].column("vertices").to_pylist()[0][0] == {"x": 100, "y": 700}
    for x, y in edge_midpoints(100, 300, 160, 700):
        assert at(out, x, y) == PALETTE["words"], (x, y)
    for (xa, ya), (xb, yb) in zip(tilted, [*tilted[1:], tilted[0]], strict=True):
        for t in (0.25, 0.5, 0.75):
            assert at(out, xa + t * (xb - xa), ya + t * (yb - ya)) == PALETTE["words"]
    # The axis-aligned bounds of the tilted word were not drawn: their corners are blank.
    xs, ys = [p[0] for p in tilted], [p[1] for p in tilted]
    for x, y in [(min(xs), min(ys)), (max(xs), max(ys)), (700, 400)]:
        assert at(out, x, y) == WHITE, (x, y)


def test_exif_orientation_is_applied_before_drawing() -> None:
    # The file holds 300x400 pixels with "rotate 90 clockwise" (EXIF orientation 6):
    # it displays, and Vision reads it, as 400x300.
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = png(blank(300, 400, (10, 20, 30)), exif=exif)
    out = draw(tables_of(response(400, 300, WORD)), URI, image=stored, **PLAIN)

    assert out.size == (400, 300)
    for x, y in edge_midpoints(100, 100, 200, 140):
        assert at(out, x, y) == PALETTE["words"], (x, y)
    assert at(out, 150, 120) == (10, 20, 30)


FACE = {
    "boundingPoly": rect(100, 80, 300, 320),
    "fdBoundingPoly": rect(120, 120, 280, 300),
    "landmarks": [
        {"type": "LEFT_EYE", "position": {"x": 160, "y": 180, "z": 0.1}},
        {"type": "RIGHT_EYE", "position": {"x": 240, "y": 180}},
        {"type": "NOSE_TIP", "position": {"x": 200, "y": 240, "z": -5}},
    ],
    "detectionConfidence": 0.93,
}


def test_faces_have_both_boxes_and_a_dot_per_landmark() -> None:
    tables = tables_of(response(400, 400, faceAnnotations=[FACE]))
    out = draw(tables, URI, image=blank(400, 400), kinds=["faces"], **PLAIN)

    for x, y in edge_midpoints(100, 80, 300, 320) + edge_midpoints(120, 120, 280, 300):
        assert at(out, x, y) == PALETTE["faces"], (x, y)
    for x, y in [(160, 180), (240, 180), (200, 240)]:
        for dx, dy in [(0, 0), (2, 0), (0, -2)]:  # a dot, not a pixel
            assert at(out, x + dx, y + dy) == PALETTE["face_landmarks"], (x + dx, y + dy)
    assert at(out, 200, 200) == at(out, 160, 190) == WHITE


def test_crop_hints_from_the_corner() -> None:
    # The service writes the origin as {}: x and y are 0.
    hint = {
        "boundingPoly": {"vertices": [{}, {"x": 399}, {"x": 399, "y": 199}, {"y": 199}]},
        "confidence": 0.8,
    }
    tables = tables_of(response(400, 300, cropHintsAnnotation={"cropHints": [hint]}))
    out = draw(tables, URI, image=blank(400, 300), **PLAIN)

    for x, y in edge_midpoints(0, 0, 399, 199):
        assert at(out, x, y) == PALETTE["crop_hints"], (x, y)
    assert at(out, 200, 250) == at(out, 200, 100) == WHITE


EVERYTHING = response(
    400,
    400,
    WORD,
    faceAnnotations=[FACE],
    logoAnnotations=[{"description": "Acme", "score": 0.7, "boundingPoly": rect(10, 300, 90, 380)}],
    localizedObjectAnnotations=[
        {"name": "Dog", "boundingPoly": rect(0.8, 0.1, 0.95, 0.5, "normalizedVertices")}
    ],
    cropHintsAnnotation={"cropHints": [{"boundingPoly": rect(5, 5, 395, 395)}]},
)


def test_kinds_choose_what_is_drawn() -> None:
    tables = tables_of(EVERYTHING)

    def drawn(**options: Any) -> set[Any]:
        return colours(draw(tables, URI, image=blank(400, 400), **PLAIN, **options)) - {WHITE}

    assert drawn(kinds=["objects"]) == {PALETTE["objects"]}
    assert drawn(kinds="logos") == {PALETTE["logos"]}
    assert drawn(kinds=["faces"]) == {PALETTE["faces"], PALETTE["face_landmarks"]}
    assert drawn(kinds=["lines", "blocks"]) == {PALETTE["lines"], PALETTE["blocks"]}
    everything = {PALETTE[k] for k in ("words", "objects", "faces", "face_landmarks", "logos")}
    assert drawn() == everything | {PALETTE["crop_hints"]}  # the default kinds
    assert drawn(kinds=[], colors={"objects": (1, 2, 3)}) == set()
    assert drawn(kinds=["objects"], colors={"objects": (1, 2, 3)}) == {(1, 2, 3)}

    with pytest.raises(vr.UsageError, match="unknown kinds \\['word'\\]"):
        draw(tables, URI, image=blank(400, 400), kinds=["word"])
    without_words = {k: v for k, v in tables.items() if k != "ocr_words"}
    assert PALETTE["words"] not in colours(draw(without_words, URI, image=blank(400, 400)))
    with pytest.raises(vr.VisionResultsError, match="needs the table 'ocr_words'"):
        draw(without_words, URI, image=blank(400, 400), kinds=["words"])


def label_band(picture: Image.Image, color: Any) -> tuple[int, int]:
    """Pixels of `color` and of other colours (the text) in the 30 rows above the
    object box of :func:`test_labels_and_confidence_are_captions_above_the_box`."""
    band = [picture.getpixel((x, y)) for x in range(100, 400) for y in range(120, 150)]
    return sum(p == color for p in band), sum(p not in (color, WHITE) for p in band)


def test_labels_and_confidence_are_captions_above_the_box() -> None:
    obj = {
        "name": "Dog",
        "score": 0.87,
        "boundingPoly": rect(0.25, 0.5, 0.75, 0.9, "normalizedVertices"),
    }
    tables = tables_of({"localizedObjectAnnotations": [obj]})
    green = PALETTE["objects"]

    def band(**options: Any) -> tuple[int, int]:
        return label_band(draw(tables, URI, image=blank(400, 300), **options), green)

    assert band(labels=False, confidence=False) == (0, 0)
    name_only, both = band(confidence=False), band()
    assert name_only[0] > 50 and name_only[1] > 10  # a green band with text on it
    assert both[0] > name_only[0] and both[1] > name_only[1]  # "Dog 0.87" is longer
    assert band(labels=False)[1] > 10  # the score alone


def caption_over(picture: Image.Image, x0: int, y0: int) -> tuple[int, int, int, int] | None:
    """Where the pixels that are not white are in the 20 rows above the point (x0, y0),
    the top-left corner of a box, and the 150 columns from it."""
    rows = [(x, y) for x in range(x0, x0 + 150) for y in range(y0 - 20, y0 - 1)]
    inked = [(x, y) for x, y in rows if picture.getpixel((x, y)) != WHITE]
    if not inked:
        return None
    return extent(picture, picture.getpixel(inked[0]), x0, y0 - 20, x0 + 150, y0 - 2)


def test_words_and_lines_are_captioned_only_when_asked_for() -> None:
    # WORD's box is 100..200 x 100..140; its line has the same box; the block around
    # them is 20..380 x 20..280.
    tables = tables_of(response(400, 300, WORD))

    def over_word(**options: Any) -> tuple[int, int, int, int] | None:
        return caption_over(draw(tables, URI, image=blank(400, 300), **options), 100, 100)

    assert DENSE_KINDS == ("words", "lines")
    assert over_word() is None  # the default kinds: boxes, no caption on a word
    assert over_word(kinds=["lines"]) is None
    for options in ({"labels": True}, {"labels": "words"}, {"confidence": ["words"]}):
        band = over_word(**options)
        assert band is not None, options
        assert band[0] == 100 and band[3] >= 97, options  # from the box's corner, up
        assert band[2] - band[0] > 10, options
    text, text_and_score = over_word(labels=True), over_word(labels=True, confidence=True)
    assert text == over_word(labels=True, confidence=False)  # no score on words by default
    assert text and text_and_score and text_and_score[2] > text[2] + 10  # "Invoice 0.90"
    assert over_word(labels=["lines", "objects"]) is None
    line_band = over_word(kinds=["lines"], labels=["lines"])
    assert line_band is not None and line_band[0] == 100

    blocks = draw(tables, URI, image=blank(400, 300), kinds=["words", "blocks"])
    block_band = extent(blocks, PALETTE["blocks"], 20, 0, 80, 19)  # above the block
    assert block_band is not None and block_band[0] == 20 and block_band[3] == 19
    assert caption_over(blocks, 100, 100) is None
    assert caption_over(draw(tables, URI, image=blank(400, 300), labels=False), 100, 100) is None
    with pytest.raises(vr.UsageError, match="unknown kinds \\['word'\\]"):
        draw(tables, URI, image=blank(400, 300), labels=["word"])


# --- the generated sample, through Results -------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[vr.Results, Path]]:
    folder = tmp_path_factory.mktemp("draw-sample")
    write_sample(folder / "json", images=SAMPLE_IMAGES, seed=SAMPLE_SEED, documents=1, pdf_pages=2)
    yield vr.open(folder / "json", progress=False), folder


TABLES = {
    "words": "ocr_words",
    "lines": "ocr_lines",
    "paragraphs": "ocr_paragraphs",
    "blocks": "ocr_blocks",
    "objects": "objects",
    "faces": "faces",
    "logos": "logos",
    "landmarks": "landmarks",
    "crop_hints": "crop_hints",
    "products": "products",
}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_the_sample_lands_on_its_box(
    sample: tuple[vr.Results, Path], kind: str
) -> None:
    res, _ = sample
    rows = res.table(TABLES[kind])
    rows = rows[rows.x_min.notna() & rows.page_number.isna()]
    uri = rows.uri.iloc[0]
    rows = rows[rows.uri == uri]
    size = res.images.set_index("uri").loc[uri, ["width", "height"]].astype(int).tolist()
    out = res.show(uri, images={uri: blank(*size)}, kinds=[kind], **PLAIN)

    color = PALETTE[kind]
    for box in rows.itertuples():
        points = edge_midpoints(box.x_min, box.y_min, box.x_max, box.y_max)
        if kind == "faces":  # landmark dots may cover the other edges; check the top ones
            points = [points[0], ((box.fd_x_min + box.fd_x_max) / 2, box.fd_y_min)]
        for x, y in points:
            assert at(out, x, y) == color, (uri, kind, x, y)
    if kind == "faces":
        dots = res.face_landmarks[res.face_landmarks.uri == uri]
        assert len(dots) >= 34
        for dot in dots.itertuples():
            assert at(out, dot.x, dot.y) == PALETTE["face_landmarks"]


def test_a_pdf_page_rendered_at_twice_its_size(sample: tuple[vr.Results, Path]) -> None:
    res, _ = sample
    uri = "gs://synth-bucket/files/doc-1.pdf"
    lines = res.ocr_lines[(res.ocr_lines.uri == uri) & (res.ocr_lines.page_number == 1)]
    out = res.show(uri, page_number=1, image=blank(1190, 1684), kinds=["lines"], **PLAIN)

    for line in lines.itertuples():  # bounds in points (595x842), so doubled
        for x, y in edge_midpoints(line.x_min, line.y_min, line.x_max, line.y_max):
            assert at(out, 2 * x, 2 * y) == PALETTE["lines"], (x, y)

    with pytest.raises(
        vr.VisionResultsError, match=r"a file with pages \[1, 2\]: pass page_number="
    ):
        res.show(uri, image=blank(595, 842))
    with pytest.raises(vr.UsageError, match="has no page 7"):
        res.show(uri, page_number=7, image=blank(595, 842))


def test_results_an_export_folder_and_dataframes_give_the_same_picture(
    sample: tuple[vr.Results, Path],
) -> None:
    res, folder = sample
    uri = res.faces.uri.iloc[0]
    size = res.images.set_index("uri").loc[uri, ["width", "height"]].astype(int).tolist()
    images = {uri: png(blank(*size))}
    shown = res.show(uri, images=images, kinds=KINDS)
    assert len(colours(shown)) > 10  # boxes of several kinds, and antialiased captions

    dest = res.to_parquet(folder / "export")
    frames = {name: res.table(name) for name in res.tables}
    for tables in (dest, str(dest), frames):
        assert draw(tables, uri, images=images, kinds=KINDS).tobytes() == shown.tobytes()
    with pytest.raises(vr.UsageError, match="not in these results"):
        res.show("gs://synth-bucket/images/nope.jpg", image=blank(10, 10))


def test_a_font_of_ones_own_draws_the_captions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow's built-in font has no Hebrew: a font file given as `font` is used.
    (With no font installed, so that nothing else is, see test_draw_fonts.py.)"""
    from matplotlib import font_manager

    dejavu = font_manager.findfont("DejaVu Sans", fallback_to_default=False)
    hide_installed_fonts(monkeypatch, matplotlib=False)
    obj = {
        "name": "כלב",
        "score": 0.9,
        "boundingPoly": rect(0.25, 0.5, 0.75, 0.9, "normalizedVertices"),
    }
    tables = tables_of({"localizedObjectAnnotations": [obj]})
    built_in = draw(tables, URI, image=blank(400, 300), confidence=False)
    own = draw(tables, URI, image=blank(400, 300), confidence=False, font=dejavu)
    green = PALETTE["objects"]
    assert label_band(own, green)[1] > 10  # letters on the caption band
    assert own.tobytes() != built_in.tobytes()
    with pytest.raises(vr.VisionResultsError, match="not a font file Pillow can read"):
        draw(tables, URI, image=blank(400, 300), font=__file__)
