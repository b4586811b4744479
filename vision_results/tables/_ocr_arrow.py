"""The OCR hierarchy of a batch as whole arrays: levels, word breaks, lines, text.

What the Arrow flatteners of the OCR tables (:func:`.ocr.flatten_arrow`) and of
``images`` (its counts, ``n_lines`` above all) share. The break rules are kept
here, as data, for the Python walk of :mod:`vision_results.tables.ocr` to read
too; its module docstring says what they mean.

Every step works on a whole level at once: a line is a run of words (a segment
of the words level), a text is one ``binary_join`` per level over pieces taken
from the words' texts and the separators, and the per-line reductions are numpy
segment operations. Nothing loops per word, symbol or line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vision_results.messages import ENUMS
from vision_results.tables import _arrow
from vision_results.tables._arrow import enum_names, explode, field, text
from vision_results.tables._boxes import boxes

BREAK_TYPES = ENUMS["BreakType"]
SEPARATOR = {
    "SPACE": " ",
    "SURE_SPACE": " ",
    "EOL_SURE_SPACE": "\n",
    "LINE_BREAK": "\n",
    "HYPHEN": "-\n",
}
LINE_ENDS = frozenset({"EOL_SURE_SPACE", "LINE_BREAK", "HYPHEN"})
SPACES = " \n"

NO_BREAK = -1
"""The break code of a word without such a break (or with a name of no rule)."""
_LINE_END_CODES = np.array([BREAK_TYPES.index(name) for name in sorted(LINE_ENDS)])
_PIECES = ("", " ", "\n", "-\n", "-")
"""Every separator text; a word's pieces index these, then the words' own texts."""


def _piece_of(separators: Mapping[str, str]) -> np.ndarray:
    """Per break code + 1 (0 for :data:`NO_BREAK`): the index in :data:`_PIECES`
    of the break's text in ``separators`` ("" for a name not in it)."""
    return np.array([_PIECES.index(separators.get(name, "")) for name in ("", *BREAK_TYPES)])


_PARAGRAPH_PREFIX = _PARAGRAPH_SUFFIX = _piece_of(SEPARATOR)
# In a line, a prefix break that ends a line only starts the next one (its
# separator is the paragraph's, not the line's), and a HYPHEN adds its "-" only.
_LINE_PREFIX = _piece_of({name: sep for name, sep in SEPARATOR.items() if name not in LINE_ENDS})
_LINE_SUFFIX = _piece_of({**SEPARATOR, "HYPHEN": "-"})


@dataclass
class Breaks:
    """Per word, the breaks the Python walk reads: before it (a prefix break on its
    first symbol) and after it (on its last symbol, not a prefix)."""

    before: np.ndarray
    """Its code (index in ``BREAK_TYPES``), or :data:`NO_BREAK`."""
    after: np.ndarray
    """Its code, or :data:`NO_BREAK`."""
    after_names: pa.Array
    """Its name (any name, as given), null where none: ``ocr_words.break_type``."""


@dataclass
class Lines:
    """The lines, each a run of words of one paragraph, in order."""

    paragraphs: np.ndarray
    """Per line: the index of its paragraph."""
    index: np.ndarray
    """Per line: its ``line_index`` in the paragraph."""
    offsets: np.ndarray
    """Per line: where its words start in the words level (one more entry at the end)."""


