"""How the exact decoder (:mod:`vision_results.parse`) builds a response's fields.

Everything is decoded into plain dicts and lists, as ``json.loads`` would,
except that the OCR hierarchy is typed down to the symbols and a symbol keeps
only its text and break: symbol boxes are most of the bytes and no table needs
them (benchmarks/README.md), so they are skipped without being built. Leaves
stay ``Any``: their types are checked where they are used. Unknown keys of the
typed levels are dropped.
"""

from __future__ import annotations

import functools
from typing import Any, TypedDict

import msgspec

from vision_results.messages import PAGE_SIZE
from vision_results.naming import RESPONSE_FIELDS


class _Break(TypedDict, total=False):
    type: Any
    isPrefix: Any


class _SymbolProperty(TypedDict, total=False):
    detectedBreak: _Break | None


class _Symbol(TypedDict, total=False):
    text: Any
    property: _SymbolProperty | None


class _Word(TypedDict, total=False):
    property: Any
    boundingBox: Any
    symbols: list[_Symbol] | None
    confidence: Any


class _Paragraph(TypedDict, total=False):
    property: Any
    boundingBox: Any
    words: list[_Word] | None
    confidence: Any


class _Block(TypedDict, total=False):
    property: Any
    boundingBox: Any
    paragraphs: list[_Paragraph] | None
    blockType: Any
    confidence: Any


class _Page(TypedDict, total=False):
    property: Any
    width: Any
    height: Any
    blocks: list[_Block] | None
    confidence: Any


class _FullText(TypedDict, total=False):
    pages: list[_Page] | None
    text: Any


class _PageSize(TypedDict, total=False):
    width: Any
    height: Any


class _FullTextPageSize(TypedDict, total=False):
    pages: list[_PageSize] | None


_TYPES: dict[str, Any] = {"fullTextAnnotation": _FullText | None}
"""Response fields built into a typed view; all others are plain JSON."""
ALWAYS = frozenset({"context", "error"})
"""Fields built whatever the tables: every response's key and its status."""


@functools.cache
def plan(fields: frozenset[str]) -> dict[str, Any]:
    """The type each response field is built as, for the fields asked for (and
    always ``context`` and ``error``); fields missing here are skipped unbuilt."""
    chosen = {name: _TYPES.get(name, Any) for name in RESPONSE_FIELDS & (fields | ALWAYS)}
    if PAGE_SIZE in fields and "fullTextAnnotation" not in fields:
        chosen["fullTextAnnotation"] = _FullTextPageSize | None
    return chosen


@functools.cache
def decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    """The decoder of one type of :func:`plan`, made once."""
    return msgspec.json.Decoder(kind)
