"""Accounting never says "complete" when something was not read.

Nothing read at all, files of Vision responses whose names are not read, and
DEST or SOURCE inside the other are each caught and said.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import vision_results as vr
from vision_results.cli import main

CAT = {"labelAnnotations": [{"description": "Cat", "score": 0.9}]}


def saved(folder: Path, names: list[str]) -> Path:
    """Responses saved by a user under names of their own, one image each."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(orjson.dumps({"responses": [CAT]}))
    return folder


def test_an_empty_source_is_not_complete_and_strict_fails(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(
        main, ["export", str(tmp_path / "empty"), str(tmp_path / "out"), "--strict"]
    )
    assert result.exit_code == 3
    assert "complete  every shard" not in result.output
    assert f"INCOMPLETE  no shards read from {tmp_path / 'empty'}" in result.output
    assert "warning: no shards were read" in result.output
    reconcile = CliRunner().invoke(main, ["reconcile", str(tmp_path / "out"), "--strict"])
    assert reconcile.exit_code == 3 and "INCOMPLETE  no shards read" in reconcile.output
    lenient = CliRunner().invoke(main, ["export", str(tmp_path / "empty"), str(tmp_path / "o2")])
    assert lenient.exit_code == 0 and "warning: no shards were read" in lenient.output


def test_a_local_folder_reads_every_json_file_by_default(tmp_path: Path) -> None:
    source = saved(tmp_path / "src", ["page1.json", "scan.json", "output-1-to-1.json"])
    (source / "notes.txt").write_text("not json")
    report = vr.export(source, tmp_path / "out")
    assert [s.name for s in report.shards] == ["page1.json", "scan.json", "output-1-to-1.json"]
    assert report.rows["labels"] == 3 and report.complete
    assert [(s.name, s.reason) for s in report.ignored_objects] == [
        ("notes.txt", "not a .json file (--include GLOB reads other names)")
    ]


def test_include_chooses_the_files_and_ignored_vision_files_are_never_silent(
    tmp_path: Path,
) -> None:
    source = saved(tmp_path / "src", ["page1.json", "page2.json", "scan.json"])
    (source / "other.json").write_text('{"not": "vision"}')
    result = CliRunner().invoke(
        main,
        ["export", str(source), str(tmp_path / "out"), "--include", "page*.json", "--strict"],
    )
    assert result.exit_code == 3
    assert "NOT READ 1 files hold Vision responses" in result.output
    assert "\n  scan.json\n" in result.output
    assert "INCOMPLETE  1 files of Vision responses not read" in result.output
    record = json.loads((tmp_path / "out" / "_export.json").read_bytes())
    assert [s["name"] for s in record["shards"]] == ["page1.json", "page2.json"]
    assert record["unread_files"] == ["scan.json"]
    reasons = {s["name"]: s["reason"] for s in record["ignored_objects"]}
    assert reasons == {
        "other.json": "not matched by --include page*.json",
        "scan.json": "holds Vision responses, not read: not matched by --include page*.json",
    }
    both = vr.export(source, tmp_path / "both", include=["page*.json", "scan.json"])
    assert both.complete and both.rows["labels"] == 3


def test_include_matches_paths_below_the_source_and_file_names(tmp_path: Path) -> None:
    saved(tmp_path / "src" / "a", ["x.json"])
    saved(tmp_path / "src" / "b", ["x.json"])
    assert [
        s.name for s in vr.export(tmp_path / "src", tmp_path / "o1", include=["a/*"]).shards
    ] == ["a/x.json"]
    assert len(vr.export(tmp_path / "src", tmp_path / "o2", include=["x.json"]).shards) == 2


def test_a_response_without_context_is_keyed_by_the_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved(tmp_path / "src", ["page1.json"])
    monkeypatch.chdir(tmp_path)
    vr.export("src", "out")
    uri = pq.read_table(tmp_path / "out" / "images")["uri"].to_pylist()
    assert uri == [str(tmp_path / "src" / "page1.json")]


@pytest.mark.parametrize(
    ("source", "dest", "message"),
    [
        ("mix2", "mix2/tables", r"DEST .*mix2/tables is inside SOURCE .*mix2"),
        ("mix2/inner", "mix2", r"SOURCE .*mix2/inner is inside DEST .*mix2"),
        ("mix2", "mix2", r"DEST .*mix2 is inside SOURCE"),
        ("gs://b/run1", "gs://b/run1/tables", r"DEST gs://b/run1/tables is inside SOURCE"),
    ],
)
def test_dest_inside_source_or_source_inside_dest_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, dest: str, message: str
) -> None:
    saved(tmp_path / "mix2" / "inner", ["page1.json"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "127.0.0.1:9")  # never reached
    with pytest.raises(vr.UsageError, match=message):
        vr.export(source, dest, overwrite=True, engine="local")
    result = CliRunner().invoke(main, ["export", source, dest, "--overwrite"])
    assert result.exit_code == 2 and "Choose a DEST outside SOURCE" in result.output
    assert (tmp_path / "mix2" / "inner" / "page1.json").is_file()


def test_an_export_folder_is_not_read_as_a_source(tmp_path: Path) -> None:
    vr.export(saved(tmp_path / "src", ["page1.json"]), tmp_path / "tables")
    with pytest.raises(vr.SourceError, match="is an export of vision-results") as caught:
        vr.export(tmp_path / "tables", tmp_path / "again")
    assert str(tmp_path / "src") in str(caught.value)
    result = CliRunner().invoke(main, ["export", str(tmp_path / "tables"), str(tmp_path / "x")])
    assert result.exit_code == 1 and "not Vision output" in result.output


def test_reconcile_says_what_a_folder_is(tmp_path: Path) -> None:
    absent = CliRunner().invoke(main, ["reconcile", str(tmp_path / "nonexistent")])
    assert absent.exit_code == 1
    assert f"{tmp_path / 'nonexistent'}: no such folder" in absent.output
    assert "credentials" not in absent.output and "storage client" not in absent.output
    source = saved(tmp_path / "sample", ["page1.json"])
    result = CliRunner().invoke(main, ["reconcile", str(source)])
    assert result.exit_code == 1
    assert "a folder of Vision output (a SOURCE), not an export" in result.output
    assert "--resume" not in result.output
    unfinished = tmp_path / "out"
    (unfinished / "images").mkdir(parents=True)
    (unfinished / "images" / "part-00000.parquet").write_bytes(b"")
    result = CliRunner().invoke(main, ["reconcile", str(unfinished)])
    assert "an export that did not finish" in result.output and "--resume" in result.output


def test_dask_engine_refuses_dest_inside_source_too(tmp_path: Path) -> None:
    saved(tmp_path / "src", ["page1.json"])
    with pytest.raises(vr.UsageError, match="inside SOURCE"):
        vr.export(tmp_path / "src", tmp_path / "src" / "t", engine="dask", scheduler="tcp://x:1")
    assert not os.path.exists(tmp_path / "src" / "t")