class Hierarchy:
    """The pages, blocks, paragraphs and words of every response of a batch.

    Each level's ``parents`` index the level above it (the pages': the
    responses); every level is in the order of the Python walk.
    """

    def __init__(self, annotation: pa.Array) -> None:
        self.pages = explode(field(annotation, "pages"))
        self.blocks = explode(field(self.pages.values, "blocks"))
        self.paragraphs = explode(field(self.blocks.values, "paragraphs"))
        self.words = explode(field(self.paragraphs.values, "words"))

    @cached_property
    def page_of(self) -> dict[str, np.ndarray]:
        """Per element of ``blocks``, ``paragraphs``, ``words``: the index of its page."""
        blocks = self.blocks.parents
        paragraphs = blocks[self.paragraphs.parents]
        return {"blocks": blocks, "paragraphs": paragraphs, "words": paragraphs[self.words.parents]}

    def response_of(self, level: str) -> np.ndarray:
        """Per element of ``level`` (any but ``pages``): the index of its response."""
        responses: np.ndarray = self.pages.parents[self.page_of[level]]
        return responses

    @cached_property
    def _symbols(self) -> tuple[np.ndarray, pa.Array]:
        """Where each word's symbols start in the symbols of all words, and those."""
        symbols = field(self.words.values, "symbols")
        lengths = pc.fill_null(pc.list_value_length(symbols), 0).to_numpy(zero_copy_only=False)
        offsets = np.zeros(len(lengths) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return offsets, pc.list_flatten(symbols)

    @cached_property
    def breaks(self) -> Breaks:
        offsets, symbols = self._symbols
        count, empty = len(self.words), np.diff(offsets) == 0
        # The break of each word's first symbol, then of its last (null: no symbols).
        ends = np.concatenate([offsets[:-1], offsets[1:] - 1])
        detected = field(symbols, "property", "detectedBreak").take(
            pa.array(ends, mask=np.concatenate([empty, empty]))
        )
        kind, prefix = field(detected, "type"), field(detected, "isPrefix")
        # As the Python walk's truth test: a break written {} is no break.
        present = _numpy(kind.is_valid()) | _numpy(prefix.is_valid())
        is_prefix = _numpy(pc.fill_null(prefix, False))
        names = enum_names(kind, "BreakType")
        codes = _numpy(pc.fill_null(pc.index_in(names, pa.array(BREAK_TYPES)), NO_BREAK))
        before = present[:count] & is_prefix[:count]
        after = present[count:] & ~is_prefix[count:]
        return Breaks(
            before=np.where(before, codes[:count], NO_BREAK),
            after=np.where(after, codes[count:], NO_BREAK),
            after_names=pc.if_else(pa.array(after), names[count:], pa.scalar(None, pa.string())),
        )

    @cached_property
    def line_starts(self) -> np.ndarray:
        """Per word, whether it starts a line: the first of its paragraph, the one
        after a word whose break ends a line, or one whose prefix break ends one."""
        starts: np.ndarray = self.words.positions == 0
        ends_after = np.isin(self.breaks.after[:-1], _LINE_END_CODES)
        starts[1:] |= ends_after | np.isin(self.breaks.before[1:], _LINE_END_CODES)
        return starts

    def line_counts(self, responses: int) -> np.ndarray:
        """How many lines each of the ``responses`` responses has."""
        counts: np.ndarray = np.bincount(
            self.response_of("words")[self.line_starts], minlength=responses
        )
        return counts

    @cached_property
    def lines(self) -> Lines:
        first_words = np.flatnonzero(self.line_starts)
        # A paragraph's first line is the one that starts at its first word.
        firsts = np.flatnonzero(self.words.positions[first_words] == 0)
        since = np.repeat(firsts, np.diff(firsts, append=len(first_words)))
        return Lines(
            paragraphs=self.words.parents[first_words],
            index=(np.arange(len(first_words)) - since).astype(np.int32),
            offsets=np.append(first_words, len(self.words)),
        )

    @cached_property
    def word_texts(self) -> pa.Array:
        """Each word's symbols' text joined ("" for a word without symbols)."""
        offsets, symbols = self._symbols
        return _join(pc.fill_null(field(symbols, "text"), ""), offsets)

    def texts(self) -> dict[str, pa.Array]:
        """The stripped text (null where empty) of every page, block, paragraph and line."""
        # Each word gives three pieces: its prefix break's text, its own, its break's.
        pieces = pa.concat_arrays([pa.array(_PIECES), self.word_texts])
        own = np.arange(len(_PIECES), len(pieces))
        before, after = self.breaks.before + 1, self.breaks.after + 1

        def joined(prefix: np.ndarray, suffix: np.ndarray, offsets: np.ndarray) -> pa.Array:
            index = np.stack([prefix[before], own, suffix[after]], axis=1).ravel()
            return _join(pieces.take(pa.array(index)), 3 * offsets)

        paragraphs = joined(_PARAGRAPH_PREFIX, _PARAGRAPH_SUFFIX, self.words.offsets)
        blocks = _join(paragraphs, self.paragraphs.offsets)
        pages = _join(blocks, self.blocks.offsets)
        lines = joined(_LINE_PREFIX, _LINE_SUFFIX, self.lines.offsets)
        raw = {"pages": pages, "blocks": blocks, "paragraphs": paragraphs, "lines": lines}
        return {level: text(pc.utf8_trim(values, SPACES)) for level, values in raw.items()}


def _numpy(values: pa.Array) -> np.ndarray:
    array: np.ndarray = values.to_numpy(zero_copy_only=False)
    return array


def _join(values: pa.Array, offsets: np.ndarray) -> pa.Array:
    """The strings of each segment of ``values`` between ``offsets``, concatenated."""
    return pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values), "")


def nonzero(values: pa.Array) -> pa.Array:
    """Numbers with 0 null: confidences and page sizes, where 0 is proto3's way of
    writing none (see :mod:`.ocr`)."""
    return pc.if_else(pc.equal(values, 0), None, values)


