"""Deterministic generator of realistic Cloud Vision batch output shards.

Writes what ``images:asyncBatchAnnotate`` and ``files:asyncBatchAnnotate`` leave
in a bucket, so readers can be tested and benchmarked without the API::

    python -m vision_results.synth --images 2000 DEST [--seed S] [--defaults] ...

Each response is built once, canonically, as the service's own proto3 JSON: enum
names, zero values left out, integral floats written as ``1``. The plain form
dumps that as is; ``--defaults`` walks it with a small schema to add every
default and number the enums, as a client library's ``to_json`` does, so both
forms carry the same information by construction.
"""

from __future__ import annotations

import argparse
import gc
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

SAMPLE_IMAGES = 60
SAMPLE_SEED = 7
BUCKET = "gs://synth-bucket"
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
_SCENARIOS = (("en",), ("en",), ("fr",), ("iw",), ("ja",), ("en", "fr"), ("iw", "en"), ("ja", "en"))
_CHAR_WIDTH = {"en": 0.55, "fr": 0.55, "iw": 0.6, "ja": 1.0}  # of the line height
_BREAK_TEXT = {"": "", "SPACE": " ", "SURE_SPACE": " ", "EOL_SURE_SPACE": "\n", "HYPHEN": "-\n",
               "LINE_BREAK": "\n"}
_ERRORS = ((3, "Bad image data."),
           (14, "We can not access the URL currently. Please download the content and pass it in."))
# fmt: on


def _num(x: float) -> float | int:
    """8 decimals, like the service's float32s; integral values become ints, printed ``1``.

    Not round(x, 8), which is several times slower; x is never negative here.
    """
    r = int(x * 1e8 + 0.5) / 1e8
    return int(r) if r.is_integer() else r


def _vertex(x: float, y: float) -> Json:
    """A vertex with zero coordinates left out: x=0 gives ``{"y": 12}``, the origin ``{}``."""
    v: Json = {}
    if x:
        v["x"] = x
    if y:
        v["y"] = y
    return v


def _union(boxes: list[Box]) -> Box:
    x0, y0, x1, y1 = zip(*boxes, strict=True)
    return min(x0), min(y0), max(x1), max(y1)


def _mean_confidence(items: list[Json]) -> float | int:
    return _num(sum(i["confidence"] for i in items) / len(items))


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
class _Layout:
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
            a, b, c, d = _num(x0 / w), _num(y0 / h), _num(x1 / w), _num(y1 / h)
            return {
                "normalizedVertices": [_vertex(a, b), _vertex(c, b), _vertex(c, d), _vertex(a, d)]
            }
        if x0 and y0:  # without _vertex calls: a quarter less run time
            top_left, bottom_right = {"x": x0, "y": y0}, {"x": x1, "y": y1}
            return {"vertices": [top_left, {"x": x1, "y": y0}, bottom_right, {"x": x0, "y": y1}]}
        return {"vertices": [_vertex(x0, y0), _vertex(x1, y0), {"x": x1, "y": y1}, _vertex(x0, y1)]}

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
            box = self.box(*_union(boxes[-len(paragraphs) :]))
            kind = "TABLE" if rng.random() < 0.05 else "TEXT"
            blocks.append(
                _node(paragraphs[0]["property"], box, "paragraphs", paragraphs, blockType=kind)
            )
            y += h
        first = rng.uniform(0.55, 0.99)
        shares = [first, rng.uniform(0.05, 1 - first)][: len(langs)]
        languages = [
            {"languageCode": c, "confidence": _num(s)} for c, s in zip(langs, shares, strict=True)
        ]
        extent = _union(boxes)
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
        language = {"languageCode": lang, "confidence": _num(self.rng.uniform(0.6, 1.0))}
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
            symbol["confidence"] = _num(0.99 - 0.3 * self.rng.random() ** 4)
            symbols.append(symbol)
        box = self.box(min(spans[0][0], spans[-1][0]), y0, max(spans[0][1], spans[-1][1]), y1)
        self.words.append({"description": text, "boundingPoly": box})
        self.text.append(text + _BREAK_TEXT[brk])
        return _node(prop, box, "symbols", symbols)


def _labels(rng: random.Random) -> list[Json]:
    names = rng.sample(_WORDS["labels"], rng.randint(3, 10))
    scores = sorted((_num(rng.uniform(0.5, 0.99)) for _ in names), reverse=True)
    mids = (f"/m/0{zlib.crc32(name.encode()):08x}"[:9] for name in names)
    return [
        {"mid": mid, "description": name, "score": score, "topicality": score}
        for mid, name, score in zip(mids, names, scores, strict=True)
    ]


