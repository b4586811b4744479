"""The text of the generator's responses: OCR pages laid out word by word, and labels.

Each page is built in the service's proto3 JSON form: zero values left out,
integral floats written as ``1``.
"""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

PDF_PAGE = (595, 842)  # A4 in points

Json = dict[str, Any]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1
Line = list[tuple[str, str]]  # (word, break after its last symbol, "" for none)

# fmt: off
_WORDS: dict[str, tuple[str, ...]] = {lang: tuple(words.split()) for lang, words in {
    "en": "the invoice total amount date customer number page order payment address report tax"
          " 2024 12.50 No. of and to for with a an in on at by is it we you our this that from",
    "fr": "le la les de du un une et en au est facture montant été café élève à où déjà reçu"
          " numéro adresse première année naïve château crème hôpital garçon être très prix",
    "iw": "שלום מסמך חשבונית סכום תאריך לקוח מספר כתובת רחוב דוח סיכום שירות מחיר מס חתימה של על",
    "ja": "東京 会社 の 請求書 合計 金額 日付 お客様 番号 住所 です ます 本日 ありがとう"
          " ございました 支払い 税込 領収書 担当 電話 確認 は を に 、 。",
    "labels": "Text Font Document Paper Handwriting Receipt Signage Rectangle Cat Window Building"
              " Sky Tree Food Plant Line Number Brand Logo Publication Book Poster",
}.items()}
SCENARIOS = (("en",), ("en",), ("fr",), ("iw",), ("ja",), ("en", "fr"), ("iw", "en"), ("ja", "en"))
_CHAR_WIDTH = {"en": 0.55, "fr": 0.55, "iw": 0.6, "ja": 1.0}  # of the line height
_BREAK_TEXT = {"": "", "SPACE": " ", "SURE_SPACE": " ", "EOL_SURE_SPACE": "\n", "HYPHEN": "-\n",
               "LINE_BREAK": "\n"}
# fmt: on


_FLOAT32 = struct.Struct("<f")


def num(x: float) -> float | int:
    """``x`` as the service writes a float32: the shortest decimal that reads back as
    the same float32 (so a client library's re-serialisation writes it unchanged);
    integral values become ints, printed ``1``."""
    single = _FLOAT32.unpack(_FLOAT32.pack(x))[0]
    for digits in range(6, 10):
        r = float(f"{single:.{digits}g}")
        if _FLOAT32.unpack(_FLOAT32.pack(r))[0] == single:
            break
    return int(r) if r.is_integer() else r


def vertex(x: float, y: float) -> Json:
    """A vertex with zero coordinates left out: x=0 gives ``{"y": 12}``, the origin ``{}``."""
    v: Json = {}
    if x:
        v["x"] = x
    if y:
        v["y"] = y
    return v


def union(boxes: list[Box]) -> Box:
    x0, y0, x1, y1 = zip(*boxes, strict=True)
    return min(x0), min(y0), max(x1), max(y1)


def _mean_confidence(items: list[Json]) -> float | int:
    return num(sum(i["confidence"] for i in items) / len(items))


def _node(prop: Json, box: Json, key: str, children: list[Json], **extra: str) -> Json:
    """A block, paragraph or word in the service's key order; confidence is its children's mean."""
    mean = _mean_confidence(children)
    return {"property": prop, "boundingBox": box, key: children, **extra, "confidence": mean}


def _tokens(rng: random.Random, lang: str, count: int) -> list[tuple[str, bool]]:
    """A paragraph's words; True marks punctuation glued to the word before (no break there)."""
    out: list[tuple[str, bool]] = []
    for _ in range(count):
        out.append((rng.choice(_WORDS[lang]), False))
        if lang != "ja" and rng.random() < 0.08:
            out.append((rng.choice(".,:;!?"), True))
    if lang in ("en", "fr"):
        out[0] = (out[0][0].capitalize(), False)
    return out


def _space(rng: random.Random) -> str:
    return "SURE_SPACE" if rng.random() < 0.1 else "SPACE"


