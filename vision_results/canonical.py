"""The exact decoder's responses (plain dicts) as the Arrow types of
:mod:`vision_results.messages`, the same columns the fast path reads.

The exact decoder takes every form (snake_case keys, enums as numbers, defaults
present, any nesting); what differs from the service's JSON is mended here, led
by the Arrow type: an enum given as a number becomes its name, a wrapped
``{"value": x}`` its value, an int64 given as a number its text, ``details`` its
JSON text. Every leaf's JSON type is checked, so a value of the wrong type is a
:class:`~vision_results.checks.WrongType` naming its path in the shard, never a
silent coercion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import pyarrow as pa

from vision_results.checks import WrongType
from vision_results.messages import ENUMS


def to_arrow(
    responses: Sequence[dict[str, Any]], kind: pa.StructType, paths: Sequence[str]
) -> pa.StructArray:
    """``responses`` (``paths`` gives each one's place in the shard, e.g.
    ``responses[3]``, for messages) as one struct per response of type ``kind``."""
    rows = [_struct(response, kind, path) for response, path in zip(responses, paths, strict=True)]
    array: pa.StructArray = pa.array(rows, type=kind)
    return array


def _struct(value: Any, kind: pa.StructType, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise WrongType.of(where, value, "object")
    out = {}
    for field in kind:
        item = value.get(field.name)
        if item is not None:
            out[field.name] = _value(item, field, f"{where}.{field.name}")
    return out


def _value(value: Any, field: pa.Field, where: str) -> Any:
    kind = field.type
    if pa.types.is_struct(kind):
        return _struct(value, kind, where)
    if pa.types.is_list(kind):
        if not isinstance(value, list):
            raise WrongType.of(where, value, "array")
        item = kind.value_field
        return [_value(v, item, f"{where}[{i}]") if v is not None else None
                for i, v in enumerate(value)]  # fmt: skip
    return _leaf(value, field, where)


def _leaf(value: Any, field: pa.Field, where: str) -> Any:
    meta = field.metadata or {}
    kind = field.type
    if pa.types.is_string(kind):
        if b"enum" in meta and isinstance(value, int) and not isinstance(value, bool):
            names = ENUMS[meta[b"enum"].decode()]
            return names[value] if 0 <= value < len(names) else str(value)
        if b"json" in meta:  # text as it is, as the fast path reads it; else its JSON
            return (
                value if isinstance(value, str) else orjson.dumps(value).decode() if value else None
            )
        if isinstance(value, str):
            return value
        if b"int64" in meta and isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # an int64 written as a number, which proto3 JSON allows
        raise WrongType.of(where, value, "string")
    if pa.types.is_floating(kind):
        if b"wrapper" in meta and isinstance(value, dict):
            value = value.get("value", 0.0)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise WrongType.of(where, value, "number")
    if pa.types.is_integer(kind):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise WrongType.of(where, value, "integer")
    if pa.types.is_boolean(kind):
        return bool(value)
    raise TypeError(f"{where}: no conversion for {kind}")  # a type messages.py does not use
