"""Every table: its explicit Arrow schema and the pure function that fills it.

A flattener takes one :class:`~vision_results.parse.ParsedShard` and returns
Arrow tables by name; :func:`flatten_shard` runs those that are asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pyarrow as pa

from vision_results.parse import ParsedShard
from vision_results.tables import errors, images, labels, ocr, text_annotations

Flattener = Callable[[ParsedShard], dict[str, pa.Table]]

SCHEMAS: dict[str, pa.Schema] = {
    "images": images.SCHEMA,
    "labels": labels.SCHEMA,
    "text_annotations": text_annotations.SCHEMA,
    **ocr.SCHEMAS,
    "errors": errors.SCHEMA,
}
TABLE_NAMES = tuple(SCHEMAS)

FLATTENERS: list[tuple[frozenset[str], Flattener]] = [
    (frozenset({"images"}), images.flatten),
    (frozenset({"labels"}), labels.flatten),
    (frozenset({"text_annotations"}), text_annotations.flatten),
    (frozenset(ocr.SCHEMAS), ocr.flatten),
    (frozenset({"errors"}), errors.flatten),
]


def flatten_shard(parsed: ParsedShard, tables: Iterable[str]) -> dict[str, pa.Table]:
    """The asked-for tables of one parsed shard, by name."""
    wanted = set(tables)
    out: dict[str, pa.Table] = {}
    for names, flattener in FLATTENERS:
        if names & wanted:
            out.update((k, v) for k, v in flattener(parsed).items() if k in wanted)
    return out
