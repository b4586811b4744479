"""Every real Vision output file in ../shared/vision-api-samples/, checked against the
values counted directly from its JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import vision_results as vr

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "vision-api-samples"
FRAGMENT = "googleapis__google-cloud-php__face-landmarks.json"  # a list of landmarks, no response
LINE_ENDS = {"EOL_SURE_SPACE", "LINE_BREAK", "HYPHEN", 3, 4, 5}

if not SAMPLES.is_dir():
    pytest.skip(f"real samples not found at {SAMPLES}", allow_module_level=True)

FILES = sorted(p for p in SAMPLES.glob("*.json") if p.name != FRAGMENT)


def responses(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, dict) and "responses" in document:
        return list(document["responses"])
    return [document]


def words_of(response: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(paragraph, word) pairs in document order."""
    pages = (response.get("fullTextAnnotation") or {}).get("pages") or []
    return [
        (paragraph, word)
        for page in pages
        for block in page.get("blocks", [])
        for paragraph in block.get("paragraphs", [])
        for word in paragraph.get("words", [])
    ]


def line_count(response: dict[str, Any]) -> int:
    count = 0
    pages = (response.get("fullTextAnnotation") or {}).get("pages") or []
    for page in pages:
        for block in page.get("blocks", []):
            for paragraph in block.get("paragraphs", []):
                ends = [
                    ((w["symbols"][-1].get("property") or {}).get("detectedBreak") or {}).get(
                        "type"
                    )
                    in LINE_ENDS
                    for w in paragraph.get("words", [])
                ]
                count += sum(ends) + (1 if ends and not ends[-1] else 0)
    return count


@pytest.fixture(scope="module", params=FILES, ids=lambda p: p.name)
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path: Path = request.param
    dest = tmp_path_factory.mktemp("out") / "tables"
    report = vr.export(path, dest)
    tables = {name: pq.read_table(dest / name).to_pylist() for name in vr.TABLE_NAMES}
    return responses(json.loads(path.read_bytes())), tables, report


def test_row_counts_equal_what_the_json_holds(exported: Any) -> None:
    items, tables, report = exported
    assert report.images == len(tables["images"]) == len(items)
    assert len(tables["labels"]) == sum(len(r.get("labelAnnotations") or []) for r in items)
    assert len(tables["text_annotations"]) == sum(
        len(r.get("textAnnotations") or []) for r in items
    )
    assert len(tables["ocr_words"]) == sum(len(words_of(r)) for r in items)
    assert len(tables["ocr_lines"]) == sum(line_count(r) for r in items)
    assert len(tables["errors"]) == sum(1 for r in items if r.get("error"))
    assert report.rows == {name: len(rows) for name, rows in tables.items()}


def test_values_equal_the_json(exported: Any) -> None:
    items, tables, _ = exported
    labels = [
        (lab["mid"], lab["description"], lab["score"], lab.get("topicality", 0.0))
        for r in items
        for lab in r.get("labelAnnotations") or []
    ]
    assert [
        (r["mid"], r["description"], r["score"], r["topicality"]) for r in tables["labels"]
    ] == (labels)
    assert [r["description"] for r in tables["text_annotations"]] == [
        t["description"] for r in items for t in r.get("textAnnotations") or []
    ]
    assert [r["text"] for r in tables["ocr_words"]] == [
        "".join(s["text"] for s in w["symbols"]) for r in items for _, w in words_of(r)
    ]
    for index, response in enumerate(items):
        image = tables["images"][index]
        assert image["response_index"] == index
        text = (response.get("fullTextAnnotation") or {}).get("text")
        assert image["text"] == text
        if text:
            lines = [r["text"] for r in tables["ocr_lines"] if r["response_index"] == index]
            pages = [r["text"] for r in tables["ocr_pages"] if r["response_index"] == index]
            # Rebuilt lines and pages read exactly as the service's own text.
            assert "\n".join(lines) == text.rstrip("\n")
            assert pages == [text.rstrip("\n")]
            width = response["fullTextAnnotation"]["pages"][0]["width"]
            assert image["width"] == width


def test_file_job_shard_keys_and_normalized_boxes() -> None:
    path = SAMPLES / "gilsweed__medical-ocr-app__output-1-to-1.json"
    shard = vr.parse_shard(path.read_bytes(), path.name, str(path))
    document = json.loads(path.read_bytes())
    assert shard.uris == [document["responses"][0]["context"]["uri"]]
    assert shard.pages == [1]
    words = vr.flatten_shard(shard, ["ocr_words"])["ocr_words"].to_pylist()
    page = document["responses"][0]["fullTextAnnotation"]["pages"][0]
    first = words_of(document["responses"][0])[0][1]["boundingBox"]["normalizedVertices"]
    assert words[0]["normalized_vertices"] == [
        {"x": v.get("x", 0.0), "y": v.get("y", 0.0)} for v in first
    ]
    assert words[0]["vertices"] is None
    assert words[0]["x_min"] == pytest.approx(min(v.get("x", 0.0) for v in first) * page["width"])
    assert words[0]["y_max"] == pytest.approx(max(v.get("y", 0.0) for v in first) * page["height"])
    assert {w["language"] for w in words} >= {"iw"}


def test_reserialised_json_gives_the_same_rows_as_the_service_json() -> None:
    """expected_batch_annotation.json is pysuite's two shards re-serialised by the Python
    client: every default present, enums as numbers, context null."""
    service = [
        SAMPLES / "staftermath__pysuite__test_vision_output-1-to-1.json",
        SAMPLES / "staftermath__pysuite__test_vision_output-2-to-2.json",
    ]
    client = SAMPLES / "staftermath__pysuite__expected_batch_annotation.json"
    keys = {"uri", "page_number", "shard", "response_index"}

    def rows(path: Path) -> dict[str, list[dict[str, Any]]]:
        shard = vr.parse_shard(path.read_bytes(), path.name, str(path))
        tables = vr.flatten_shard(shard, vr.TABLE_NAMES)
        return {
            name: [{k: v for k, v in row.items() if k not in keys} for row in table.to_pylist()]
            for name, table in tables.items()
        }

    first, second, both = rows(service[0]), rows(service[1]), rows(client)
    for name in vr.TABLE_NAMES:
        assert both[name] == first[name] + second[name], name
    assert {w["break_type"] for w in both["ocr_words"]} == {None, "SPACE", "LINE_BREAK"}


def test_a_fragment_that_is_no_response_is_refused_by_name(tmp_path: Path) -> None:
    path = SAMPLES / FRAGMENT
    with pytest.raises(vr.ShardError, match=r"face-landmarks\.json: not a Vision response"):
        vr.export(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
