"""The OCR tables from ``fullTextAnnotation``: pages, blocks, paragraphs, lines, words.

Vision returns no lines; they are rebuilt from the break after each word's last
symbol: ``EOL_SURE_SPACE``, ``LINE_BREAK`` and ``HYPHEN`` end a line, ``SPACE``
and ``SURE_SPACE`` separate words, no break joins words (Japanese, Chinese).
Text at every level is rebuilt from the symbols with exactly those separators, so
a page's ``text`` reads as ``fullTextAnnotation.text`` does (trailing newline
aside). A ``HYPHEN`` break is a hyphen the symbols do not contain: it is added
to the line's and the page's text, not to the word's.

Symbols themselves get no table (their boxes are most of the JSON and few
users need them); their text is in ``ocr_words.text``.

``confidence`` is null where the response has none (TEXT_DETECTION answers
carry no confidences; proto3 writes the same absence as 0.0 when defaults are
present): a missing value must not read as "no confidence at all". A line's
confidence is the mean of its words' that have one.

:func:`flatten` walks the parsed JSON; :func:`flatten_arrow` gives the same
tables from a :class:`~vision_results.batch.Batch` with whole-array operations
(:mod:`._ocr_arrow`, which also holds the break rules both read).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from vision_results.batch import Batch
from vision_results.parse import ParsedShard
from vision_results.tables import _arrow
from vision_results.tables._boxes import segment_reduce
from vision_results.tables._common import (
    BOX_FIELDS,
    LANGUAGES,
    Columns,
    annotated,
    enum_name,
    table_schema,
    top_language,
)
from vision_results.tables._ocr_arrow import (
    BREAK_TYPES,
    LINE_ENDS,
    SEPARATOR,
    SPACES,
    Hierarchy,
    level_columns,
    line_confidences,
    most_common,
    nonzero,
)

BLOCK_TYPES = ("UNKNOWN", "TEXT", "TABLE", "PICTURE", "RULER", "BARCODE")
_EMPTY: dict[str, Any] = {}
_WHERE = ("page_index", "block_index", "paragraph_index")

_PAGE = [pa.field("page_index", pa.int32(), nullable=False)]
_BLOCK = [*_PAGE, pa.field("block_index", pa.int32(), nullable=False)]
_PARAGRAPH = [*_BLOCK, pa.field("paragraph_index", pa.int32(), nullable=False)]
_LINE = [*_PARAGRAPH, pa.field("line_index", pa.int32(), nullable=False)]
_TEXT = [
    pa.field("text", pa.string()),
    pa.field("confidence", pa.float64()),
    pa.field("language", pa.string()),
    pa.field("languages", LANGUAGES),
]
_BOUNDS = BOX_FIELDS[:4]

PAGES = table_schema(*_PAGE, pa.field("width", pa.int32()), pa.field("height", pa.int32()), *_TEXT)
BLOCKS = table_schema(*_BLOCK, pa.field("block_type", pa.string()), *_TEXT, *BOX_FIELDS)
PARAGRAPHS = table_schema(*_PARAGRAPH, *_TEXT, *BOX_FIELDS)
LINES = table_schema(*_LINE, pa.field("n_words", pa.int32(), nullable=False), *_TEXT[:3], *_BOUNDS)
WORDS = table_schema(
    *_LINE,
    pa.field("word_index", pa.int32(), nullable=False),
    *_TEXT,
    pa.field("break_type", pa.string()),
    *BOX_FIELDS,
)
SCHEMAS = {
    "ocr_pages": PAGES,
    "ocr_blocks": BLOCKS,
    "ocr_paragraphs": PARAGRAPHS,
    "ocr_lines": LINES,
    "ocr_words": WORDS,
}


def line_bounds(words: pa.Table | dict[str, pa.Array], offsets: np.ndarray) -> dict[str, pa.Array]:
    """Lines' bounds, the union of their words' (a line's words are the rows of
    ``words`` from its entry in ``offsets`` to the next)."""
    return {
        name: pa.array(
            segment_reduce(reduce, words[name].to_numpy(zero_copy_only=False), offsets),
            from_pandas=True,
        )
        for name, reduce in (("x_min", np.fmin), ("y_min", np.fmin),
                             ("x_max", np.fmax), ("y_max", np.fmax))
    }  # fmt: skip


def page_size(response: dict[str, Any]) -> tuple[int | None, int | None]:
    """Width and height of the first OCR page, when the response has one."""
    pages = (response.get("fullTextAnnotation") or {}).get("pages")
    if not pages:
        return None, None
    return pages[0].get("width") or None, pages[0].get("height") or None


def word_breaks(word: dict[str, Any]) -> tuple[str | None, str | None]:
    """The break before the word (a prefix break) and the break after it."""
    symbols = word.get("symbols")
    if not symbols:
        return None, None
    before = after = None
    first = (symbols[0].get("property") or {}).get("detectedBreak")
    if first and first.get("isPrefix"):
        before = enum_name(first.get("type"), BREAK_TYPES)
    last = (symbols[-1].get("property") or {}).get("detectedBreak")
    if last and not last.get("isPrefix"):
        after = enum_name(last.get("type"), BREAK_TYPES)
    return before, after


def count_lines(paragraph: dict[str, Any]) -> int:
    """How many lines a paragraph's words make (see the module docstring).

    The ``images`` table calls this for every paragraph: :func:`word_breaks` is
    inlined.
    """
    lines, open_line = 0, False
    for word in paragraph.get("words") or ():
        symbols = word.get("symbols")
        if not symbols:
            open_line = True
            continue
        prop = symbols[0].get("property")
        if prop and open_line:
            detected = prop.get("detectedBreak")
            if detected and detected.get("isPrefix"):
                lines += enum_name(detected.get("type"), BREAK_TYPES) in LINE_ENDS
        prop = symbols[-1].get("property")
        detected = prop.get("detectedBreak") if prop else None
        open_line = not (
            detected
            and not detected.get("isPrefix")
            and enum_name(detected.get("type"), BREAK_TYPES) in LINE_ENDS
        )
        lines += not open_line
    return lines + open_line


class _Line:
    """Words gathered into the current line of a paragraph."""

    __slots__ = ("confidences", "languages", "pieces")

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.confidences: list[float] = []
        self.languages: list[str] = []


class _Builder:
    """Walks one shard's OCR and appends rows to the five tables."""

    def __init__(self, parsed: ParsedShard) -> None:
        self.pages, self.blocks, self.paragraphs, self.lines, self.words = (
            Columns(schema, parsed) for schema in SCHEMAS.values()
        )

    def response(self, index: int, annotation: dict[str, Any]) -> None:
        for page_index, page in enumerate(annotation.get("pages") or ()):
            width, height = page.get("width") or None, page.get("height") or None
            page_text: list[str] = []
            for block_index, block in enumerate(page.get("blocks") or ()):
                block_text: list[str] = []
                for paragraph_index, paragraph in enumerate(block.get("paragraphs") or ()):
                    where = (index, page_index, block_index, paragraph_index)
                    text = self.paragraph(where, paragraph, width, height)
                    self.paragraphs.key(index)
                    self.paragraphs.add(
                        page_index=page_index,
                        block_index=block_index,
                        paragraph_index=paragraph_index,
                    )
                    _text_row(self.paragraphs, paragraph, text)
                    self.paragraphs.add_box(paragraph.get("boundingBox"), width, height)
                    block_text.append(text)
                text = "".join(block_text)
                self.blocks.key(index)
                self.blocks.add(
                    page_index=page_index,
                    block_index=block_index,
                    block_type=enum_name(block.get("blockType"), BLOCK_TYPES),
                )
                _text_row(self.blocks, block, text)
                self.blocks.add_box(block.get("boundingBox"), width, height)
                page_text.append(text)
            self.pages.key(index)
            self.pages.add(page_index=page_index, width=width, height=height)
            _text_row(self.pages, page, "".join(page_text))

    def paragraph(
        self,
        where: tuple[int, int, int, int],
        paragraph: dict[str, Any],
        width: int | None,
        height: int | None,
    ) -> str:
        """Append the paragraph's words and lines; return its raw text.

        The hot loop of the package, once per word: what is the same for every
        word of the paragraph is extended once, the rest is plain list appends.
        """
        words = paragraph.get("words") or ()
        count = len(words)
        cols = self.words
        data = cols.data
        cols.rows.extend([where[0]] * count)
        for name, value in zip(_WHERE, where[1:], strict=True):
            data[name].extend([value] * count)
        data["word_index"].extend(range(count))
        vertices, normalized, widths, heights = cols.boxes()
        widths.extend([width] * count)
        heights.extend([height] * count)
        line_indexes, texts, confidences = data["line_index"], data["text"], data["confidence"]
        languages, all_languages = data["language"], data["languages"]
        break_types = data["break_type"]

        text: list[str] = []
        line, line_index = _Line(), 0
        for word in words:
            symbols = word.get("symbols") or ()
            before = after = None
            if symbols:
                # Inlined word_breaks().
                prop = symbols[-1].get("property")
                detected = prop.get("detectedBreak") if prop else None
                if detected and not detected.get("isPrefix"):
                    after = enum_name(detected.get("type"), BREAK_TYPES)
                if symbols[0].get("property"):
                    before = word_breaks(word)[0]
            prefix = SEPARATOR.get(before, "") if before else ""
            if before in LINE_ENDS:
                if line.pieces:
                    self._line(where, line_index, line)
                    line, line_index = _Line(), line_index + 1
                text.append(prefix)
                prefix = ""
            word_text = "".join([s.get("text", "") for s in symbols])
            confidence = word.get("confidence") or None
            prop = word.get("property")
            detected_languages = prop.get("detectedLanguages") if prop else None
            if not detected_languages:
                language = None
            elif len(detected_languages) == 1:
                language = detected_languages[0].get("languageCode") or None
            else:
                language = top_language(prop)
            box = word.get("boundingBox")
            if box:
                vertices.append(box.get("vertices") or None)
                normalized.append(box.get("normalizedVertices") or None)
            else:
                vertices.append(None)
                normalized.append(None)
            line_indexes.append(line_index)
            texts.append(word_text or None)
            confidences.append(confidence)
            languages.append(language)
            all_languages.append(detected_languages or None)
            break_types.append(after)

            separator = SEPARATOR.get(after, "") if after else ""
            text.append(prefix + word_text + separator)
            line.pieces.append(prefix + word_text + ("-" if after == "HYPHEN" else separator))
            if confidence is not None:
                line.confidences.append(confidence)
            if language:
                line.languages.append(language)
            if after in LINE_ENDS:
                self._line(where, line_index, line)
                line, line_index = _Line(), line_index + 1
        if line.pieces:
            self._line(where, line_index, line)
        return "".join(text)

    def _line(self, where: tuple[int, int, int, int], line_index: int, line: _Line) -> None:
        index, page_index, block_index, paragraph_index = where
        # The most common language, the first seen on ties (as Counter.most_common).
        languages = line.languages
        language = max(dict.fromkeys(languages), key=languages.count) if languages else None
        self.lines.key(index)
        self.lines.add(
            page_index=page_index,
            block_index=block_index,
            paragraph_index=paragraph_index,
            line_index=line_index,
            n_words=len(line.pieces),
            text="".join(line.pieces).strip(SPACES) or None,
            confidence=sum(line.confidences) / len(line.confidences) if line.confidences else None,
            language=language,
        )

    def tables(self) -> dict[str, pa.Table]:
        words = self.words.table()
        # A line's words are the next n_words rows of the words table.
        offsets = np.concatenate([[0], np.cumsum(self.lines.data["n_words"], dtype=np.int64)])
        bounds = line_bounds(words, offsets)
        return {
            "ocr_pages": self.pages.table(),
            "ocr_blocks": self.blocks.table(),
            "ocr_paragraphs": self.paragraphs.table(),
            "ocr_lines": self.lines.table(**bounds),
            "ocr_words": words,
        }


