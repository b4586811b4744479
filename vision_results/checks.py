"""A JSON value of the wrong type, refused with its path in the shard.

Both decoders (:mod:`vision_results.parse`, :mod:`vision_results.canonical`) check
the values they read and raise :class:`WrongType`, never coercing one silently;
the caller turns it into a :class:`~vision_results.errors.ShardError` naming the
shard.
"""

from __future__ import annotations

import re
from typing import Any

# How msgspec says it: where is relative to the value decoded, e.g. ".pages" or
# "[1]", or missing for the value itself.
_MSGSPEC = re.compile(r"Expected `(.+)`, got `(.+?)`(?: - at `\$(.*)`)?")


class WrongType(ValueError):
    """A known field's value of another JSON type (or out of its range), with its path."""

    @classmethod
    def of(cls, where: str, value: Any, expected: str) -> WrongType:
        return cls(f"{where} is {json_type(value)}, expected a JSON {expected}")

    @classmethod
    def from_msgspec(cls, where: str, problem: str) -> WrongType:
        """From msgspec's message (``Expected `str`, got `int` - at `$[0]```) about the
        value at ``where``."""
        match = _MSGSPEC.fullmatch(problem)
        if match is None:
            return cls(f"{where}: {problem}")
        expected, got, rest = match.groups()
        path = f"{where}{rest or ''}".lstrip(".")
        return cls(f"{path} is {got}, expected a JSON {expected.removesuffix(' | null')}")


def json_type(value: Any) -> str:
    """The JSON type of a decoded value, as msgspec names it."""
    if isinstance(value, bool):
        return "bool"
    names = {dict: "object", list: "array", str: "str", int: "int", float: "float"}
    return names.get(type(value), type(value).__name__)


def an_object(value: Any, where: str) -> dict[str, Any]:
    """``value`` if it is an object, {} if absent."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WrongType.of(where.lstrip("."), value, "object")
    return value


def a_text(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise WrongType.of(where.lstrip("."), value, "str")
    return value


def an_int32(value: Any, where: str) -> int | None:
    """An integer, also written as an integral number (``3.0``), within int32."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise WrongType.of(where.lstrip("."), value, "int")
    if value is not None and not -(2**31) <= value < 2**31:
        raise WrongType(f"{where}: {value} is out of range for an int32")
    return value