def _wrap(rng: random.Random, lang: str, tokens: list[tuple[str, bool]], width: int) -> list[Line]:
    """Fill lines of at most `width` characters and give every word its break.

    An English or French word that overflows may be split: its head ends the line with
    a HYPHEN break (the "-" is no symbol) and its tail starts the next line. Japanese
    words get no break inside a line.
    """
    lines: list[Line] = [[]]
    used = 0
    for token, glued in tokens:
        word, line = token, lines[-1]
        gap = int(lang != "ja" and not glued and bool(line))
        if line and used + gap + len(word) > width:
            room = width - used - gap - 1
            if lang in ("en", "fr") and gap and 2 <= room <= len(word) - 2 and rng.random() < 0.6:
                line[-1] = (line[-1][0], _space(rng))
                line.append((word[:room], "HYPHEN"))
                word = word[room:]
            else:
                line[-1] = (line[-1][0], "EOL_SURE_SPACE")
            line, used, gap = [], 0, 0
            lines.append(line)
        elif line:
            line[-1] = (line[-1][0], _space(rng) if gap else "")
        line.append((word, ""))
        used += gap + len(word)
    lines[-1][-1] = (lines[-1][-1][0], "LINE_BREAK")
    return lines


@dataclass
class Layout:
    """Lays out one page top to bottom, collecting its text and words on the way.

    Coordinates are pixels, or for PDF pages points, written as normalizedVertices;
    PDF symbols get neither box nor languages, as in real file-job output.
    """

    rng: random.Random
    width: int
    pdf: bool
    word_conf: bool  # word/symbol languages with confidence 1, or bare as in older output
    left: int = 0  # margin; 0 on a quarter of pages, so that vertices lose their x
    text: list[str] = field(default_factory=list)
    words: list[Json] = field(default_factory=list)  # textAnnotations after the first

    def box(self, x0: int, y0: int, x1: int, y1: int) -> Json:
        """A rectangle; x1 and y1 are never 0, x0 and y0 seldom (hence the fast path)."""
        if self.pdf:
            w, h = PDF_PAGE
            a, b, c, d = num(x0 / w), num(y0 / h), num(x1 / w), num(y1 / h)
            return {"normalizedVertices": [vertex(a, b), vertex(c, b), vertex(c, d), vertex(a, d)]}
        if x0 and y0:  # without vertex calls: a quarter less run time
            top_left, bottom_right = {"x": x0, "y": y0}, {"x": x1, "y": y1}
            return {"vertices": [top_left, {"x": x1, "y": y0}, bottom_right, {"x": x0, "y": y1}]}
        return {"vertices": [vertex(x0, y0), vertex(x1, y0), {"x": x1, "y": y1}, vertex(x0, y1)]}

    def page(
        self, langs: tuple[str, ...], n_words: int, font: tuple[int, int], height: int
    ) -> tuple[Json, Box]:
        """The page (`height` 0: fit the text) and the extent of its text."""
        rng = self.rng
        self.left, y = (0 if rng.random() < 0.25 else rng.randint(8, 60) for _ in "xy")
        blocks: list[Json] = []
        boxes: list[Box] = []
        while n_words > 0:
            h, paragraphs = rng.randint(*font), []
            for _ in range(rng.randint(1, 3)):
                count = min(n_words, rng.randint(4, 30))
                n_words -= count
                lang = langs[len(boxes) % len(langs)]  # mixed pages alternate languages
                paragraphs.append(self.paragraph(lang, count, y, h, boxes))
                y = boxes[-1][3] + h
                if n_words <= 0:
                    break
            box = self.box(*union(boxes[-len(paragraphs) :]))
            kind = "TABLE" if rng.random() < 0.05 else "TEXT"
            blocks.append(
                _node(paragraphs[0]["property"], box, "paragraphs", paragraphs, blockType=kind)
            )
            y += h
        first = rng.uniform(0.55, 0.99)
        shares = [first, rng.uniform(0.05, 1 - first)][: len(langs)]
        languages = [
            {"languageCode": c, "confidence": num(s)} for c, s in zip(langs, shares, strict=True)
        ]
        extent = union(boxes)
        height = height or max(extent[3] + rng.randint(0, 80), rng.randint(600, 1400))
        page = {"property": {"detectedLanguages": languages}, "width": self.width}
        page.update(height=height, blocks=blocks, confidence=_mean_confidence(blocks))
        return page, extent

    def paragraph(self, lang: str, count: int, top: int, h: int, boxes: list[Box]) -> Json:
        """One paragraph at `top`; its box is appended to `boxes`."""
        cw = max(3, int(h * _CHAR_WIDTH[lang]))
        width = (self.width - 2 * self.left) // (cw + 3)  # characters: widest symbol + gap
        words: list[Json] = []
        lo, hi, y = self.width, 0, top
        for line in _wrap(self.rng, lang, _tokens(self.rng, lang, count), width):
            x0, x1 = self.line(words, lang, line, y, h, cw)
            lo, hi, y = min(lo, x0), max(hi, x1), y + h * 3 // 2
        boxes.append((lo, top, hi, y - h * 3 // 2 + h))
        language = {"languageCode": lang, "confidence": num(self.rng.uniform(0.6, 1.0))}
        return _node({"detectedLanguages": [language]}, self.box(*boxes[-1]), "words", words)

    def line(
        self, out: list[Json], lang: str, line: Line, y: int, h: int, cw: int
    ) -> tuple[int, int]:
        """Append the line's words to `out`; Hebrew runs leftwards from the right margin."""
        language: Json = {"languageCode": lang}
        if self.word_conf:
            language["confidence"] = 1
        prop = {"detectedLanguages": [language]}
        left, right, pos = self.left, self.width - self.left, 0
        x0, x1 = self.width, 0
        for text, brk in line:
            spans: list[tuple[int, int]] = []
            for ch in text:
                end = pos + cw + (ord(ch) & 3) - 1
                spans.append(
                    (right - end, right - pos) if lang == "iw" else (left + pos, left + end)
                )
                pos = end + 1
            out.append(self.word(text, brk, spans, (y, y + h), prop))
            pos += 0 if not brk else 2 * cw if brk == "SURE_SPACE" else cw // 2 + 2
            x0, x1 = min(x0, spans[0][0], spans[-1][0]), max(x1, spans[0][1], spans[-1][1])
        return x0, x1

    def word(
        self, text: str, brk: str, spans: list[tuple[int, int]], ys: tuple[int, int], prop: Json
    ) -> Json:
        """A word with one symbol per character; only its last symbol carries the break."""
        y0, y1 = ys
        sym_prop = {} if self.pdf else prop
        end_prop = {**sym_prop, "detectedBreak": {"type": brk}} if brk else sym_prop
        symbols: list[Json] = []
        for i, (ch, (a, b)) in enumerate(zip(text, spans, strict=True)):
            symbol: Json = {}
            if p := end_prop if i == len(text) - 1 else sym_prop:
                symbol["property"] = p
            if not self.pdf:
                symbol["boundingBox"] = self.box(a, y0, b, y1)
            symbol["text"] = ch
            symbol["confidence"] = num(0.99 - 0.3 * self.rng.random() ** 4)
            symbols.append(symbol)
        box = self.box(min(spans[0][0], spans[-1][0]), y0, max(spans[0][1], spans[-1][1]), y1)
        self.words.append({"description": text, "boundingPoly": box})
        self.text.append(text + _BREAK_TEXT[brk])
        return _node(prop, box, "symbols", symbols)


def labels(rng: random.Random) -> list[Json]:
    names = rng.sample(_WORDS["labels"], rng.randint(3, 10))
    scores = sorted((num(rng.uniform(0.5, 0.99)) for _ in names), reverse=True)
    mids = (f"/m/0{zlib.crc32(name.encode()):08x}"[:9] for name in names)
    return [
        {"mid": mid, "description": name, "score": score, "topicality": score}
        for mid, name, score in zip(mids, names, scores, strict=True)
    ]
