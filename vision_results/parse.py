"""From a shard's bytes to its responses, each with its join key.

Accepted shapes (see docs/tables.md, "What is read"):

- an image-job shard ``{"responses": [AnnotateImageResponse, ...]}``, also without
  ``context`` (a synchronous ``images:annotate`` answer saved to a file);
- a file-job shard ``{"inputConfig": ..., "responses": [...]}`` whose responses'
  ``context`` carries ``pageNumber``; a synchronous ``files:annotate`` answer
  (``{"responses": [{"responses": [...]}]}``) is unpacked the same way; a file
  that failed as a whole (``error`` and no responses) gives one response with
  that error;
- one bare AnnotateImageResponse;

each in either naming (:mod:`vision_results.naming`), with enums as names or
numbers and defaults omitted or present, in any mix inside one shard.

One pass over the bytes (msgspec, skipping values without building them) gives
every response's keys with each value's raw JSON; the naming is chosen once per
response from its keys, and only the fields the asked-for tables read are then
decoded. A response none of whose keys is a Vision field is not read but
counted (``unrecognised``); unknown keys beside known ones are counted by name
(``unknown_fields``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from vision_results import naming
from vision_results.checks import WrongType, a_text, an_int32, an_object
from vision_results.errors import ShardError
from vision_results.naming import RESPONSE_FIELDS
from vision_results.parse_plan import ALWAYS, decoder, plan

Response = dict[str, Any]
Raw = dict[str, msgspec.Raw]
Data = bytes | memoryview
"""A shard's bytes: its own, or a view of a buffer it was read into."""


_CONTAINER = frozenset(naming.FILE_KEYS) - ALWAYS
"""Keys that make an object a file response or a batch of responses, not a response."""


class _Batch(msgspec.Struct, forbid_unknown_fields=True):
    """The usual shard: a batch or a file response, with no key Vision lacks.

    Its responses come out of the same pass as the shard (one pass over the bytes
    in all); anything else (a bare response, a key to count) fails to decode as
    this and is read as a plain object instead, at the cost of a second pass.
    """

    responses: list[Raw] | msgspec.UnsetType | None = msgspec.UNSET
    inputConfig: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    input_config: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    totalPages: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    total_pages: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    error: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_BATCH = msgspec.json.Decoder(_Batch)
_DOCUMENT = msgspec.json.Decoder(Raw)
_OBJECTS = msgspec.json.Decoder(list[Raw])
_ANY: msgspec.json.Decoder[Any] = msgspec.json.Decoder()


@dataclass
class ParsedShard:
    """The responses of one shard, in order, with their ``uri`` and ``page_number``.

    ``response_index`` of a response is its position in these lists, or, once
    responses are dropped (:meth:`keep`), its entry in ``indexes``.
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
    paths: list[str] = field(default_factory=list)
    """Where each response is in the shard (``responses[3]``), for messages."""
    unread: list[Raw] = field(default_factory=list)
    """Per response, the JSON text of its ``unread`` fields (:func:`parse_shard`) as
    the shard has it, camelCase only; views of the shard's bytes."""
    simple: bool = True
    """One flat batch of camelCase responses (no bare response, no nesting, no
    snake_case): a shard the fast path (:mod:`vision_results.decode`) reads alike."""
    total: int = 0
    """Responses in the shard, before any was dropped."""
    unrecognised: int = 0
    """Responses none of whose keys is a Vision field: not read, and not in the lists."""
    unknown_fields: Counter[str] = field(default_factory=Counter)
    """Keys Vision does not have beside ones it has, as ``Message.key``: how many
    responses (or file responses) carry each."""

    def __len__(self) -> int:
        return len(self.responses)

    def keep(self, mask: Sequence[bool]) -> None:
        """Keep only the responses whose position in the shard has a True ``mask``
        entry (False: superseded by a retry, or not a Vision response)."""
        positions = range(len(self.responses)) if self.indexes is None else self.indexes
        kept = [i for i, at in enumerate(positions) if at < len(mask) and mask[at]]
        self.indexes = [positions[i] for i in kept]
        self.paths = [self.paths[i] for i in kept]
        self.uris = [self.uris[i] for i in kept]
        self.pages = [self.pages[i] for i in kept]
        self.responses = [self.responses[i] for i in kept]
        self.files = [self.files[i] for i in kept]
        self.unread = [self.unread[i] for i in kept]


