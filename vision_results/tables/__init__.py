"""Every table: its explicit Arrow schema and the pure function that fills it.

A flattener takes one :class:`~vision_results.batch.Batch` (a shard's responses
in Arrow) and returns Arrow tables by name; :func:`flatten_shard` runs those
that are asked for. Each module of this package declares its own tables
(:class:`~vision_results.tables._registry.Declaration`); they are found here,
so a new table is a new module and nothing more (and its docs).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import pyarrow as pa

from vision_results.batch import Batch
from vision_results.canonical import to_arrow
from vision_results.checks import WrongType
from vision_results.errors import ShardError
from vision_results.parse import ParsedShard
from vision_results.tables._registry import Registry, discover

REGISTRY = Registry.of(discover(__name__, __path__))
SCHEMAS: dict[str, pa.Schema] = REGISTRY.schemas
TABLE_NAMES = REGISTRY.table_names


def response_type(fields: Iterable[str]) -> pa.StructType:
    """The AnnotateImageResponse with only ``fields`` (and always ``error``), as the
    tables reading them declare it: what a shard is decoded into."""
    return REGISTRY.response_type(fields)


@functools.cache
def fields_for(tables: frozenset[str]) -> frozenset[str]:
    """The response fields the flatteners of ``tables`` read: the parser builds only
    those (``context`` and ``error`` always)."""
    return REGISTRY.fields_for(tables)


def flatten_shard(shard: Batch | ParsedShard, tables: Iterable[str]) -> dict[str, pa.Table]:
    """The asked-for tables of one shard, by name: a :class:`Batch`, or a
    :class:`ParsedShard` of :func:`~vision_results.parse.parse_shard` (converted
    once; the export decodes straight to a Batch, :mod:`vision_results.decode`)."""
    wanted = set(tables)
    batch = shard if isinstance(shard, Batch) else _batch(shard, fields_for(frozenset(wanted)))
    return REGISTRY.flatten(batch, wanted)


def _batch(parsed: ParsedShard, fields: frozenset[str]) -> Batch:
    paths = parsed.paths or [f"responses[{i}]" for i in range(len(parsed.responses))]
    try:
        responses = to_arrow(parsed.responses, response_type(fields), paths)
    except WrongType as exc:
        raise ShardError(parsed.shard, f"not a Vision response: {exc}") from None
    return Batch.of(parsed, responses)
