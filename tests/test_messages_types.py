"""Every field of the Arrow types of ``vision_results.messages`` is a field of the
real client's messages (``google-cloud-vision``'s descriptors), of the same kind.

Only names and kinds are checked: the types leave out what no table reads.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from google.cloud import vision_v1
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from vision_results.messages import ENUMS, PAGE_SIZES, RESPONSE

KINDS = {
    FieldDescriptor.TYPE_STRING: pa.string(),
    FieldDescriptor.TYPE_DOUBLE: pa.float64(),
    FieldDescriptor.TYPE_FLOAT: pa.float64(),
    FieldDescriptor.TYPE_INT32: pa.int32(),
    FieldDescriptor.TYPE_BOOL: pa.bool_(),
}
"""Each scalar proto type as its Arrow type here (floats are read as float64)."""
AS_TEXT = {"google.protobuf.Timestamp"}
"""Messages that proto3 JSON writes as a string."""
RESPONSE_MESSAGE = vision_v1.AnnotateImageResponse.pb().DESCRIPTOR


def _message_type(field: FieldDescriptor) -> str:
    return field.message_type.full_name if field.message_type else ""


def _check(field: pa.Field, proto: FieldDescriptor, where: str, item: bool = False) -> None:
    """``field`` is ``proto`` (``item``: is one item of the repeated ``proto``)."""
    meta = field.metadata or {}
    kind = field.type
    if b"json" in meta:  # repeated google.protobuf.Any, as JSON text
        assert proto.is_repeated and _message_type(proto) == "google.protobuf.Any", where
        assert kind == pa.string(), where
        return
    if pa.types.is_list(kind):
        assert proto.is_repeated, f"{where} is a list, but not repeated"
        _check(kind.value_field, proto, f"{where}[]", item=True)
        return
    assert item or not proto.is_repeated, f"{where} is repeated, but not a list"
    if b"enum" in meta:
        assert proto.type == FieldDescriptor.TYPE_ENUM, where
        names = {value.number: value.name for value in proto.enum_type.values}
        assert names == dict(enumerate(ENUMS[meta[b"enum"].decode()])), where
    elif b"wrapper" in meta:
        assert _message_type(proto) == "google.protobuf.FloatValue", where
        assert kind == pa.float64(), where
    elif b"int64" in meta:
        assert proto.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64), where
        assert kind == pa.string(), where
    elif pa.types.is_struct(kind):
        assert proto.type == FieldDescriptor.TYPE_MESSAGE, f"{where} is a struct, not a message"
        _check_struct(kind, proto.message_type, where)
    elif _message_type(proto) in AS_TEXT:
        assert kind == pa.string(), where
    else:
        assert KINDS.get(proto.type) == kind, f"{where}: {kind} for proto type {proto.type}"


def _check_struct(kind: pa.StructType, message: Descriptor, where: str) -> None:
    fields = {field.json_name: field for field in message.fields}
    for child in kind:
        assert child.name in fields, f"{message.full_name} has no field {child.name!r} ({where})"
        _check(child, fields[child.name], f"{where}.{child.name}")


@pytest.mark.parametrize("name", list(RESPONSE))
def test_each_response_field_is_the_clients(name: str) -> None:
    fields = {field.json_name: field for field in RESPONSE_MESSAGE.fields}
    _check(pa.field(name, RESPONSE[name]), fields[name], name)


def test_the_page_sizes_are_the_clients() -> None:
    text = vision_v1.TextAnnotation.pb().DESCRIPTOR
    _check_struct(PAGE_SIZES, text, "fullTextAnnotation")