class _Reader:
    """Walks one shard's raw objects and fills a :class:`ParsedShard`."""

    def __init__(
        self, parsed: ParsedShard, location: str, fields: frozenset[str], unread: frozenset[str]
    ) -> None:
        self.parsed = parsed
        self.location = location
        self.plan = plan(fields)
        self.unread = unread
        self.unrecognised: list[int] = []
        self.foreign_keys: set[str] = set()

    def container(self, node: Raw, where: str) -> None:
        """A shard, a file response or a batch of them; ``where`` is its path."""
        values = {
            naming.FILE_KEYS[key]: raw for key, raw in node.items() if key in naming.FILE_KEYS
        }
        file: dict[str, Any] | None = None
        if "inputConfig" in values or "totalPages" in values:
            named = [name for name in ("inputConfig", "totalPages") if name in values]
            file = _file({name: _json(values[name], f"{where}{name}") for name in named}, where)
        if len(values) < len(node):
            message = "AnnotateFileResponse" if file or "error" in values else "BatchResponse"
            self.parsed.unknown_fields.update(
                f"{message}.{key}" for key in node if key not in naming.FILE_KEYS
            )
        source = ((file or {}).get("inputConfig") or {}).get("gcsSource") or {}
        uri = source.get("uri") or self.location
        items = values.get("responses")
        if isinstance(items, msgspec.Raw):
            items = _decode(_OBJECTS, items, f"{where}responses")
        if where:
            self.parsed.simple = False  # a synchronous files:annotate answer
        if not items and "error" in values:
            error = _json(values["error"], f"{where}error")
            if error:  # the whole file failed: keep its error as a row of its own
                self.parsed.simple = False
                self._add({"error": error}, {}, uri, file, f"{where}error")
        for index, item in enumerate(items or ()):
            at = f"{where}responses[{index}]"
            if _CONTAINER.isdisjoint(item):
                self.response(item, at, uri, file)
            else:
                self.container(item, f"{at}.")

    def response(self, node: Raw, where: str, uri: str, file: dict[str, Any] | None) -> None:
        """One AnnotateImageResponse at ``where``; ``uri`` for one without ``context``."""
        known = [key for key in node if key in naming.RESPONSE_KEYS]
        if node and not known:
            self.unrecognised.append(len(self.parsed.responses))
            self.foreign_keys.update(node)
            self._add({}, {}, uri, file, where)
            return
        if len(known) < len(node):
            self.parsed.unknown_fields.update(
                f"AnnotateImageResponse.{key}" for key in node if key not in naming.RESPONSE_KEYS
            )
        # The one choice of naming for the whole response. context and error read
        # the same in both, but context's pageNumber does not: they are always renamed.
        snake = naming.is_snake(known)
        if snake or not where:
            self.parsed.simple = False
        response: Response = {}
        unread: Raw = {}
        for key in known:
            name = naming.RESPONSE_KEYS[key]
            if name in self.unread and not snake:
                unread[name] = node[key]
            kind = self.plan.get(name)
            if kind is None:
                continue
            at = f"{where}.{name}" if where else name
            if snake or name in ALWAYS:
                value = _json(node[key], at)
                response[name] = value if kind is Any else _convert(value, kind, at)
            else:
                response[name] = _decode(decoder(kind), node[key], at)
        self._add(response, unread, uri, file, where)

    def _add(
        self, response: Response, unread: Raw, uri: str, file: dict[str, Any] | None, where: str
    ) -> None:
        parsed = self.parsed
        own_uri, page = _context(response.get("context"), f"{where}.context".lstrip("."))
        position = len(parsed.responses)
        job_uri = parsed.job_uris[position] if position < len(parsed.job_uris) else None
        parsed.uris.append(own_uri or job_uri or uri)
        # proto3: page 0 means "not set"; image jobs have no page.
        parsed.pages.append(page or None)
        parsed.responses.append(response)
        parsed.files.append(file)
        parsed.unread.append(unread)
        parsed.paths.append(where or "the response")
        parsed.total += 1


def _context(context: Any, where: str) -> tuple[str | None, int | None]:
    """The ``uri`` and ``pageNumber`` of an ImageAnnotationContext at ``where``, checked:
    they become the key columns of every table, so a value of another type is refused."""
    context = an_object(context, where)
    return a_text(context.get("uri"), f"{where}.uri"), an_int32(
        context.get("pageNumber"), f"{where}.pageNumber"
    )


