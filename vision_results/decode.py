"""From a shard's bytes to a :class:`~vision_results.batch.Batch`: fast, or exact.

1. A first pass of the exact decoder (:func:`~vision_results.parse.parse_shard`
   with no fields) reads what keys every response: its shape, naming, ``context``,
   ``error``, the unknown and unrecognised keys. It is the same for both paths.
2. The fast path: for a plain batch of camelCase responses, ``pyarrow.json``
   decodes the annotations straight into Arrow, outside the GIL, skipping what no
   asked-for table reads (benchmarks/README.md).
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
import pyarrow.json as pj

from vision_results.batch import Batch
from vision_results.canonical import WrongType, to_arrow
from vision_results.errors import ShardError
from vision_results.messages import response_type, shard_schema
from vision_results.parse import ParsedShard, parse_shard

_MIN_BLOCK = 1 << 20


@dataclass
class Decoded:
    batch: Batch
    parsed: ParsedShard
    """The exact decoder's view: keys, counts of what was not read."""
    fast: bool
    """Whether the fast path read it (else the exact decoder did)."""


def decode_shard(
    data: bytes,
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
    scan = parse_shard(data, shard, location, job_uris, fields=frozenset())
    if keep is not None:
        scan.keep(keep)
    if fast and scan.simple:
        responses = _read_fast(data, fields, scan.total)
        if responses is not None:
            if scan.indexes is not None:
                responses = responses.take(pa.array(scan.indexes, pa.int64()))
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


def _read_fast(data: bytes, fields: frozenset[str], total: int) -> pa.StructArray | None:
    """The responses as ``pyarrow.json`` reads them, or None when it cannot be sure
    to read them as the exact decoder would."""
    options = pj.ReadOptions(block_size=max(_MIN_BLOCK, len(data) + 1), use_threads=False)
    try:
        table = pj.read_json(pa.BufferReader(data), read_options=options,
                             parse_options=_parse_options(fields))  # fmt: skip
        if table.num_rows != 1:  # more than one document
            return None
        lists = table.column("responses").combine_chunks()
        responses = lists.flatten()
        if len(responses) != total:
            return None
        responses.validate(full=True)  # pyarrow does not check UTF-8
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return responses


@functools.cache
def _parse_options(fields: frozenset[str]) -> pj.ParseOptions:
    return pj.ParseOptions(explicit_schema=shard_schema(fields), unexpected_field_behavior="ignore")
