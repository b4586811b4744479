"""export(): tables of a generated set, errors, skipping, atomic writes, ordering."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import vision_results as vr
from vision_results.source import LocalSource, Shard
from vision_results.stream import GROUP_SHARDS, stream_chunks
from vision_results.synth import main as synth_main
from vision_results.synth import write_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder, images=45, seed=2, batch_size=10, documents=2, pdf_pages=3)
    return folder


def json_responses(folder: Path) -> list[dict[str, Any]]:
    """Every response of every shard, straight from the JSON, in shard order."""
    out = []
    for path in sorted(folder.rglob("output-*.json"), key=lambda p: vr_order(folder, p)):
        out += json.loads(path.read_bytes())["responses"]
    return out


def vr_order(folder: Path, path: Path) -> tuple[str, int, int, str]:
    from vision_results.source import shard_order

    return shard_order(path.relative_to(folder).as_posix())


def read(dest: Path, table: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = pq.read_table(dest / table).to_pylist()
    return rows


def test_rows_equal_what_the_json_holds(sample: Path, tmp_path: Path) -> None:
    report = vr.export(sample, tmp_path / "out")
    responses = json_responses(sample)
    words = [
        w
        for r in responses
        for p in (r.get("fullTextAnnotation") or {}).get("pages", [])
        for b in p["blocks"]
        for g in b["paragraphs"]
        for w in g["words"]
    ]
    assert report.images == len(read(tmp_path / "out", "images")) == len(responses)
    assert report.rows["labels"] == sum(len(r.get("labelAnnotations", [])) for r in responses)
    assert report.rows["ocr_words"] == len(words)
    errors = [r["error"] for r in responses if "error" in r]
    assert 0 < report.errors == report.rows["errors"] == len(errors)
    assert [(e["code"], e["status"], e["message"]) for e in read(tmp_path / "out", "errors")] == [
        (e["code"], {3: "INVALID_ARGUMENT", 14: "UNAVAILABLE"}[e["code"]], e["message"])
        for e in errors
    ]
    images = read(tmp_path / "out", "images")
    assert [i["text"] for i in images] == [
        (r.get("fullTextAnnotation") or {}).get("text") for r in responses
    ]
    pdf_pages = [i["page_number"] for i in images if i["uri"].endswith(".pdf")]
    assert pdf_pages == [1, 2, 3, 1, 2, 3]
    assert all(i["page_number"] is None for i in images if i["uri"].endswith(".jpg"))
    lines_per_image = {}
    for line in read(tmp_path / "out", "ocr_lines"):
        key = (line["shard"], line["response_index"])
        lines_per_image.setdefault(key, []).append(line["text"])
    for image in images:
        if image["text"]:
            lines = lines_per_image[(image["shard"], image["response_index"])]
            assert "\n".join(lines) == image["text"].rstrip("\n")
            assert image["n_lines"] == len(lines)


def test_defaults_present_form_gives_identical_rows(tmp_path: Path) -> None:
    write_sample(tmp_path / "plain", images=30, seed=5, documents=1, pdf_pages=2)
    write_sample(tmp_path / "full", images=30, seed=5, documents=1, pdf_pages=2, defaults=True)
    name = "images/output-1-to-20.json"
    assert (tmp_path / "plain" / name).read_bytes() != (tmp_path / "full" / name).read_bytes()
    vr.export(tmp_path / "plain", tmp_path / "a")
    vr.export(tmp_path / "full", tmp_path / "b")
    for name in vr.TABLE_NAMES:
        a, b = pq.read_table(tmp_path / "a" / name), pq.read_table(tmp_path / "b" / name)
        assert a.num_rows > 0 or name == "errors"
        assert a.equals(b), name


def test_zero_responses_export_every_table_with_its_schema(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "output-1-to-1.json").write_bytes(b'{"responses": []}')
    report = vr.export(tmp_path / "src", tmp_path / "out")
    assert report.rows == dict.fromkeys(vr.TABLE_NAMES, 0)
    for name, schema in vr.SCHEMAS.items():
        assert pq.read_schema(tmp_path / "out" / name / "part-00000.parquet").equals(schema)


def test_shards_are_read_in_numeric_order_and_others_reported(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for first in (101, 21, 1, 1001):
        body = {"responses": [{"context": {"uri": f"gs://b/{first}.jpg"}}]}
        (src / f"output-{first}-to-{first + 19}.json").write_text(json.dumps(body))
    (src / "notes.txt").write_text("hello")
    (src / "_export.json").write_text("{}")
    report = vr.export(src, tmp_path / "out")
    assert [s.name for s in report.shards] == [
        "output-1-to-20.json",
        "output-21-to-40.json",
        "output-101-to-120.json",
        "output-1001-to-1020.json",
    ]
    assert [i["uri"] for i in read(tmp_path / "out", "images")] == [
        "gs://b/1.jpg",
        "gs://b/21.jpg",
        "gs://b/101.jpg",
        "gs://b/1001.jpg",
    ]
    assert [(s.name, s.reason) for s in report.ignored_objects] == [
        ("_export.json", "export record of vision-results, not Vision output"),
        ("notes.txt", "not a .json file (--include GLOB reads other names)"),
    ]
    record = vr.ExportReport.from_json((tmp_path / "out" / "_export.json").read_bytes())
    assert record == report


@pytest.fixture
def with_bad_shard(sample: Path, tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for path in sorted((sample / "images").glob("*.json"))[:3]:
        (src / path.name).write_bytes(path.read_bytes())
    (src / "output-11-to-20.json").write_bytes(b'{"responses": [{"labelAnnotations": 5}]}')
    return src


def test_bad_shard_stops_the_export_and_leaves_nothing(with_bad_shard: Path) -> None:
    dest = with_bad_shard.parent / "out"
    with pytest.raises(vr.ShardError, match=r"output-11-to-20.json: not a Vision response"):
        vr.export(with_bad_shard, dest)
    assert not dest.exists()
    assert not list(dest.parent.glob(".out.partial-*"))


def test_skip_goes_on_and_reports_the_shard(with_bad_shard: Path) -> None:
    dest = with_bad_shard.parent / "out"
    report = vr.export(with_bad_shard, dest, on_error="skip")
    assert [s.name for s in report.skipped_shards] == ["output-11-to-20.json"]
    assert "responses[0].labelAnnotations is int, expected a JSON array" in (
        report.skipped_shards[0].reason
    )
    assert len(report.shards) == 2 and report.images == 20
    assert "SKIPPED  1 bad shards" in report.summary()
    record = json.loads((dest / "_export.json").read_bytes())
    assert record["skipped_shards"][0]["name"] == "output-11-to-20.json"


def test_existing_dest_is_refused_unless_overwrite(sample: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with pytest.raises(vr.DestinationError, match=r"already exists.*--overwrite"):
        vr.export(sample, dest, tables=["labels"])
    assert (dest / "keep.txt").exists()
    vr.export(sample, dest, tables=["labels"], overwrite=True, keep_all=True)
    assert sorted(p.name for p in dest.iterdir()) == ["_answers", "_export.json", "labels"]


def test_unknown_table_is_refused(sample: Path, tmp_path: Path) -> None:
    with pytest.raises(vr.VisionResultsError, match=r"unknown table.*: nope"):
        vr.export(sample, tmp_path / "out", tables=["labels", "nope"])


def test_missing_source_says_so(tmp_path: Path) -> None:
    with pytest.raises(vr.SourceError, match="no such file or folder"):
        vr.export(tmp_path / "absent", tmp_path / "out")


def test_killed_export_leaves_no_file_under_a_final_name(tmp_path: Path) -> None:
    src = tmp_path / "big"
    write_sample(src, images=600, seed=1, documents=0, words_per_image=60)
    dest = tmp_path / "out"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vision_results.cli",
            "export",
            str(src),
            str(dest),
            "-q",
            "--workers",
            "1",
        ],
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.partial-*")):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.5)  # well into the export: it takes seconds
    assert process.poll() is None, "export ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not dest.exists()


def test_stream_holds_a_bounded_number_of_shards(sample: Path) -> None:
    """However many shards the source has, at most 2 * workers groups are read ahead."""

    class CountingSource(LocalSource):
        reads = 0

        def read_into(self, shard: Shard, buffer: bytearray) -> memoryview:
            CountingSource.reads += 1
            return super().read_into(shard, buffer)

    source = CountingSource(sample)
    shards = source.list().shards * 40
    consumed = 0
    for chunk in stream_chunks(source, shards, ["images"], workers=2):
        consumed += len(chunk.results)
        time.sleep(0.002)
        assert CountingSource.reads - consumed <= 2 * 2 * GROUP_SHARDS
    assert consumed == len(shards) == CountingSource.reads


def test_open_reads_once_and_tables_come_from_the_cache(sample: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    write_sample(copy, images=45, seed=2, batch_size=10, documents=2, pdf_pages=3)
    res = vr.open(copy, progress=False)
    for path in copy.rglob("*.json"):
        path.unlink()  # nothing may be read again from here on
    labels, words = res.labels, res.ocr_words
    assert len(labels) == res.report.rows["labels"] > 0
    assert len(words) == res.report.rows["ocr_words"] > 0
    assert str(words["text"].dtype) == "string[pyarrow]"
    res.to_parquet(tmp_path / "out")
    assert pq.read_table(tmp_path / "out" / "labels").num_rows == len(labels)
    assert (tmp_path / "out" / "_export.json").exists()
    with pytest.raises(vr.VisionResultsError, match="was not read"):
        vr.open(sample, tables=["labels"], progress=False).table("ocr_words")


def test_every_table_is_an_attribute_of_results() -> None:
    assert [name for name in vr.TABLE_NAMES if name not in vars(vr.Results)] == []


def test_open_reads_every_kind_of_the_bundled_sample(tmp_path: Path) -> None:
    assert synth_main(["--sample", str(tmp_path / "sample")]) == 0
    res = vr.open(tmp_path / "sample", progress=False)
    for name in vr.TABLE_NAMES:
        frame = getattr(res, name)
        assert len(frame) == res.report.rows[name] > 0, name
        assert list(frame.columns) == vr.SCHEMAS[name].names


def test_one_and_many_workers_give_identical_tables(sample: Path, tmp_path: Path) -> None:
    vr.export(sample, tmp_path / "one", workers=1, processes=0)
    vr.export(sample, tmp_path / "many", workers=4, processes=2)
    for name in vr.TABLE_NAMES:
        one, many = pq.read_table(tmp_path / "one" / name), pq.read_table(tmp_path / "many" / name)
        assert one.equals(many), name
