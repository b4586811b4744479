"""Property tests: arbitrary Vision-shaped shards, with fields missing, extra and of
the wrong type, either flatten to as many rows as the JSON holds or raise the
documented :class:`ShardError`; nothing else escapes. A response with only keys
Vision does not have is no response: it is counted as unrecognised instead."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vision_results as vr
from vision_results.naming import RESPONSE_FIELDS
from vision_results.source import Shard
from vision_results.stream import parse_and_flatten

SHARD = Shard("output-1-to-5.json", "/data/output-1-to-5.json", 0, None)

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
extra = st.dictionaries(st.sampled_from(["futureField", "@type", "kind"]), json_value, max_size=2)


def message(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """An object with any subset of ``fields`` (proto3 omits defaults) and extra keys."""
    return st.fixed_dictionaries({}, optional=fields).flatmap(
        lambda d: extra.map(lambda e: {**e, **d})
    )


def shards(loose: bool) -> st.SearchStrategy[Any]:
    """Vision-shaped shards; ``loose``: leaves are now and then any JSON value, and
    the shard itself may be any JSON value."""

    def leaf(kind: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(kind, kind, kind, json_value) if loose else kind

    score, text = leaf(st.floats(0, 1)), leaf(st.text(max_size=6))
    pixel = leaf(st.integers(0, 5000))
    poly = message(
        {
            "vertices": st.lists(message({"x": pixel, "y": pixel}), max_size=4),
            "normalizedVertices": st.lists(message({"x": score, "y": score}), max_size=4),
        }
    )
    brk = message(
        {
            "type": st.one_of(
                st.integers(0, 5), st.sampled_from(["SPACE", "LINE_BREAK", "HYPHEN"])
            ),
            "isPrefix": st.booleans(),
        }
    )
    language = message({"languageCode": text, "confidence": score})
    prop = message({"detectedLanguages": st.lists(language, max_size=2), "detectedBreak": brk})
    boxed = {"boundingBox": poly, "confidence": score, "property": prop}
    symbol = message({"text": text, **boxed})
    word = message({"symbols": st.lists(symbol, max_size=3), **boxed})
    paragraph = message({"words": st.lists(word, max_size=4), **boxed})
    block = message(
        {"paragraphs": st.lists(paragraph, max_size=2), "blockType": st.integers(0, 5), **boxed}
    )
    page = message(
        {"blocks": st.lists(block, max_size=2), "width": pixel, "height": pixel, "property": prop}
    )
    entity = message(
        {
            "mid": text,
            "description": text,
            "score": score,
            "topicality": score,
            "locale": text,
            "boundingPoly": poly,
        }
    )
    likelihood = st.one_of(st.integers(0, 5), st.sampled_from(["VERY_LIKELY", "POSSIBLE"]))
    position = message({"x": score, "y": score, "z": score})
    landmark = message({"type": st.integers(0, 30), "position": position})
    face = message(
        {
            "boundingPoly": poly,
            "fdBoundingPoly": poly,
            "joyLikelihood": likelihood,
            "detectionConfidence": score,
            "landmarks": st.lists(landmark, max_size=3),
        }
    )
    obj = message({"mid": text, "name": text, "score": score, "boundingPoly": poly})
    response = message(
        {
            "labelAnnotations": st.lists(entity, max_size=3),
            "textAnnotations": st.lists(entity, max_size=3),
            "logoAnnotations": st.lists(entity, max_size=2),
            "landmarkAnnotations": st.lists(entity, max_size=2),
            "faceAnnotations": st.lists(face, max_size=2),
            "localizedObjectAnnotations": st.lists(obj, max_size=2),
            "fullTextAnnotation": message({"pages": st.lists(page, max_size=2), "text": text}),
            "context": message({"uri": text, "pageNumber": st.integers(0, 9)}),
            "error": message({"code": leaf(st.integers(0, 16)), "message": text}),
        }
    )
    shard = st.lists(response, max_size=4).map(lambda r: {"responses": r})
    # A bare response, or any JSON at all, may be refused: an object without a
    # Vision field is not taken for an empty response.
    return st.one_of(shard, response, json_value) if loose else shard


KEYS = ("code", "message")


def is_vision(response: dict[str, Any]) -> bool:
    """Empty (nothing found) or with a Vision field: else not read, but counted."""
    return not response or not RESPONSE_FIELDS.isdisjoint(response)


def unrecognised(document: Any) -> int:
    return sum(not is_vision(r) for r in document.get("responses", [document]))


def expected_rows(document: Any) -> dict[str, int]:
    responses = [r for r in document.get("responses", [document]) if is_vision(r)]

    def count(key: str) -> int:
        return sum(len(r.get(key) or ()) for r in responses)

    pages = [p for r in responses for p in (r.get("fullTextAnnotation") or {}).get("pages") or ()]
    blocks = [b for p in pages for b in p.get("blocks") or ()]
    paragraphs = [q for b in blocks for q in b.get("paragraphs") or ()]
    return {
        "images": len(responses),
        "labels": count("labelAnnotations"),
        "text_annotations": count("textAnnotations"),
        "logos": count("logoAnnotations"),
        "faces": count("faceAnnotations"),
        "objects": count("localizedObjectAnnotations"),
        "ocr_pages": len(pages),
        "ocr_blocks": len(blocks),
        "ocr_paragraphs": len(paragraphs),
        "ocr_words": sum(len(q.get("words") or ()) for q in paragraphs),
        # An all-default google.rpc.Status is no error (docs/tables.md).
        "errors": sum(1 for r in responses if any(map((r.get("error") or {}).get, KEYS))),
    }


def flattened_rows(document: Any) -> dict[str, int]:
    chunk = parse_and_flatten(orjson.dumps(document), SHARD, vr.TABLE_NAMES)
    rows = {name: table.num_rows for name, table in chunk.tables.items()}
    (result,) = chunk.results
    assert result.responses == rows["images"]
    assert result.unrecognised == unrecognised(document)
    return rows


def assert_rows_match(document: Any, rows: dict[str, int]) -> None:
    for name, count in expected_rows(document).items():
        assert rows[name] == count, name


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shards(loose=True))
def test_any_vision_shaped_shard_flattens_or_raises_shard_error(document: Any) -> None:
    try:
        rows = flattened_rows(document)
    except vr.ShardError as exc:
        assert exc.shard == SHARD.location
        return
    assert_rows_match(document, rows)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shards(loose=False))
def test_well_typed_shards_always_flatten_to_what_the_json_holds(document: Any) -> None:
    responses = document["responses"]
    if responses and unrecognised(document) == len(responses):
        with pytest.raises(vr.ShardError, match="not a Vision response: keys"):
            flattened_rows(document)
        return
    assert_rows_match(document, flattened_rows(document))
