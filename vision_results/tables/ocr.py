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

:func:`flatten` builds them from a :class:`~vision_results.batch.Batch` with
whole-array operations (:mod:`._ocr_arrow`, which also holds the break rules).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from vision_results.batch import Batch
from vision_results.messages import TEXT_ANNOTATION
from vision_results.tables import _arrow
from vision_results.tables._boxes import segment_reduce
from vision_results.tables._common import (
    BOX_FIELDS,
    LANGUAGES,
    table_schema,
)
from vision_results.tables._ocr_arrow import (
    Hierarchy,
    level_columns,
    line_confidences,
    most_common,
    nonzero,
)
from vision_results.tables._registry import Declaration

BLOCK_TYPES = ("UNKNOWN", "TEXT", "TABLE", "PICTURE", "RULER", "BARCODE")

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


def flatten(batch: Batch) -> dict[str, pa.Table]:
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


DECLARATION = Declaration(
    tables=SCHEMAS,
    reads={"fullTextAnnotation": TEXT_ANNOTATION},
    flatten=flatten,
    position=40,
)
