"""Fonts and writing direction for the captions of :mod:`vision_results.draw`.

Pillow's built-in font has little beyond ASCII (not even ``é``). A caption with a
letter it lacks is drawn in the first installed font that has all of the caption's
letters (:data:`NAMES`, in :data:`FOLDERS`, then matplotlib's DejaVu Sans), else the
one that has the most of them, else the built-in font, as before. Whether a font has
a letter is read from the font itself: a letter it lacks is drawn as its
``.notdef`` glyph (a box), so the two masks are the same. The folders are searched
once, and each font asked once about each letter, per process.
"""

from __future__ import annotations

import itertools
import os
import unicodedata
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from PIL import ImageFont

Font = Union["ImageFont.ImageFont", "ImageFont.FreeTypeFont"]

FOLDERS: tuple[Path, ...] = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path(os.path.expanduser("~/.local/share/fonts")),
    Path(os.path.expanduser("~/.fonts")),
    Path("/Library/Fonts"),  # macOS
    Path("/System/Library/Fonts"),
    Path(os.path.expanduser("~/Library/Fonts")),
    Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts",
)
"""Where installed fonts are looked for, with their subfolders."""

NAMES: tuple[str, ...] = (
    "DejaVuSans.ttf",  # Latin, Greek, Cyrillic, Hebrew, Arabic; also in matplotlib
    "NotoSans-Regular.ttf",
    "NotoSansHebrew-Regular.ttf",
    "NotoSansArabic-Regular.ttf",
    # Noto Sans CJK (Japanese, Chinese, Korean) as Linux distributions and Google ship it
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKjp-Regular.otf",
    "NotoSansCJKsc-Regular.otf",
    "NotoSansCJKtc-Regular.otf",
    "NotoSansCJKkr-Regular.otf",
    "NotoSansCJK-VF.ttc",
    "NotoSansJP-Regular.otf",
    "NotoSansJP-Regular.ttf",
    "Arial Unicode.ttf",  # macOS
    "arial.ttf",  # Windows: Arial has Hebrew and Arabic; then Japanese, Chinese, Korean
    "msgothic.ttc",
    "msyh.ttc",
    "malgun.ttf",
)
"""The font files captions may use, in order of preference (matched ignoring case)."""

_PROBE_SIZE = 24
_MISSING = "\uffff"  # a noncharacter: no font maps it, so it is drawn as .notdef
_MIRRORED = str.maketrans("()[]{}<>«»", ")(][}{><»«")


def font_for(text: str, size: int) -> Font:
    """The font to draw `text` in at `size` pixels: see the module's docstring."""
    path = path_for(text)
    return load(path, size) if path else _built_in(size)


def path_for(text: str) -> str | None:
    """The font file chosen for `text`; None: Pillow's built-in font."""
    needed = frozenset(ch for ch in text if _visible(ch) and not shows(None, ch))
    return _choose(needed, candidates()) if needed else None


def candidates() -> tuple[str, ...]:
    """The installed fonts of :data:`NAMES`, best first."""
    return (*_installed(FOLDERS), *_matplotlib_dejavu())


def load(path: str | os.PathLike[str], size: int) -> ImageFont.FreeTypeFont:
    """The font file at `path`, laid out with libraqm where Pillow has it.

    Raises OSError when it is not a font file Pillow can read."""
    from PIL import ImageFont, features

    raqm = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return _load(os.fspath(path), size, raqm)


def shows(path: str | None, ch: str) -> bool:
    """Whether the font at `path` (None: the built-in font) has a glyph for `ch`."""
    return _shows(path, ch)


def right_to_left(text: str) -> bool:
    """Whether `text` is mostly in a right-to-left script (Hebrew, Arabic...): more of
    its letters are right-to-left than left-to-right."""
    kinds = [unicodedata.bidirectional(ch) for ch in text]
    return sum(k in ("R", "AL") for k in kinds) > kinds.count("L")


