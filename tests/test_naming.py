"""The two namings, checked against the message descriptors of the real client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from google.cloud import vision

from vision_results.naming import (
    FILE_FIELDS,
    RESPONSE_FIELDS,
    SNAKE_ONLY,
    camel,
    camel_keys,
    is_snake,
)


def fields(descriptor: Any, seen: set[str] | None = None) -> Iterator[Any]:
    """Every field of a message and of the messages it holds, once each."""
    seen = set() if seen is None else seen
    for field in descriptor.fields:
        yield field
        message = field.message_type
        if message is not None and message.full_name not in seen:
            seen.add(message.full_name)
            yield from fields(message, seen)


def test_the_response_fields_are_the_clients() -> None:
    response = vision.AnnotateImageResponse.pb().DESCRIPTOR
    assert {f.json_name for f in response.fields} == RESPONSE_FIELDS
    file = vision.AnnotateFileResponse.pb().DESCRIPTOR
    assert {f.json_name for f in file.fields} == FILE_FIELDS


def test_every_proto_field_name_becomes_its_json_name() -> None:
    """Down to the leaves, with proto-plus's ``type_`` for ``type``."""
    every = list(fields(vision.AnnotateFileResponse.pb().DESCRIPTOR))
    assert len(every) > 100
    assert {f.name: camel(f.name) for f in every} == {f.name: f.json_name for f in every}
    assert {camel(f.json_name) for f in every} == {f.json_name for f in every}


def test_the_naming_is_told_by_the_keys() -> None:
    assert is_snake({"label_annotations", "context"})
    assert not is_snake({"labelAnnotations", "context"})
    assert not is_snake({"context", "error"})  # the same in both namings
    assert "context" not in SNAKE_ONLY and "total_pages" in SNAKE_ONLY


def test_camel_keys_renames_every_depth_and_leaves_values_alone() -> None:
    snake = {"face_annotations": [{"fd_bounding_poly": {"vertices": [{"x": 1}]}}],
             "context": {"page_number": 2, "uri": "gs://b/under_score.pdf"}}  # fmt: skip
    assert camel_keys(snake) == {
        "faceAnnotations": [{"fdBoundingPoly": {"vertices": [{"x": 1}]}}],
        "context": {"pageNumber": 2, "uri": "gs://b/under_score.pdf"},
    }
