"""vr.draw: captions in a font that has their letters, right-to-left ones aligned right
and read right to left.

Which letters a font has is checked against fontconfig's own reading of the font's
character map (``fc-query``), where fontconfig is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import matplotlib
import pytest
from PIL import Image, ImageDraw, ImageFont, features

from tests.draw_helpers import URI, an_object, blank, extent, hide_installed_fonts
from vision_results import _fonts
from vision_results.draw import PALETTE, draw

HEBREW = "כלב"  # "dog"
JAPANESE = "犬"
GREEN = PALETTE["objects"]
MATPLOTLIB_DEJAVU = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
CAPTION_SIZE = 10  # the captions' size on a 400x300 picture


def charset(path: str) -> set[int]:
    """The code points of the font at `path`, as fontconfig reads its character map."""
    if not shutil.which("fc-query"):
        pytest.skip("fc-query (fontconfig) is not installed")
    out = subprocess.run(
        ["fc-query", "-i", "0", "-f", "%{charset}", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    points: set[int] = set()
    for span in out.split():
        first, _, last = span.partition("-")
        points.update(range(int(first, 16), int(last or first, 16) + 1))
    return points


def band(picture: Image.Image) -> tuple[int, int, int, int]:
    """The caption band of :func:`an_object`'s box (100..300 x 150..270)."""
    found = extent(picture, GREEN, 0, 120, 399, 148)
    assert found is not None, "no caption band"
    return found


# --- which font --------------------------------------------------------------------

SAMPLES = {
    "Latin-1": range(0xA1, 0x100),
    "Greek": range(0x370, 0x400),
    "Cyrillic": range(0x400, 0x460),
    "Hebrew": range(0x590, 0x600),
    "Arabic": range(0x600, 0x700),
    "Hiragana": range(0x3040, 0x30A0),
    "CJK": range(0x4E00, 0x4F00),
}


@pytest.mark.parametrize("path", sorted({MATPLOTLIB_DEJAVU, *_fonts.candidates()}))
def test_the_glyph_check_agrees_with_the_fonts_character_map(path: str) -> None:
    has = charset(path)
    for script, points in SAMPLES.items():
        for point in points:
            if _fonts._visible(chr(point)):
                assert _fonts.shows(path, chr(point)) == (point in has), (script, hex(point))


def test_the_built_in_font_has_ascii_but_not_hebrew_or_japanese() -> None:
    assert all(_fonts.shows(None, ch) for ch in "Dog 0.87…".replace(" ", ""))
    assert not any(_fonts.shows(None, ch) for ch in HEBREW + JAPANESE)
    assert _fonts.path_for("Dog 0.87…") is None  # ASCII captions look as they always did
    assert not _fonts.shows("/no/such/font.ttf", "A")


def test_a_hebrew_caption_is_drawn_in_an_installed_font_that_has_hebrew() -> None:
    path = _fonts.path_for(f"{HEBREW} 0.90")
    assert path is not None and Path(path).name == "DejaVuSans.ttf"
    assert {ord(ch) for ch in HEBREW} <= charset(path)

    tables = an_object(HEBREW, 0.9)
    chosen = draw(tables, URI, image=blank(400, 300))
    assert chosen.tobytes() == draw(tables, URI, image=blank(400, 300), font=path).tobytes()
    assert _fonts.path_for("قطة") == path  # DejaVu Sans has Arabic too
    assert _fonts.path_for("Café") == path  # and é, which the built-in font lacks


def test_with_no_system_fonts_hebrew_is_drawn_in_matplotlibs_dejavu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hide_installed_fonts(monkeypatch)
    assert _fonts.candidates() == (MATPLOTLIB_DEJAVU,)
    assert _fonts.path_for(HEBREW) == MATPLOTLIB_DEJAVU

    tables = an_object(HEBREW)
    own = draw(tables, URI, image=blank(400, 300), font=MATPLOTLIB_DEJAVU)
    assert draw(tables, URI, image=blank(400, 300)).tobytes() == own.tobytes()