def display_order(text: str) -> str:
    """Right-to-left `text` in the order its characters are drawn left to right.

    Without libraqm Pillow draws characters in the order they are stored, so a
    Hebrew word would come out backwards. This is the Unicode bidirectional
    algorithm for one line of a right-to-left paragraph, simplified: runs of
    left-to-right letters and numbers (``0.93``, ``Vision 2``) keep their order,
    everything else is reversed (brackets mirrored), and a combining mark stays
    after its letter. Arabic letters are still not joined: that needs libraqm.
    """
    clusters: list[str] = []
    for ch in text:
        if clusters and unicodedata.combining(ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    strong = [_strength(c[0]) for c in clusters]
    ltr = [
        s == "L" if s else _neighbour(strong[:i][::-1]) == _neighbour(strong[i + 1 :]) == "L"
        for i, s in enumerate(strong)
    ]
    runs = []
    for is_ltr, group in itertools.groupby(zip(ltr, clusters, strict=True), lambda p: p[0]):
        run = [c for _, c in group]
        runs.append("".join(run) if is_ltr else "".join(run[::-1]).translate(_MIRRORED))
    return "".join(runs[::-1])


def _strength(ch: str) -> str | None:
    """'L' for letters and digits drawn left to right, 'R' for right-to-left letters,
    None for the neutral rest (spaces, punctuation), which take their neighbours'."""
    kind = unicodedata.bidirectional(ch)
    return "R" if kind in ("R", "AL") else "L" if kind in ("L", "EN", "AN") else None


def _neighbour(strengths: list[str | None]) -> str:
    return next((s for s in strengths if s), "R")  # the paragraph's own direction


def _visible(ch: str) -> bool:
    """Whether `ch` needs a glyph: spaces and control characters do not."""
    return unicodedata.category(ch)[0] not in "ZC"


@cache
def _choose(needed: frozenset[str], fonts: tuple[str, ...]) -> str | None:
    best, most = None, 0
    for path in fonts:
        count = sum(shows(path, ch) for ch in needed)
        if count == len(needed):
            return path
        if count > most:
            best, most = path, count
    return best


@cache
def _installed(folders: tuple[Path, ...]) -> tuple[str, ...]:
    rank = {name.lower(): i for i, name in enumerate(NAMES)}
    found: list[tuple[int, int, str]] = []
    for order, folder in enumerate(folders):
        for root, _, files in os.walk(folder):
            for name in files:
                if name.lower() in rank:
                    found.append((rank[name.lower()], order, os.path.join(root, name)))
    return tuple(path for _, _, path in sorted(found))


def _matplotlib_dejavu() -> tuple[str, ...]:
    try:
        import matplotlib
    except ImportError:
        return ()
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return (str(path),) if path.is_file() else ()


@cache
def _load(path: str, size: int, layout: ImageFont.Layout) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(path, size, layout_engine=layout)


@cache
def _built_in(size: int) -> Font:
    from PIL import ImageFont

    return ImageFont.load_default(size)


@cache
def _shows(path: str | None, ch: str) -> bool:
    drawn = _drawn(path, ch)
    return drawn is not None and drawn != _notdef(path)


@cache
def _notdef(path: str | None) -> tuple[tuple[int, int], bytes] | None:
    return _drawn(path, _MISSING)


def _drawn(path: str | None, text: str) -> tuple[tuple[int, int], bytes] | None:
    """The mask of `text` in the font at `path`; None when it cannot be read."""
    from PIL import ImageFont

    try:
        # The basic layout maps a character to its glyph and nothing more; libraqm
        # would draw a lone combining mark on a dotted circle, which is not .notdef.
        font = _load(path, _PROBE_SIZE, ImageFont.Layout.BASIC) if path else _built_in(_PROBE_SIZE)
    except OSError:
        return None
    mask = font.getmask(text)
    return mask.size, bytes(mask)
