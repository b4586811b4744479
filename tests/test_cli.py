"""The command line, driven through click's CliRunner and checked through the API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from vision_results.cli import main
from vision_results.synth import write_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder, images=30, seed=2, documents=1, pdf_pages=2)
    return folder


def test_export_prints_a_summary_and_writes_the_tables(sample: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", str(sample), str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "out" / "_export.json").read_bytes())
    assert f"images   {record['images']} responses, {record['errors']} with an error" in (
        result.output
    )
    assert re.search(rf"ocr_words +{record['rows']['ocr_words']:,} rows", result.output)
    assert pq.read_table(tmp_path / "out" / "ocr_words").num_rows == record["rows"]["ocr_words"]


def test_tables_option_selects_tables(sample: Path, tmp_path: Path) -> None:
    args = ["export", str(sample), str(tmp_path / "out"), "--tables", "labels, errors", "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output == ""
    # The tables asked for, the record and the export's own index of answers.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "_answers",
        "_export.json",
        "errors",
        "labels",
    ]


def test_processes_give_the_same_tables_as_threads(sample: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for processes in ("0", "2"):
        args = ["export", str(sample), str(tmp_path / processes), "--processes", processes, "-q"]
        assert runner.invoke(main, args).exit_code == 0
    for table in ("images", "ocr_words", "ocr_lines", "text_annotations"):
        assert pq.read_table(tmp_path / "0" / table).equals(pq.read_table(tmp_path / "2" / table))


def test_bad_shard_exits_non_zero_naming_it(sample: Path, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "output-1-to-20.json").write_bytes(b"{not json")
    result = CliRunner().invoke(main, ["export", str(source), str(tmp_path / "out")])
    assert result.exit_code == 1
    assert f"error: {source / 'output-1-to-20.json'}: not valid JSON" in result.output
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(
        main, ["export", str(source), str(tmp_path / "out"), "--on-error", "skip"]
    )
    assert result.exit_code == 0
    assert "SKIPPED  1 bad shards" in result.output
    assert "output-1-to-20.json: not valid JSON" in result.output


def test_bad_shard_in_a_parser_process_is_reported_the_same(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "output-1-to-20.json").write_bytes(b'{"responses": [{"labelAnnotations": [3]}]}')
    args = ["export", str(source), str(tmp_path / "out"), "--processes", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert (
        "output-1-to-20.json: not a Vision response: responses[0].labelAnnotations[0] is int, "
        "expected a JSON object"
    ) in result.output


def test_existing_dest_is_refused(sample: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    result = CliRunner().invoke(main, ["export", str(sample), str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "already exists" in result.output and "--overwrite" in result.output
