"""The two namings of Vision's JSON: the service's camelCase and proto field names.

The service, ``to_json`` and protobuf's ``MessageToJson``/``MessageToDict`` write
lowerCamelCase keys (``labelAnnotations``); proto-plus ``to_dict`` and
``MessageToDict(..., preserving_proto_field_name=True)`` write the proto field
names (``label_annotations``). The parser decides once per response which
naming it has (:func:`is_snake`) and, for the snake_case form only, renames every
key of that response to camelCase (:func:`camel_keys`) before the flatteners,
which read camelCase, see it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

RESPONSE_FIELDS = frozenset(
    {
        "faceAnnotations",
        "landmarkAnnotations",
        "logoAnnotations",
        "labelAnnotations",
        "localizedObjectAnnotations",
        "textAnnotations",
        "fullTextAnnotation",
        "safeSearchAnnotation",
        "imagePropertiesAnnotation",
        "cropHintsAnnotation",
        "webDetection",
        "productSearchResults",
        "context",
        "error",
    }
)
"""The fields of an AnnotateImageResponse (v1), as the service names them."""
FILE_FIELDS = frozenset({"inputConfig", "responses", "totalPages", "error"})
"""The fields of an AnnotateFileResponse; a BatchAnnotate*Response has ``responses``."""

_UPPER = re.compile(r"[A-Z]")
_UNDERSCORE = re.compile(r"_(.?)")


def snake(name: str) -> str:
    """The proto field name of a JSON name: ``fdBoundingPoly`` -> ``fd_bounding_poly``."""
    return _UPPER.sub(lambda m: "_" + m[0].lower(), name)


@functools.cache
def camel(name: str) -> str:
    """The JSON name of a proto field name, as protobuf derives it (an underscore
    goes, the letter after it is capitalised: proto-plus's ``type_`` is ``type``);
    a camelCase name is returned unchanged (Vision's JSON names have no underscores)."""
    return _UNDERSCORE.sub(lambda m: m[1].upper(), name)


def _by_either_name(fields: frozenset[str]) -> dict[str, str]:
    return {**{name: name for name in fields}, **{snake(name): name for name in fields}}


RESPONSE_KEYS = _by_either_name(RESPONSE_FIELDS)
"""A response's key in either naming -> its camelCase name."""
FILE_KEYS = _by_either_name(FILE_FIELDS)
"""A file response's key in either naming -> its camelCase name."""
SNAKE_ONLY = frozenset(snake(name) for name in RESPONSE_FIELDS | FILE_FIELDS) - (
    RESPONSE_FIELDS | FILE_FIELDS
)
"""Keys that only the proto-field-name form has (``context`` and ``error`` are
the same in both)."""


def is_snake(keys: Any) -> bool:
    """Whether a response (or file response) with these keys uses proto field names."""
    return not SNAKE_ONLY.isdisjoint(keys)


def camel_keys(value: Any) -> Any:
    """``value`` with every object key, at every depth, in camelCase."""
    if isinstance(value, dict):
        return {camel(key): camel_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    return value
