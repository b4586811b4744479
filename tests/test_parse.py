"""parse_shard: every accepted shape, and clear errors for everything else."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

import vision_results as vr
from vision_results import ShardError, parse_shard
from vision_results.synth import write_sample


def dumps(value: object) -> bytes:
    return orjson.dumps(value)


def test_image_job_shard_takes_uri_from_context() -> None:
    data = dumps(
        {"responses": [{"context": {"uri": "gs://b/a.jpg"}}, {"context": {"uri": "gs://b/c.jpg"}}]}
    )
    shard = parse_shard(data, "out/output-1-to-2.json", "gs://b/out/output-1-to-2.json")
    assert shard.shard == "out/output-1-to-2.json"
    assert shard.uris == ["gs://b/a.jpg", "gs://b/c.jpg"]
    assert shard.pages == [None, None]
    assert len(shard) == 2


def test_file_job_shard_has_pages_and_falls_back_to_input_uri() -> None:
    data = dumps(
        {
            "inputConfig": {"gcsSource": {"uri": "gs://b/doc.pdf"}, "mimeType": "application/pdf"},
            "responses": [
                {"context": {"uri": "gs://b/doc.pdf", "pageNumber": 1}},
                {"context": {"pageNumber": 2}},
                {},
            ],
        }
    )
    shard = parse_shard(data, "x.json", "/tmp/x.json")
    assert shard.uris == ["gs://b/doc.pdf"] * 3
    assert shard.pages == [1, 2, None]


def test_sync_files_annotate_answer_is_unpacked() -> None:
    inner = {"responses": [{"context": {"uri": "gs://b/d.pdf", "pageNumber": 3}}], "totalPages": 1}
    shard = parse_shard(dumps({"responses": [inner]}), "f.json", "/f.json")
    assert shard.uris == ["gs://b/d.pdf"]
    assert shard.pages == [3]


@pytest.mark.parametrize(
    "document",
    [
        {"labelAnnotations": [{"description": "Cat"}]},
        {},  # a response where nothing was found
        {"responses": [{"labelAnnotations": []}]},  # sync images:annotate, no context
    ],
)
def test_responses_without_context_use_the_shard_location(document: object) -> None:
    shard = parse_shard(dumps(document), "r.json", "/data/r.json")
    assert shard.uris == ["/data/r.json"]
    assert shard.pages == [None]


def test_default_context_page_zero_means_no_page() -> None:
    data = dumps({"responses": [{"context": {"uri": "gs://b/a.jpg", "pageNumber": 0}}]})
    assert parse_shard(data, "s", "s").pages == [None]


def test_unknown_fields_are_ignored() -> None:
    data = dumps({"responses": [{"futureAnnotation": {"x": 1}, "context": {"uri": "u"}}], "new": 1})
    assert parse_shard(data, "s", "s").uris == ["u"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"responses": [', "gs://b/p/output-1-to-20.json: not valid JSON"),
        (b"[1, 2]", "not a Vision response: .* found a JSON list"),
        (b'{"name": "x"}', r"not a Vision response: .* found an object with keys \['name'\]"),
        (b'{"responses": [{}, 7]}', r"responses\[1\] is int, expected a JSON object"),
        (b"", "not valid JSON"),
    ],
)
def test_bad_shards_name_the_shard_and_the_problem(data: bytes, message: str) -> None:
    with pytest.raises(ShardError, match=message) as caught:
        parse_shard(data, "p/output-1-to-20.json", "gs://b/p/output-1-to-20.json")
    assert caught.value.shard == "gs://b/p/output-1-to-20.json"
    assert "--on-error skip" in str(caught.value)


def test_a_file_that_failed_as_a_whole_keeps_its_error() -> None:
    data = dumps(
        {
            "inputConfig": {"gcsSource": {"uri": "gs://b/broken.pdf"}},
            "error": {"code": 3, "message": "Bad PDF."},
        }
    )
    shard = parse_shard(data, "s", "gs://b/out/output-1-to-1.json")
    assert shard.uris == ["gs://b/broken.pdf"]
    assert shard.responses == [{"error": {"code": 3, "message": "Bad PDF."}}]


@pytest.mark.parametrize("defaults", [False, True], ids=["service-json", "defaults-present"])
def test_each_table_alone_equals_that_table_of_a_full_export(
    defaults: bool, tmp_path: Path
) -> None:
    """The parser builds only the fields the asked-for tables read: none is missed."""
    write_sample(tmp_path / "src", images=60, seed=7, defaults=defaults)
    vr.export(tmp_path / "src", tmp_path / "all", keep_all=True)
    for name in vr.TABLE_NAMES:
        vr.export(tmp_path / "src", tmp_path / name, tables=[name], keep_all=True)
        alone = pq.read_table(tmp_path / name / name)
        assert alone.num_rows and alone.equals(pq.read_table(tmp_path / "all" / name)), name


def test_a_bare_response_of_fields_not_asked_for_is_still_a_response() -> None:
    data = dumps({"labelAnnotations": [{"description": "cat"}]})
    parsed = parse_shard(data, "s", "s", fields=frozenset({"error"}))
    assert parsed.responses == [{}]
    with pytest.raises(ShardError, match="found an object with keys"):
        parse_shard(dumps({"kind": "x"}), "s", "s", fields=frozenset({"error"}))