def _file(file: dict[str, Any], where: str) -> dict[str, Any]:
    """An AnnotateFileResponse's ``inputConfig`` and ``totalPages``, checked the same way:
    its uri is the key of every page without context, and the accounting counts pages."""
    config = an_object(file.get("inputConfig"), f"{where}inputConfig")
    source = an_object(config.get("gcsSource"), f"{where}inputConfig.gcsSource")
    checked = {
        "gcsSource": {"uri": a_text(source.get("uri"), f"{where}inputConfig.gcsSource.uri")},
        "mimeType": a_text(config.get("mimeType"), f"{where}inputConfig.mimeType"),
    }
    return {
        "inputConfig": checked,
        "totalPages": an_int32(file.get("totalPages"), f"{where}totalPages"),
    }


def _decode(decoder: msgspec.json.Decoder[Any], raw: msgspec.Raw, where: str) -> Any:
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise WrongType.from_msgspec(where, str(exc)) from None


def _json(raw: msgspec.Raw, where: str) -> Any:
    """A value as plain JSON, its keys in camelCase whichever naming it has."""
    return naming.camel_keys(_decode(_ANY, raw, where))


def _convert(value: Any, kind: Any, where: str) -> Any:
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        raise WrongType.from_msgspec(where, str(exc)) from None


def parse_shard(
    data: Data,
    shard: str,
    location: str,
    job_uris: Sequence[str] = (),
    fields: frozenset[str] = RESPONSE_FIELDS,
    unread: frozenset[str] = frozenset(),
) -> ParsedShard:
    """Parse one shard. ``shard`` is its name in tables, ``location`` its address,
    ``job_uris`` the input of each position from a job manifest, if there is one;
    only ``fields`` of each response are built (and ``context`` and ``error``);
    of ``unread`` fields, the JSON text is kept as it is (``ParsedShard.unread``).

    Raises :class:`ShardError` naming the shard when the bytes are not JSON or
    not a Vision response, when no response of the shard is recognised, or when a
    known field has the wrong JSON type. Unknown fields are counted, not built.
    """
    parsed = ParsedShard(shard, job_uris=job_uris)
    reader = _Reader(parsed, location, fields, unread)
    bare = False
    try:
        document = _batch(data)
        bare = _CONTAINER.isdisjoint(document)
        if bare:
            reader.response(document, "", location, None)
        else:
            reader.container(document, "")
    except WrongType as exc:
        raise ShardError(location, str(exc)) from None
    except msgspec.ValidationError:  # not a JSON object at all
        raise _not_vision(data, location) from None
    except msgspec.DecodeError as exc:
        raise ShardError(location, _not_json(bytes(data), exc)) from None
    except RecursionError:
        raise ShardError(location, "not a Vision response: JSON nested too deeply") from None
    if reader.unrecognised:
        if len(reader.unrecognised) == len(parsed.responses):
            raise _not_vision(data, location, None if bare else sorted(reader.foreign_keys))
        parsed.unrecognised = len(reader.unrecognised)
        foreign = set(reader.unrecognised)
        parsed.keep([i not in foreign for i in range(len(parsed.responses))])
    return parsed


def _batch(data: Data) -> dict[str, Any]:
    """The shard's top-level keys and values, in one pass when it is a usual batch."""
    try:
        batch = _BATCH.decode(data)
    except msgspec.ValidationError:
        return _DOCUMENT.decode(data)
    return {
        key: value
        for key in batch.__struct_fields__
        if (value := getattr(batch, key)) is not msgspec.UNSET
    }


def _not_json(data: bytes, exc: msgspec.DecodeError) -> str:
    """What is wrong with bytes that are not JSON: an empty file, or text that is
    not JSON at all, said as such; else the decoder's own reason."""
    if not data:
        return "not valid JSON: empty file (0 bytes)"
    if not data.strip():
        return f"not valid JSON: only whitespace ({len(data)} bytes)"
    start = data.lstrip()[:1]
    if start not in b'{["-0123456789tfn':
        shown = data.lstrip()[:40].decode("utf-8", "replace")
        return f"not JSON: it starts with {shown!r} (a Vision output file is one JSON object)"
    return f"not valid JSON ({exc})"


def _not_vision(data: Data, location: str, keys: list[str] | None = None) -> ShardError:
    """Say what was found instead of a Vision response: the keys of responses none
    of which is recognised, or what the document is."""
    if keys is not None:
        shown = ", ".join(keys[:10]) + (", ..." if len(keys) > 10 else "")
        return ShardError(
            location,
            f"not a Vision response: keys {shown} (none is a field of an "
            "AnnotateImageResponse, in camelCase or snake_case)",
        )
    document = msgspec.json.decode(data)
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
