"""From a shard's bytes to a :class:`~vision_results.batch.Batch`: fast, or exact.

1. A first pass of the exact decoder (:func:`~vision_results.parse.parse_shard`
   with no fields) reads what keys every response: its shape, naming, ``context``,
   ``error``, the unknown and unrecognised keys. It is the same for both paths,
   and it keeps the JSON text of the asked-for fields.
2. The fast path: for a plain batch of camelCase responses, ``pyarrow.json``
   decodes the annotations straight into Arrow, outside the GIL, skipping what no
   asked-for table reads (benchmarks/README.md). When those fields are under half
   of the shard's bytes (a few tables), it reads only their text, gathered from
   the first pass, so that it does not tokenize the rest (the OCR above all).
3. Anything that path refuses (enums as numbers, snake_case, a wrapped value, a
   value of the wrong JSON type, invalid UTF-8, nesting) is decoded by the exact
   decoder and converted (:mod:`vision_results.canonical`): the same Arrow
   columns, so the same rows; a bad shard then fails with the path of its value.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from vision_results.batch import Batch
from vision_results.canonical import to_arrow
from vision_results.checks import WrongType
from vision_results.errors import ShardError
from vision_results.messages import ENUMS
from vision_results.parse import Data, ParsedShard, Raw, parse_shard
from vision_results.tables import response_type

_MIN_BLOCK = 1 << 20


@dataclass
class Decoded:
    batch: Batch
    parsed: ParsedShard
    """The exact decoder's view: keys, counts of what was not read."""
    fast: bool
    """Whether the fast path read it (else the exact decoder did)."""


def decode_shard(
    data: Data,
    shard: str,
    location: str,
    *,
    fields: frozenset[str],
    job_uris: Sequence[str] = (),
    keep: Sequence[bool] | None = None,
    fast: bool = True,
) -> Decoded:
    """Decode one shard's responses with ``fields`` (see :func:`parse_shard` for
    the arguments); ``keep`` drops the responses a job's retry superseded;
    ``fast=False`` always takes the exact path (tests compare the two)."""
    read = frozenset(field.name for field in response_type(fields))
    scan = parse_shard(data, shard, location, job_uris, fields=frozenset(), unread=read)
    if keep is not None:
        scan.keep(keep)
    unread, scan.unread = scan.unread, []  # views of ``data``: not kept past this call
    if fast and scan.simple:
        gathered = _gather(unread, len(data))
        if gathered is not None:
            responses = _read_fast(gathered, fields, len(scan))
        else:
            responses = _read_fast_all(data, fields, scan)
        if responses is not None:
            return Decoded(Batch.of(scan, responses), scan, fast=True)
    parsed = parse_shard(data, shard, location, job_uris, fields=fields)
    if keep is not None:
        parsed.keep(keep)
    try:
        responses = to_arrow(parsed.responses, response_type(fields), parsed.paths)
    except WrongType as exc:
        raise ShardError(location, f"not a Vision response: {exc}") from None
    except (pa.ArrowInvalid, OverflowError) as exc:
        raise ShardError(location, f"not a Vision response: {exc}") from None
    return Decoded(Batch.of(parsed, responses), parsed, fast=False)


def _gather(unread: list[Raw], size: int) -> bytes | None:
    """A batch of the kept responses with only their asked-for fields, from their
    text in the shard; None if that text is half the shard's ``size`` or more
    (copying it then costs more than tokenizing the rest)."""
    if sum(len(raw) for response in unread for raw in response.values()) * 2 >= size:
        return None
    return b'{"responses":[%b]}' % b",".join(
        b"{%b}" % b",".join(b'"%b":%b' % (name.encode(), raw) for name, raw in response.items())
        for response in unread
    )


def _read_fast_all(data: Data, fields: frozenset[str], scan: ParsedShard) -> pa.StructArray | None:
    """The kept responses read from the whole shard."""
    responses = _read_fast(data, fields, scan.total)
    if responses is None or scan.indexes is None:
        return responses
    return responses.take(pa.array(scan.indexes, pa.int64()))


def _read_fast(data: Data, fields: frozenset[str], total: int) -> pa.StructArray | None:
    """The responses as ``pyarrow.json`` reads them, or None when it cannot be sure
    to read them as the exact decoder would. A shard with enums as numbers (a
    client's ``to_json``) is read again with numbers where the enums are."""
    options = pj.ReadOptions(block_size=max(_MIN_BLOCK, len(data) + 1), use_threads=False)
    kind = response_type(fields)
    for numbers in (False, True):
        try:
            table = pj.read_json(pa.BufferReader(data), read_options=options,
                                 parse_options=_parse_options(fields, numbers))  # fmt: skip
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            if not numbers and "changed from string to number" in str(exc):
                continue
            return None
        if table.num_rows != 1:  # more than one document
            return None
        responses = table.column("responses").combine_chunks().flatten()
        if len(responses) != total:
            return None
        try:
            responses.validate(full=True)  # pyarrow does not check UTF-8
            converted: pa.StructArray = _as(responses, pa.field("", kind))
        except (pa.ArrowInvalid, _NotFast):
            return None
        return converted
    return None


class _NotFast(Exception):
    """A value the fast path reads but cannot give as the exact decoder does."""


_ANY_LIST = pa.list_(pa.struct([("@type", pa.string())]))
"""``Status.details`` as read: a list of Any, of which only its being empty counts."""


@functools.cache
def _parse_options(fields: frozenset[str], numbers: bool) -> pj.ParseOptions:
    read = [_read_field(field, numbers) for field in response_type(fields)]
    schema = pa.schema([pa.field("responses", pa.list_(pa.struct(read)))])
    return pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")


def _read_field(field: pa.Field, numbers: bool) -> pa.Field:
    """How a field of messages.py is read: ``details`` as a list, and with
    ``numbers`` every enum as its number."""
    meta = field.metadata or {}
    kind = field.type
    if b"json" in meta:
        kind = _ANY_LIST
    elif numbers and b"enum" in meta:
        kind = pa.int32()
    elif pa.types.is_struct(kind):
        kind = pa.struct([_read_field(child, numbers) for child in kind])
    elif pa.types.is_list(kind):
        kind = pa.list_(_read_field(kind.value_field, numbers))
    return pa.field(field.name, kind, metadata=field.metadata)


def _as(values: pa.Array, field: pa.Field) -> pa.Array:
    """Values as read, as the type of ``field`` (the exact decoder's)."""
    if values.type == field.type:
        return values
    meta = field.metadata or {}
    kind = field.type
    if b"json" in meta:
        if pc.any(pc.greater(pc.list_value_length(values), 0)).as_py():
            raise _NotFast  # its JSON text is the exact decoder's to write
        return pa.nulls(len(values), kind)
    if b"enum" in meta:
        names = pa.array(ENUMS[meta[b"enum"].decode()])
        known = pc.and_(pc.greater_equal(values, 0), pc.less(values, len(names)))
        named = names.take(pc.if_else(known, values, 0))
        return pc.if_else(known, named, pc.cast(values, pa.string()))
    if pa.types.is_struct(kind):
        children = [_as(child, field) for child, field in zip(values.flatten(), kind, strict=True)]
        return pa.StructArray.from_arrays(children, fields=list(kind), mask=values.is_null())
    if pa.types.is_list(kind):
        items = _as(values.values, kind.value_field)
        return pa.ListArray.from_arrays(values.offsets, items, type=kind, mask=values.is_null())
    raise TypeError(f"no conversion from {values.type} to {kind}")  # messages.py has none