def _image_response(seed: int, index: int, words_per_image: int) -> Json:
    """Response `index` (1-based) of the image job: ~3% errors, ~3% empty, the rest text."""
    rng = random.Random(f"{seed}/image/{index}")
    context = {"uri": f"{BUCKET}/images/img-{index:06d}.jpg"}
    roll = rng.random()
    if roll < 0.03:
        code, message = rng.choice(_ERRORS)
        return {"error": {"code": code, "message": message}, "context": context}
    if roll < 0.06:
        return {"context": context}
    langs = rng.choice(_SCENARIOS)
    layout = _Layout(rng, rng.randint(900, 1800), pdf=False, word_conf=rng.random() < 0.4)
    n_words = max(1, round(words_per_image * rng.uniform(0.7, 1.3)))
    page, extent = layout.page(langs, n_words, (16, 40), 0)
    text = "".join(layout.text)
    whole = {"locale": langs[0], "description": text, "boundingPoly": layout.box(*extent)}
    return {
        "labelAnnotations": _labels(rng),
        "textAnnotations": [whole, *layout.words],
        "fullTextAnnotation": {"pages": [page], "text": text},
        "context": context,
    }


def _pdf_response(seed: int, doc: int, page_number: int, langs: tuple[str, ...]) -> Json:
    """One PDF page, or for ~5% of pages a blank one (context alone)."""
    rng = random.Random(f"{seed}/doc/{doc}/{page_number}")
    context = {"uri": f"{BUCKET}/files/doc-{doc}.pdf", "pageNumber": page_number}
    if rng.random() < 0.05:
        return {"context": context}
    layout = _Layout(rng, PDF_PAGE[0], pdf=True, word_conf=True)
    page, _ = layout.page(langs, rng.randint(60, 200), (9, 12), PDF_PAGE[1])
    return {
        "fullTextAnnotation": {"pages": [page], "text": "".join(layout.text)},
        "context": context,
    }


class _Msg(str):
    """A message type in _SCHEMA: ``_Msg("Page")`` a singular field, ``[_Msg("Page")]`` a list."""


# Per message type, its fields in proto order: a scalar's default (float fields get
# floats), an enum's names by number, or a message type. Types never generated
# (FaceAnnotation, ...) are named but not described.
_PROPERTY, _BOX, _ENTITIES = _Msg("TextProperty"), _Msg("BoundingPoly"), [_Msg("EntityAnnotation")]
# fmt: off
_SCHEMA: dict[str, dict[str, _Msg | list[_Msg] | tuple[str, ...] | int | float | str]] = {
    "BatchAnnotateImagesResponse": {"responses": [_Msg("AnnotateImageResponse")]},
    "AnnotateFileResponse": {"inputConfig": _Msg("InputConfig"),
        "responses": [_Msg("AnnotateImageResponse")], "totalPages": 0, "error": _Msg("Status")},
    "InputConfig": {"gcsSource": _Msg("GcsSource"), "content": "", "mimeType": ""},
    "GcsSource": {"uri": ""},
    "AnnotateImageResponse": {"faceAnnotations": [_Msg("FaceAnnotation")],
        "landmarkAnnotations": _ENTITIES, "logoAnnotations": _ENTITIES,
        "labelAnnotations": _ENTITIES,
        "localizedObjectAnnotations": [_Msg("LocalizedObjectAnnotation")],
        "textAnnotations": _ENTITIES, "fullTextAnnotation": _Msg("TextAnnotation"),
        "error": _Msg("Status"), "context": _Msg("ImageAnnotationContext")},
    "Status": {"code": 0, "message": "", "details": [_Msg("Any")]},
    "ImageAnnotationContext": {"uri": "", "pageNumber": 0},
    "EntityAnnotation": {"mid": "", "locale": "", "description": "", "score": 0.0,
        "confidence": 0.0, "topicality": 0.0, "boundingPoly": _BOX,
        "locations": [_Msg("LocationInfo")], "properties": [_Msg("Property")]},
    "BoundingPoly": {"vertices": [_Msg("Vertex")],
                     "normalizedVertices": [_Msg("NormalizedVertex")]},
    "Vertex": {"x": 0, "y": 0},
    "NormalizedVertex": {"x": 0.0, "y": 0.0},
    "TextAnnotation": {"pages": [_Msg("Page")], "text": ""},
    "Page": {"property": _PROPERTY, "width": 0, "height": 0, "blocks": [_Msg("Block")],
             "confidence": 0.0},
    "Block": {"property": _PROPERTY, "boundingBox": _BOX, "paragraphs": [_Msg("Paragraph")],
              "blockType": ("UNKNOWN", "TEXT", "TABLE", "PICTURE", "RULER", "BARCODE"),
              "confidence": 0.0},
    "Paragraph": {"property": _PROPERTY, "boundingBox": _BOX, "words": [_Msg("Word")],
                  "confidence": 0.0},
    "Word": {"property": _PROPERTY, "boundingBox": _BOX, "symbols": [_Msg("Symbol")],
             "confidence": 0.0},
    "Symbol": {"property": _PROPERTY, "boundingBox": _BOX, "text": "", "confidence": 0.0},
    "TextProperty": {"detectedLanguages": [_Msg("DetectedLanguage")],
                     "detectedBreak": _Msg("DetectedBreak")},
    "DetectedLanguage": {"languageCode": "", "confidence": 0.0},
    "DetectedBreak": {"type": ("UNKNOWN", "SPACE", "SURE_SPACE", "EOL_SURE_SPACE", "HYPHEN",
                               "LINE_BREAK"), "isPrefix": False},
}
# fmt: on