def line_confidences(confidences: pa.Array, lines: np.ndarray) -> pa.Array:
    """Per line (``lines`` the offsets of its words), the mean of its words'
    ``confidences`` that are not null, null where none is."""
    values = _numpy(confidences)
    given = ~np.isnan(values)
    offsets = np.append(0, np.cumsum(given))[lines]  # of each line's in values[given]
    counts = np.diff(offsets)
    sums = sequential_sums(values[given], offsets)
    means = np.divide(sums, counts, out=np.full(len(counts), np.nan), where=counts > 0)
    return pa.array(means, pa.float64(), from_pandas=True)


def sequential_sums(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The sum of each segment of ``values`` between ``offsets``, added left to right
    as CPython 3.11's ``sum`` does (0 where empty).

    ``np.add.reduce`` and ``reduceat`` sum pairwise, which differs in the last
    bits; ``cumsum`` along a row is sequential. Segments are grouped by length up
    to the next power of two, each group a matrix padded with trailing zeros
    (adding 0.0 changes no sum): a few numpy calls, not one per segment.
    """
    starts, lengths = offsets[:-1], np.diff(offsets)
    sums = np.zeros(len(lengths))
    padded = np.append(values, 0.0)  # its last item pads the rows
    low, high = 0, 1
    while low < lengths.max(initial=0):
        rows = np.flatnonzero((lengths > low) & (lengths <= high))
        if len(rows):
            steps = np.arange(high)
            index = np.where(steps < lengths[rows, None], starts[rows, None] + steps, len(values))
            sums[rows] = np.cumsum(padded[index], axis=1)[:, -1]
        low, high = high, 2 * high
    return sums


def most_common(values: pa.Array, offsets: np.ndarray) -> pa.Array:
    """Per segment of ``values`` between ``offsets``, its most common non-null value,
    the first seen on ties (as ``Counter.most_common``); null where none."""
    encoded = pc.dictionary_encode(values)
    size, segments = len(encoded.dictionary), len(offsets) - 1
    chosen = np.full(segments, -1, np.int64)
    given = _numpy(encoded.is_valid())
    if given.any():
        segment = np.repeat(np.arange(segments), np.diff(offsets))[given]
        keys = segment * size + _numpy(pc.fill_null(encoded.indices, 0))[given]
        unique, first, counts = np.unique(keys, return_index=True, return_counts=True)
        owners = unique // size
        order = np.lexsort((first, -counts, owners))
        best = order[np.r_[True, owners[order][1:] != owners[order][:-1]]]
        chosen[owners[best]] = unique[best] % size
    return encoded.dictionary.take(pa.array(chosen, mask=chosen < 0))


def level_columns(
    ocr: Hierarchy, width: pa.Array, height: pa.Array
) -> dict[str, dict[str, pa.Array]]:
    """The columns the levels share (text, confidence, languages, boxes), by level
    (and the lines' text).

    Each is computed by one call over the elements of every level at once (a
    call's cost is mostly its own, not its elements'), then cut apart by level.
    """
    elements = {"pages": ocr.pages.values, "blocks": ocr.blocks.values,
                "paragraphs": ocr.paragraphs.values, "words": ocr.words.values}  # fmt: skip
    prop = _concat(elements, "property")
    out = _cut(
        {
            "confidence": nonzero(_concat(elements, "confidence")),
            "language": _arrow.top_language(prop),
            "languages": _arrow.languages(prop),
        },
        elements,
    )
    boxed = {name: values for name, values in elements.items() if name != "pages"}
    # Each element's page size scales its normalized vertices (NaN: unknown).
    page_of = np.concatenate([ocr.page_of[name] for name in boxed])
    scale = [pc.cast(size, pa.float64()).to_numpy(zero_copy_only=False)[page_of]
             for size in (width, height)]  # fmt: skip
    for name, columns in _cut(boxes(_concat(boxed, "boundingBox"), *scale), boxed).items():
        out[name].update(columns)
    texts = ocr.texts()
    for name in ("pages", "blocks", "paragraphs"):
        out[name]["text"] = texts[name]
    out["words"]["text"] = _arrow.text(ocr.word_texts)  # as given, not stripped
    out["lines"] = {"text": texts["lines"]}
    return out


def _concat(elements: dict[str, pa.Array], name: str) -> pa.Array:
    """Field ``name`` of the elements of every level, one level after the other."""
    return pa.concat_arrays([_arrow.field(values, name) for values in elements.values()])


def _cut(columns: dict[str, pa.Array], elements: dict[str, pa.Array]) -> dict[str, dict[str, Any]]:
    """Columns of the elements of every level (as :func:`_concat` gives them), by level."""
    out, start = {}, 0
    for level, values in elements.items():
        out[level] = {name: column.slice(start, len(values)) for name, column in columns.items()}
        start += len(values)
    return out
