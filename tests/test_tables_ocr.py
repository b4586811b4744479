"""OCR tables: lines rebuilt from breaks, text with the right separators, boxes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from vision_results.messages import BOUNDING_POLY
from vision_results.parse import ParsedShard
from vision_results.tables import flatten_shard, ocr
from vision_results.tables._boxes import boxes


def box_columns(
    vertices: list[Any], normalized: list[Any], width: list[Any], height: list[Any]
) -> dict[str, pa.Array]:
    """The box columns of BoundingPolys given as their two vertex lists."""
    polys = [
        {"vertices": v, "normalizedVertices": n} for v, n in zip(vertices, normalized, strict=True)
    ]
    sizes = [np.array(size, dtype=np.float64) for size in (width, height)]
    return boxes(pa.array(polys, BOUNDING_POLY), *sizes)


def symbol(text: str, brk: str | int | None = None, prefix: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {"text": text}
    if brk is not None:
        item["property"] = {
            "detectedBreak": {"type": brk, **({"isPrefix": True} if prefix else {})}
        }
    return item


def word(text: str, brk: str | int | None = None, lang: str | None = None) -> dict[str, Any]:
    symbols = [symbol(c) for c in text[:-1]] + [symbol(text[-1], brk)]
    item: dict[str, Any] = {"symbols": symbols, "confidence": 0.5}
    if lang:
        item["property"] = {"detectedLanguages": [{"languageCode": lang, "confidence": 1}]}
    return item


def shard_of(*paragraphs: list[dict[str, Any]]) -> ParsedShard:
    page = {
        "width": 100,
        "height": 50,
        "blocks": [{"paragraphs": [{"words": words} for words in paragraphs]}],
    }
    response = {"fullTextAnnotation": {"pages": [page]}}
    return ParsedShard("s.json", ["gs://b/i.jpg"], [None], [response])


def rows(shard: ParsedShard, table: str) -> list[dict[str, Any]]:
    result: pa.Table = flatten_shard(shard, [table])[table]
    return result.to_pylist()


def test_breaks_make_lines_and_spaces() -> None:
    shard = shard_of(
        [
            word("Wake", "SPACE"),
            word("up", "SURE_SPACE"),
            word("hu", "HYPHEN"),
            word("man", "EOL_SURE_SPACE"),
            word("Bye", "LINE_BREAK"),
        ]
    )
    lines = rows(shard, "ocr_lines")
    assert [line["text"] for line in lines] == ["Wake up hu-", "man", "Bye"]
    assert [line["n_words"] for line in lines] == [3, 1, 1]
    words = rows(shard, "ocr_words")
    assert [(w["text"], w["line_index"], w["word_index"]) for w in words] == [
        ("Wake", 0, 0),
        ("up", 0, 1),
        ("hu", 0, 2),
        ("man", 1, 3),
        ("Bye", 2, 4),
    ]
    assert [w["break_type"] for w in words] == [
        "SPACE",
        "SURE_SPACE",
        "HYPHEN",
        "EOL_SURE_SPACE",
        "LINE_BREAK",
    ]
    assert rows(shard, "ocr_paragraphs")[0]["text"] == "Wake up hu-\nman\nBye"


def test_numeric_enums_read_like_names() -> None:
    named = shard_of([word("a", "SPACE"), word("b", "LINE_BREAK")])
    numbered = shard_of([word("a", 1), word("b", 5)])
    for table in ocr.SCHEMAS:
        assert rows(named, table) == rows(numbered, table)


def test_japanese_words_without_breaks_join_without_spaces() -> None:
    shard = shard_of(
        [word("東京", None, "ja"), word("タワー", None, "ja"), word("です", "LINE_BREAK")]
    )
    lines = rows(shard, "ocr_lines")
    assert [line["text"] for line in lines] == ["東京タワーです"]
    assert lines[0]["language"] == "ja"


def test_mixed_language_line_takes_the_most_common_word_language() -> None:
    shard = shard_of(
        [
            word("שלום", "SPACE", "iw"),
            word("hello", "SPACE", "en"),
            word("עולם", "LINE_BREAK", "iw"),
        ]
    )
    line = rows(shard, "ocr_lines")[0]
    assert line["text"] == "שלום hello עולם"
    assert line["language"] == "iw"


def test_paragraph_without_final_break_still_closes_its_line() -> None:
    shard = shard_of([word("one", "SPACE"), word("two")], [word("three", "LINE_BREAK")])
    assert [(r["paragraph_index"], r["text"]) for r in rows(shard, "ocr_lines")] == [
        (0, "one two"),
        (1, "three"),
    ]
    assert rows(shard, "ocr_blocks")[0]["text"] == "one twothree"


def test_prefix_space_separates_words_in_lines_and_paragraphs_alike() -> None:
    second = word("b")
    second["symbols"][0] = symbol("b", "SPACE", prefix=True)
    shard = shard_of([word("a"), second, word("c", "LINE_BREAK")])
    assert [r["text"] for r in rows(shard, "ocr_lines")] == ["a bc"]
    assert rows(shard, "ocr_paragraphs")[0]["text"] == "a bc"


def test_prefix_break_starts_a_new_line_before_the_word() -> None:
    second = word("b")
    second["symbols"][0] = symbol("b", "LINE_BREAK", prefix=True)
    shard = shard_of([word("a"), second])
    assert [r["text"] for r in rows(shard, "ocr_lines")] == ["a", "b"]


@pytest.mark.parametrize(
    ("poly", "expected"),
    [
        ({"vertices": [{"x": 5, "y": 2}, {"y": 9}, {"x": 7}]}, (0, 0, 7, 9)),
        ({"vertices": [{}, {"x": 3, "y": 4}]}, (0, 0, 3, 4)),
        ({"normalizedVertices": [{"x": 0.5}, {"x": 1.0, "y": 0.5}]}, (50.0, 0.0, 100.0, 25.0)),
        ({"vertices": [], "normalizedVertices": []}, (None, None, None, None)),
        (None, (None, None, None, None)),
    ],
)
def test_box_fills_missing_coordinates_with_zero(poly: Any, expected: tuple[Any, ...]) -> None:
    columns = box_columns(
        [(poly or {}).get("vertices") or None],
        [(poly or {}).get("normalizedVertices") or None],
        [100],
        [50],
    )
    assert tuple(columns[name][0].as_py() for name in ("x_min", "y_min", "x_max", "y_max")) == (
        expected
    )


def test_polygons_are_kept_as_given_with_zeros_filled() -> None:
    columns = box_columns(
        [[{"y": 3}, {"x": 4, "y": 5}], None, None],
        [None, [{"x": 0.25}], None],
        [None, None, None],
        [None, None, None],
    )
    assert columns["vertices"].to_pylist() == [[{"x": 0, "y": 3}, {"x": 4, "y": 5}], None, None]
    assert columns["normalized_vertices"].to_pylist() == [None, [{"x": 0.25, "y": 0.0}], None]
    # Normalized vertices without a page size give no pixel box.
    assert columns["x_min"].to_pylist() == [0.0, None, None]


def test_line_box_is_the_union_of_its_words() -> None:
    first = word("ab", "SPACE")
    first["boundingBox"] = {"vertices": [{"x": 1, "y": 2}, {"x": 10, "y": 8}]}
    second = word("cd", "LINE_BREAK")
    second["boundingBox"] = {"vertices": [{"x": 12, "y": 1}, {"x": 20, "y": 9}]}
    line = rows(shard_of([first, second]), "ocr_lines")[0]
    assert (line["x_min"], line["y_min"], line["x_max"], line["y_max"]) == (1, 1, 20, 9)
    assert line["confidence"] == 0.5


@pytest.mark.parametrize("absent", [{}, {"confidence": 0.0}], ids=["omitted", "default 0.0"])
def test_a_missing_confidence_is_null_not_zero(absent: dict[str, Any]) -> None:
    """TEXT_DETECTION answers have no confidences: they must not read as 0."""
    words = [word("Hello", "SPACE"), word("world", "LINE_BREAK")]
    for item in words:
        del item["confidence"]
        item.update(absent)
    shard = shard_of(words)
    page = shard.responses[0]["fullTextAnnotation"]["pages"][0]
    page.update(absent)
    page["blocks"][0].update(absent)
    page["blocks"][0]["paragraphs"][0].update(absent)
    for table in ("ocr_pages", "ocr_blocks", "ocr_paragraphs", "ocr_lines", "ocr_words"):
        assert {row["confidence"] for row in rows(shard, table)} == {None}, table


def test_a_line_is_the_mean_of_the_words_that_have_a_confidence() -> None:
    words = [word("a", "SPACE"), word("b", "SPACE"), word("c", "LINE_BREAK")]
    words[0]["confidence"], words[1]["confidence"] = 0.9, 0.7
    del words[2]["confidence"]
    (line,) = rows(shard_of(words), "ocr_lines")
    assert line["confidence"] == pytest.approx(0.8)
    assert [w["confidence"] for w in rows(shard_of(words), "ocr_words")] == [0.9, 0.7, None]


def test_pixel_bounds_from_normalized_vertices_are_rounded() -> None:
    polygon = [{"x": 0.0851064, "y": 0.5}, {"x": 0.34, "y": 0.5}]
    columns = box_columns([None], [polygon], [857.77], [1000])
    assert columns["x_min"].to_pylist() == [73.002]  # 0.0851064 * 857.77 = 73.0017167...
    assert columns["x_max"].to_pylist() == [291.642]
    assert columns["y_min"].to_pylist() == [500.0]
    assert columns["norm_x_min"].to_pylist() == [0.0851064]  # as given