def with_defaults(message: Json, type_name: str) -> Json:
    """`message` as a client library re-serialises it: every default present, enums as ints.

    Unset singular messages stay absent, as in proto3 JSON with defaults included.
    """
    out: Json = {}
    for key, kind in _SCHEMA[type_name].items():
        value = message.get(key)
        if isinstance(kind, list):
            out[key] = [with_defaults(m, kind[0]) for m in value or ()]
        elif isinstance(kind, _Msg):
            if value is not None:
                out[key] = with_defaults(value, kind)
        elif isinstance(kind, tuple):
            out[key] = 0 if value is None else kind.index(value)
        elif value is None:
            out[key] = kind
        else:
            out[key] = float(value) if isinstance(kind, float) else value
    return out


def _ranges(count: int, batch_size: int) -> Iterator[tuple[int, int]]:
    for first in range(1, count + 1, batch_size):
        yield first, min(first + batch_size - 1, count)


def _shards(
    images: int, seed: int, batch_size: int, documents: int, pdf_pages: int, words_per_image: int
) -> Iterator[tuple[str, Json, str]]:
    """Every shard in order: its path under DEST, its content, its message type."""
    for first, last in _ranges(images, batch_size):
        responses = [_image_response(seed, i, words_per_image) for i in range(first, last + 1)]
        name = f"images/output-{first}-to-{last}.json"
        yield name, {"responses": responses}, "BatchAnnotateImagesResponse"
    for doc in range(1, documents + 1):
        source = {"gcsSource": {"uri": f"{BUCKET}/files/doc-{doc}.pdf"}}
        langs = random.Random(f"{seed}/doc/{doc}").choice(_SCENARIOS)
        for first, last in _ranges(pdf_pages, batch_size):
            pages = [_pdf_response(seed, doc, n, langs) for n in range(first, last + 1)]
            shard = {"inputConfig": {**source, "mimeType": "application/pdf"}, "responses": pages}
            yield f"files/doc-{doc}/output-{first}-to-{last}.json", shard, "AnnotateFileResponse"


def write_sample(
    dest: Path,
    *,
    images: int,
    seed: int = 0,
    batch_size: int = 20,
    documents: int = 2,
    pdf_pages: int = 5,
    defaults: bool = False,
    words_per_image: int = 40,
) -> list[Path]:
    """Write the shards of one image job and of `documents` PDF jobs under `dest`.

    Image k and page n of document d depend only on (seed, k) and (seed, d, n) (and
    words_per_image), so a larger run starts with the same images. Files of an earlier
    run are overwritten where the names match and otherwise left alone. Returns the
    written paths.
    """
    if not 1 <= batch_size <= 100:
        raise ValueError(f"batch size must be 1..100 as in the API, not {batch_size}")
    if min(images, documents, pdf_pages, words_per_image) < 0:
        raise ValueError("counts must not be negative")
    written = []
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of small acyclic dicts would set it off again and again: 2x slower
    try:
        for name, shard, type_name in _shards(
            images, seed, batch_size, documents, pdf_pages, words_per_image
        ):
            path = dest / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(orjson.dumps(with_defaults(shard, type_name) if defaults else shard))
            written.append(path)
    finally:
        if gc_was_enabled:
            gc.enable()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser("python -m vision_results.synth", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", type=int, metavar="N", help="images in the image job")
    source.add_argument("--sample", action="store_true", help="the bundled sample set")
    parser.add_argument("dest", type=Path, metavar="DEST")
    parser.add_argument("--seed", type=int, metavar="S", help="default 0; --sample has its own")
    parser.add_argument("--batch-size", type=int, default=20, metavar="N", help="1..100")
    parser.add_argument("--documents", type=int, default=2, metavar="D", help="PDF file jobs")
    parser.add_argument("--pdf-pages", type=int, default=5, metavar="P", help="pages per PDF")
    parser.add_argument("--defaults", action="store_true", help="all defaults, enums as ints")
    parser.add_argument("--words-per-image", type=int, default=40, metavar="W", help="mean")
    args = parser.parse_args(argv)
    if args.sample and args.seed is not None:
        parser.error("--sample fixes the seed")
    options = {k: v for k, v in vars(args).items() if k not in ("sample", "dest", "seed")}
    if args.sample:
        options["images"] = SAMPLE_IMAGES
    seed = SAMPLE_SEED if args.sample else args.seed or 0
    try:
        written = write_sample(args.dest, seed=seed, **options)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"wrote {len(written)} shards under {args.dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