def test_with_no_font_at_all_a_hebrew_caption_falls_back_to_the_built_in_font(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hide_installed_fonts(monkeypatch, matplotlib=False)
    assert _fonts.candidates() == ()
    assert _fonts.path_for(HEBREW) is None
    left, _, right, _ = band(draw(an_object(HEBREW), URI, image=blank(400, 300)))
    assert right == 300 and right - left > 10  # a caption all the same, of boxes


def noto_cjk() -> list[str]:
    """The Noto Sans CJK (or JP) files fontconfig lists for Japanese."""
    if not shutil.which("fc-list"):
        return []
    out = subprocess.run(
        ["fc-list", ":lang=ja", "file"], capture_output=True, text=True, check=False
    ).stdout
    return [
        line.rstrip(":") for line in out.split() if "NotoSansCJK" in line or "NotoSansJP" in line
    ]


@pytest.mark.skipif(not noto_cjk(), reason="no Noto Sans CJK font installed (fc-list :lang=ja)")
def test_a_japanese_caption_is_drawn_in_noto_sans_cjk_where_installed() -> None:
    path = _fonts.path_for(f"{JAPANESE} 0.90")
    assert path is not None and Path(path).name.startswith("NotoSans"), path
    assert ord(JAPANESE) in charset(path)
    tables = an_object(JAPANESE)
    chosen = draw(tables, URI, image=blank(400, 300))
    assert chosen.tobytes() == draw(tables, URI, image=blank(400, 300), font=path).tobytes()


def test_a_japanese_caption_with_no_cjk_font_falls_back_without_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hide_installed_fonts(monkeypatch)  # matplotlib's DejaVu Sans alone, which has no kanji
    assert _fonts.path_for(JAPANESE) is None  # the built-in font, as before
    assert _fonts.path_for(f"{JAPANESE} {HEBREW}") == MATPLOTLIB_DEJAVU  # the most letters
    left, _, right, _ = band(draw(an_object(JAPANESE, 0.9), URI, image=blank(400, 300)))
    assert left == 100 and right - left > 10


# --- right to left -----------------------------------------------------------------


def test_which_captions_read_right_to_left() -> None:
    assert _fonts.right_to_left(HEBREW) and _fonts.right_to_left(f"{HEBREW} 0.90")
    assert _fonts.right_to_left("قطة")
    assert not _fonts.right_to_left("Dog 0.87")
    assert not _fonts.right_to_left(f"Vision API {HEBREW}")  # mostly Latin
    assert not _fonts.right_to_left("0.87")


def test_display_order_reverses_the_letters_but_not_numbers_or_latin_words() -> None:
    assert _fonts.display_order(f"{HEBREW} 0.90") == "0.90 בלכ"
    assert _fonts.display_order("ספר Vision 2") == "Vision 2 רפס"
    assert _fonts.display_order("(שלום)") == "(םולש)"  # brackets mirrored
    assert _fonts.display_order("שָׁל") == "לשָׁ"  # the marks stay after their letter
    assert _fonts.display_order("قطة 0.5") == "0.5 ةطق"


@pytest.mark.parametrize("raqm", [True, False], ids=["libraqm", "no-libraqm"])
def test_a_hebrew_caption_ends_at_the_boxs_right_edge_and_reads_right_to_left(
    monkeypatch: pytest.MonkeyPatch, raqm: bool
) -> None:
    if raqm and not features.check("raqm"):
        pytest.skip("this Pillow has no libraqm")
    if not raqm:
        check = features.check
        monkeypatch.setattr(features, "check", lambda name: name != "raqm" and check(name))
    caption = f"{HEBREW} 0.90"
    picture = draw(an_object(HEBREW, 0.9), URI, image=blank(400, 300))

    left, top, right, bottom = band(picture)
    assert right == 300 and left > 200  # the box is 100..300
    assert band(draw(an_object("Dog", 0.9), URI, image=blank(400, 300)))[0] == 100

    # The band's letters are those of the caption in its reading order: drawn by
    # libraqm right to left, or, without it, in display order left to right.
    path = _fonts.path_for(caption)
    assert path is not None
    drawn = picture.crop((left, top, right + 1, bottom + 1)).tobytes()

    def expected(text: str, engine: ImageFont.Layout, **options: Any) -> bytes:
        font = ImageFont.truetype(path, CAPTION_SIZE, layout_engine=engine)
        reference = blank(right - left + 1, bottom - top + 1, GREEN)
        x0, y0, _, _ = font.getbbox(text, **options)
        pen = ImageDraw.Draw(reference)
        pen.text((2 - x0, 2 - y0), text, fill=(255, 255, 255), font=font, **options)
        return reference.tobytes()

    if raqm:
        assert drawn == expected(caption, ImageFont.Layout.RAQM, direction="rtl")
    else:
        assert drawn == expected(_fonts.display_order(caption), ImageFont.Layout.BASIC)
    assert drawn != expected(caption, ImageFont.Layout.BASIC)  # as stored: backwards


@pytest.mark.skipif(not features.check("raqm"), reason="this Pillow has no libraqm")
def test_a_mostly_hebrew_caption_starting_in_latin_is_laid_out_right_to_left() -> None:
    # libraqm alone would take the direction of the first letter, K: left to right.
    name = f"K9 {HEBREW}"
    picture = draw(an_object(name), URI, image=blank(400, 300), confidence=False)
    left, top, right, bottom = band(picture)
    assert right == 300
    path = _fonts.path_for(name)
    assert path is not None
    font = ImageFont.truetype(path, CAPTION_SIZE, layout_engine=ImageFont.Layout.RAQM)
    rtl, auto = font.getmask(name, direction="rtl"), font.getmask(name)
    assert bytes(rtl) != bytes(auto)
    reference = blank(right - left + 1, bottom - top + 1, GREEN)
    x0, y0, _, _ = font.getbbox(name, direction="rtl")
    ImageDraw.Draw(reference).text(
        (2 - x0, 2 - y0), name, fill=(255, 255, 255), font=font, direction="rtl"
    )
    assert picture.crop((left, top, right + 1, bottom + 1)).tobytes() == reference.tobytes()
    assert _fonts.display_order(f"{name} 0.90") == "0.90 בלכ K9"
