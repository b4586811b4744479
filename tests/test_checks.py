"""The one way both decoders say a value has the wrong JSON type."""

from __future__ import annotations

import msgspec
import pytest

from vision_results.checks import WrongType, a_text, an_int32, an_object, json_type


@pytest.mark.parametrize(
    ("value", "name"),
    [(True, "bool"), ({}, "object"), ([], "array"), ("", "str"), (1, "int"), (1.5, "float")],
)
def test_json_types_are_named_as_msgspec_names_them(value: object, name: str) -> None:
    assert json_type(value) == name


def test_each_check_names_the_path_and_what_it_found() -> None:
    assert an_object(None, "x") == {} and an_object({"a": 1}, "x") == {"a": 1}
    wanted = r"^responses\[0\]\.context is array, expected a JSON object$"
    with pytest.raises(WrongType, match=wanted):
        an_object([], ".responses[0].context")
    with pytest.raises(WrongType, match=r"^context\.uri is int, expected a JSON str$"):
        a_text(3, "context.uri")
    assert an_int32(3.0, "p") == 3 and an_int32(None, "p") is None
    with pytest.raises(WrongType, match=r"^context\.pageNumber is bool, expected a JSON int$"):
        an_int32(True, "context.pageNumber")
    with pytest.raises(WrongType, match=r"^totalPages: 2147483648 is out of range for an int32$"):
        an_int32(2**31, "totalPages")


def test_msgspec_messages_become_paths_in_the_shard() -> None:
    try:
        msgspec.json.decode(b'[1, "x"]', type=list[int])
    except msgspec.ValidationError as exc:
        problem = str(exc)
    assert str(WrongType.from_msgspec("responses[2].fullTextAnnotation.pages", problem)) == (
        "responses[2].fullTextAnnotation.pages[1] is str, expected a JSON int"
    )
    assert str(WrongType.from_msgspec("x", "something else")) == "x: something else"
