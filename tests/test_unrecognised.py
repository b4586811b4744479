"""Nothing unrecognised passes silently.

A response none of whose keys is a Vision field is counted per shard and makes
the export INCOMPLETE; a shard with no recognised response is a bad shard;
unknown keys beside known ones are ignored but counted by name.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

import vision_results as vr
from vision_results.cli import main

CAT = {"labelAnnotations": [{"mid": "/m/01yrx", "description": "Cat", "score": 0.9}]}
FOREIGN = {"labels": ["cat"], "foo": 1}  # a user's own JSON, not a Vision response


def shard(folder: Path, name: str, responses: list[object]) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(orjson.dumps({"responses": responses}))
    return path


def test_a_shard_of_unrecognised_responses_is_a_bad_shard(tmp_path: Path) -> None:
    path = shard(tmp_path / "src", "output-1-to-2.json", [FOREIGN, {"foo": 2}])
    with pytest.raises(vr.ShardError, match="not a Vision response: keys foo, labels") as caught:
        vr.export(path, tmp_path / "out")
    assert caught.value.shard == str(path)
    assert not (tmp_path / "out").exists()


def test_the_command_line_names_the_file_and_the_keys_and_fails(tmp_path: Path) -> None:
    path = shard(tmp_path / "src", "output-1-to-2.json", [FOREIGN, {"foo": 2}])
    result = CliRunner().invoke(main, ["export", str(path), str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {path}: not a Vision response: keys foo, labels")
    assert not (tmp_path / "out").exists()


def test_unrecognised_responses_beside_good_ones_make_the_export_incomplete(
    tmp_path: Path,
) -> None:
    source = tmp_path / "src"
    shard(source, "output-1-to-3.json", [CAT, FOREIGN, CAT])
    shard(source, "output-4-to-4.json", [CAT])
    result = CliRunner().invoke(main, ["export", str(source), str(tmp_path / "out"), "--strict"])
    assert result.exit_code == 3
    assert "UNREAD   1 responses are not Vision responses" in result.output
    assert "  output-1-to-3.json: 1" in result.output
    assert "INCOMPLETE  1 responses not recognised" in result.output
    record = json.loads((tmp_path / "out" / "_export.json").read_bytes())
    assert record["unrecognised"] == 1
    assert [(s["name"], s["responses"], s["unrecognised"]) for s in record["shards"]] == [
        ("output-1-to-3.json", 2, 1),
        ("output-4-to-4.json", 1, 0),
    ]
    reconcile = CliRunner().invoke(main, ["reconcile", str(tmp_path / "out"), "--strict"])
    assert reconcile.exit_code == 3


def test_response_index_keeps_the_position_in_the_shard(tmp_path: Path) -> None:
    path = shard(tmp_path / "src", "output-1-to-3.json", [FOREIGN, CAT, CAT])
    parsed = vr.parse_shard(path.read_bytes(), path.name, str(path))
    labels = vr.flatten_shard(parsed, ["labels"])["labels"]
    assert labels["response_index"].to_pylist() == [1, 2]
    assert parsed.unrecognised == 1


def test_unknown_fields_beside_known_ones_are_counted_by_name(tmp_path: Path) -> None:
    later = {**CAT, "futureAnnotation": {"x": 1}}
    source = tmp_path / "src"
    shard(source, "output-1-to-2.json", [later, later])
    (source / "output-3-to-3.json").write_bytes(
        orjson.dumps({"responses": [CAT], "nextPageToken": "t"})
    )
    report = vr.export(source, tmp_path / "out")
    assert report.complete
    assert report.rows["labels"] == 3
    assert report.unknown_fields == {
        "AnnotateImageResponse.futureAnnotation": 2,
        "BatchResponse.nextPageToken": 1,
    }
    record = json.loads((tmp_path / "out" / "_export.json").read_bytes())
    assert record["unknown_fields"] == report.unknown_fields
    assert (
        "unknown  fields not exported (newer than this version?): "
        "AnnotateImageResponse.futureAnnotation (2), BatchResponse.nextPageToken (1)"
    ) in report.summary()
