"""From a shard's bytes to its responses, each with its join key.

Accepted shapes (see docs/tables.md, "What is read"):

- an image-job shard ``{"responses": [AnnotateImageResponse, ...]}``, also without
  ``context`` (a synchronous ``images:annotate`` answer saved to a file);
- a file-job shard ``{"inputConfig": ..., "responses": [...]}`` whose responses'
  ``context`` carries ``pageNumber``; a synchronous ``files:annotate`` answer
  (``{"responses": [{"responses": [...]}]}``) is unpacked the same way; a file
  that failed as a whole (``error`` and no responses) gives one response with
  that error;
- one bare AnnotateImageResponse.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

import msgspec

from vision_results.errors import ShardError

Response = dict[str, Any]


# The decoder's view of a shard. Everything is decoded into plain dicts and
# lists, as ``json.loads`` would, except that the OCR hierarchy is typed down to
# the symbols and a symbol keeps only its text and break: symbol boxes are most
# of the bytes and no table needs them (performance-notes.md), so they are
# skipped without being built. Leaves stay ``Any``: their types are checked
# where they are used. Unknown keys of the typed levels are dropped.
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


class _Node(TypedDict, total=False):
    """A shard, an AnnotateFileResponse or an AnnotateImageResponse."""

    responses: list[_Node] | None
    inputConfig: Any
    totalPages: Any
    faceAnnotations: Any
    landmarkAnnotations: Any
    logoAnnotations: Any
    labelAnnotations: Any
    localizedObjectAnnotations: Any
    textAnnotations: Any
    fullTextAnnotation: _FullText | None
    safeSearchAnnotation: Any
    imagePropertiesAnnotation: Any
    cropHintsAnnotation: Any
    webDetection: Any
    productSearchResults: Any
    context: Any
    error: Any


class _PageSize(TypedDict, total=False):
    width: Any
    height: Any


class _FullTextPageSize(TypedDict, total=False):
    pages: list[_PageSize] | None


# How msgspec reports a known field of the wrong JSON type below the top level.
_WRONG_TYPE = re.compile(r"Expected `(.+)`, got `(.+)` - at `\$\.(.+)`")

RESPONSE_FIELDS = frozenset(_Node.__annotations__) - {"responses", "inputConfig", "totalPages"}
"""The fields of an AnnotateImageResponse."""
PAGE_SIZE = "fullTextAnnotation.pages.size"
"""For :func:`decoder`: of ``fullTextAnnotation``, only each page's width and height
(the tables with boxes scale normalized vertices by the page size)."""
_ALWAYS = {"responses", "inputConfig", "totalPages", "context", "error"}


@functools.cache
def decoder(fields: frozenset[str] = RESPONSE_FIELDS) -> msgspec.json.Decoder[dict[str, Any]]:
    """A decoder that builds only ``fields`` of each response (and always ``context``
    and ``error``); msgspec skips the others without building them, so an export
    of a few tables does not pay for the OCR geometry of the rest."""
    if fields >= RESPONSE_FIELDS:
        return msgspec.json.Decoder(_Node)
    types = {name: kind for name, kind in _Node.__annotations__.items() if name in fields | _ALWAYS}
    if PAGE_SIZE in fields and "fullTextAnnotation" not in fields:
        types["fullTextAnnotation"] = "_FullTextPageSize | None"
    # A TypedDict of its own, found by name in this module (it refers to itself).
    name = f"_Node_{len(_NODES)}"
    types["responses"] = f"list[{name}] | None"
    _NODES[name] = globals()[name] = TypedDict(name, types, total=False)  # type: ignore[operator]
    return msgspec.json.Decoder(_NODES[name])


_NODES: dict[str, type] = {}


@dataclass
class ParsedShard:
    """The responses of one shard, in order, with their ``uri`` and ``page_number``.

    ``response_index`` of a response is its position in these lists, or, once
    superseded responses are dropped (:meth:`keep`), its entry in ``indexes``.
    """

    shard: str
    uris: list[str] = field(default_factory=list)
    pages: list[int | None] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    files: list[dict[str, Any] | None] = field(default_factory=list)
    """For file jobs, the AnnotateFileResponse (``inputConfig``, ``totalPages``) of
    each response; None for image jobs."""
    job_uris: Sequence[str] = ()
    """The uri of each position according to the job manifest, for responses
    without ``context``."""
    indexes: list[int] | None = None

    def __len__(self) -> int:
        return len(self.responses)

    def keep(self, mask: Sequence[bool]) -> None:
        """Drop the responses whose ``mask`` entry is False (superseded by a retry)."""
        kept = [i for i, wanted in enumerate(mask) if wanted and i < len(self.responses)]
        self.indexes = kept
        self.uris = [self.uris[i] for i in kept]
        self.pages = [self.pages[i] for i in kept]
        self.responses = [self.responses[i] for i in kept]
        self.files = [self.files[i] for i in kept]


def _add(
    parsed: ParsedShard,
    response: Response,
    fallback_uri: str,
    file: dict[str, Any] | None = None,
) -> None:
    context = response.get("context") or {}
    position = len(parsed.responses)
    job_uri = parsed.job_uris[position] if position < len(parsed.job_uris) else None
    parsed.uris.append(context.get("uri") or job_uri or fallback_uri)
    # proto3: page 0 means "not set"; image jobs have no page.
    parsed.pages.append(context.get("pageNumber") or None)
    parsed.responses.append(response)
    parsed.files.append(file)


def _add_file_response(parsed: ParsedShard, file_response: dict[str, Any], location: str) -> None:
    input_config = file_response.get("inputConfig") or {}
    fallback = (input_config.get("gcsSource") or {}).get("uri") or location
    file = file_response if input_config or "totalPages" in file_response else None
    responses = file_response.get("responses") or ()
    if not responses and file_response.get("error"):
        # The whole file failed: keep its error as a row of its own.
        _add(parsed, {"error": file_response["error"]}, fallback, file)
    for item in responses:
        if "responses" in item or "inputConfig" in item:
            _add_file_response(parsed, item, location)
        else:
            _add(parsed, item, fallback, file)


def parse_shard(
    data: bytes,
    shard: str,
    location: str,
    job_uris: Sequence[str] = (),
    fields: frozenset[str] = RESPONSE_FIELDS,
) -> ParsedShard:
    """Parse one shard. ``shard`` is its name in tables, ``location`` its address,
    ``job_uris`` the input of each position from a job manifest, if there is one;
    only ``fields`` of each response are built (see :func:`decoder`).

    Raises :class:`ShardError` naming the shard when the bytes are not JSON or
    not a Vision response, or when a field of the OCR hierarchy has the wrong JSON
    type. Unknown fields are skipped by the decoder or ignored later.
    """
    try:
        document = decoder(fields).decode(data)
    except msgspec.ValidationError as exc:
        raise _not_vision(data, location, str(exc)) from None
    except msgspec.DecodeError as exc:
        raise ShardError(location, f"not valid JSON ({exc})") from None
    except RecursionError:
        raise ShardError(location, "not a Vision response: JSON nested too deeply") from None
    if not document:  # keys Vision does not have, or only fields not asked for
        whole = msgspec.json.decode(data)
        if whole and not RESPONSE_FIELDS & whole.keys():
            raise _not_vision(data, location, "")
    parsed = ParsedShard(shard, job_uris=job_uris)
    if "responses" in document or "inputConfig" in document:
        _add_file_response(parsed, document, location)
    else:
        _add(parsed, document, location)
    return parsed


def _not_vision(data: bytes, location: str, problem: str) -> ShardError:
    """Say what was found instead of a Vision response (decoding again, untyped)."""
    wrong_type = _WRONG_TYPE.fullmatch(problem)
    if wrong_type:
        expected, got, where = wrong_type.groups()
        expected = expected.removesuffix(" | null")
        return ShardError(location, f"{where} is {got}, expected a JSON {expected}")
    try:
        document = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        return ShardError(location, f"not valid JSON ({exc})")
    found = (
        f"an object with keys {sorted(document)[:5]}"
        if isinstance(document, dict)
        else f"a JSON {type(document).__name__}"
    )
    return ShardError(
        location,
        f'not a Vision response: expected {{"responses": [...]}} or one '
        f"AnnotateImageResponse, found {found}",
    )
