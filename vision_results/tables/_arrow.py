"""What the Arrow flatteners share: exploding lists, the normalisation rules, boxes.

The rules are those of docs/tables.md ("Normalisation rules"), whatever form the
JSON had (both decoders give the same Arrow columns):

- a missing number is 0 (proto3), a missing or empty string is null;
- an enum is its name, a missing enum its value 0;
- an empty list is the same as a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vision_results.messages import ENUMS

LIKELIHOODS = ENUMS["Likelihood"]
LANGUAGES = pa.list_(pa.struct([("language_code", pa.string()), ("confidence", pa.float64())]))
PROPERTIES = pa.list_(
    pa.struct([("name", pa.string()), ("value", pa.string()), ("uint64_value", pa.uint64())])
)
_NO_STRING = pa.scalar(None, pa.string())


@dataclass
class Level:
    """The items of a list column, in order, with where each came from."""

    values: pa.Array
    parents: np.ndarray
    """Per item: the index of the row whose list holds it."""
    positions: np.ndarray
    """Per item: its 0-based position in that list."""
    offsets: np.ndarray
    """Per row: where its items start in ``values`` (one more entry at the end)."""

    def __len__(self) -> int:
        return len(self.values)

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def explode(lists: pa.Array) -> Level:
    """The items of every list (a null list has none)."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    parents = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    positions = np.arange(offsets[-1], dtype=np.int64) - offsets[parents]
    return Level(pc.list_flatten(lists), parents, positions.astype(np.int32), offsets)


def field(values: pa.Array, *path: str) -> pa.Array:
    """A field of a struct array, or of a struct inside it (null where any is null)."""
    for name in path:
        values = pc.struct_field(values, name)
    return values


def text(values: pa.Array) -> pa.Array:
    """Strings, with empty ones null."""
    return pc.if_else(pc.equal(values, ""), _NO_STRING, values)


def number(values: pa.Array, default: float = 0.0) -> pa.Array:
    """Numbers, with missing ones ``default`` (proto3's 0)."""
    return pc.fill_null(values, default)


def enum_names(values: pa.Array, table: str) -> pa.Array:
    """An enum's names, a missing one being value 0's name."""
    return pc.fill_null(values, ENUMS[table][0])


def likelihood(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """A Likelihood as its name and its level 0-5 (null for a name this version lacks)."""
    names = enum_names(values, "Likelihood")
    levels = pc.cast(pc.index_in(names, pa.array(LIKELIHOODS)), pa.int8())
    return names, levels


def non_empty(lists: pa.Array) -> pa.ListArray:
    """Lists, with empty ones null (the items are not copied)."""
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    empty = pc.fill_null(pc.equal(pc.list_value_length(lists), 0), True)
    return pa.ListArray.from_arrays(lists.offsets, lists.values, type=lists.type, mask=empty)


def rename_struct_list(
    lists: pa.Array, names: list[str], fills: dict[str, object], kind: pa.ListType
) -> pa.Array:
    """Lists of structs, with their fields renamed to ``names`` (in order), missing
    values filled from ``fills`` (by the new name) and empty lists null."""
    lists = non_empty(lists)
    if not isinstance(lists, pa.ListArray):
        lists = pa.array(lists.to_pylist(), lists.type)
    items = lists.values
    children = []
    for name, source in zip(names, items.type, strict=True):
        child = pc.struct_field(items, source.name)
        if name in fills:
            child = pc.fill_null(child, fills[name])
        children.append(pc.cast(child, kind.value_type.field(name).type))
    struct = pa.StructArray.from_arrays(children, names=names)
    return pa.ListArray.from_arrays(lists.offsets, struct, type=kind, mask=lists.is_null())


def languages(prop: pa.Array) -> pa.Array:
    """``property.detectedLanguages`` as ``languages`` (null when there are none)."""
    lists = field(prop, "detectedLanguages")
    return rename_struct_list(
        lists, ["language_code", "confidence"], {"confidence": 0.0}, LANGUAGES
    )


def top_language(prop: pa.Array) -> pa.Array:
    """The most confident of each element's detected languages (the first on ties),
    null when there are none."""
    level = explode(field(prop, "detectedLanguages"))
    out = np.full(len(prop), None, dtype=object)
    if len(level):
        confidence = number(field(level.values, "confidence")).to_numpy(zero_copy_only=False)
        order = np.lexsort((level.positions, -confidence, level.parents))
        first = order[np.r_[True, np.diff(level.parents[order]) != 0]]
        codes = text(field(level.values, "languageCode")).take(pa.array(first))
        out[level.parents[first]] = codes.to_numpy(zero_copy_only=False)
    return pa.array(out, pa.string())


def properties(entities: pa.Array) -> pa.Array:
    """An EntityAnnotation's ``properties`` (uint64 values arrive as text)."""
    lists = non_empty(field(entities, "properties"))
    if not isinstance(lists, pa.ListArray):
        lists = pa.array(lists.to_pylist(), lists.type)
    items = lists.values
    uint64 = pc.if_else(pc.equal(pc.struct_field(items, "uint64Value"), ""), None,
                        pc.struct_field(items, "uint64Value"))  # fmt: skip
    children = [
        text(pc.struct_field(items, "name")),
        text(pc.struct_field(items, "value")),
        pc.fill_null(pc.cast(uint64, pa.uint64()), 0),
    ]
    struct = pa.StructArray.from_arrays(children, names=["name", "value", "uint64_value"])
    return pa.ListArray.from_arrays(lists.offsets, struct, type=PROPERTIES, mask=lists.is_null())