def _text_row(cols: Columns, element: dict[str, Any], raw_text: str) -> None:
    prop = element.get("property")
    cols.add(
        text=raw_text.strip(SPACES) or None,
        confidence=element.get("confidence") or None,
        language=top_language(prop),
        languages=(prop or _EMPTY).get("detectedLanguages") or None,
    )


def flatten(parsed: ParsedShard) -> dict[str, pa.Table]:
    builder = _Builder(parsed)
    for index, annotation, _ in annotated(parsed, "fullTextAnnotation"):
        builder.response(index, annotation)
    return builder.tables()


def flatten_arrow(batch: Batch) -> dict[str, pa.Table]:
    ocr = Hierarchy(batch.field("fullTextAnnotation"))
    pages, blocks, paragraphs, words, lines = (
        ocr.pages, ocr.blocks, ocr.paragraphs, ocr.words, ocr.lines
    )  # fmt: skip
    width, height = (nonzero(_arrow.field(pages.values, name)) for name in ("width", "height"))
    level = level_columns(ocr, width, height)
    in_paragraph = {
        "page_index": pages.positions[ocr.page_of["paragraphs"]],
        "block_index": blocks.positions[paragraphs.parents],
        "paragraph_index": paragraphs.positions,
    }
    columns = {
        "ocr_pages": {
            **batch.keys(pages.parents),
            "page_index": pages.positions,
            "width": width,
            "height": height,
            **level["pages"],
        },
        "ocr_blocks": {
            **batch.keys(ocr.response_of("blocks")),
            "page_index": pages.positions[blocks.parents],
            "block_index": blocks.positions,
            "block_type": _arrow.enum_names(_arrow.field(blocks.values, "blockType"), "BlockType"),
            **level["blocks"],
        },
        "ocr_paragraphs": {
            **batch.keys(ocr.response_of("paragraphs")),
            **in_paragraph,
            **level["paragraphs"],
        },
        "ocr_lines": {
            **batch.keys(ocr.response_of("paragraphs")[lines.paragraphs]),
            **{name: values[lines.paragraphs] for name, values in in_paragraph.items()},
            "line_index": lines.index,
            "n_words": np.diff(lines.offsets).astype(np.int32),
            **level["lines"],
            "confidence": line_confidences(level["words"]["confidence"], lines.offsets),
            "language": most_common(level["words"]["language"], lines.offsets),
            **line_bounds(level["words"], lines.offsets),
        },
        "ocr_words": {
            **batch.keys(ocr.response_of("words")),
            **{name: values[words.parents] for name, values in in_paragraph.items()},
            "line_index": lines.index[np.cumsum(ocr.line_starts) - 1],
            "word_index": words.positions,
            **level["words"],
            "break_type": ocr.breaks.after_names,
        },
    }
    return {name: pa.Table.from_pydict(columns[name], schema=SCHEMAS[name]) for name in SCHEMAS}
