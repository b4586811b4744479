"""Bad input: every malformed shard gives an error naming it, or a recorded skip.

Each case is one bad shard among good ones. With ``on_error="raise"`` the export
stops with a :class:`ShardError` naming the shard and leaves nothing under DEST;
with ``"skip"`` the good shards give the same tables as without the bad one and
the report lists it; the command line says the same in one line, without a
traceback.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import vision_results as vr
from vision_results.cli import main
from vision_results.synth import write_sample

BAD = "output-901-to-910.json"
DEEP = 100_000
WORD = (
    b'{"responses":[{"fullTextAnnotation":{"pages":[{"blocks":[{"paragraphs":[{"words":[%s]'
    b"}]}]}]}}]}"
)

CASES = {
    "truncated": (b'{"responses": [{"labelAnnotations": [{"descr', "not valid JSON"),
    "empty file": (b"", "not valid JSON"),
    "whitespace only": (b"  \n", "not valid JSON"),
    "non-UTF-8 bytes": (b'{"responses": [{"context": {"uri": "\xff\xfe"}}]}', "not valid JSON"),
    "a list": (b"[1, 2]", "found a JSON list"),
    "a number": (b"42", "found a JSON int"),
    "a string": (b'"output"', "found a JSON str"),
    "null": (b"null", "found a JSON NoneType"),
    "unknown object": (b'{"kind": "storage#object"}', r"found an object with keys \['kind'\]"),
    "responses not a list": (
        b'{"responses": {"a": 1}}',
        "responses is object, expected a JSON array",
    ),
    "response not an object": (
        b'{"responses": [{}, 7]}',
        r"responses\[1\] is int, expected a JSON object",
    ),
    "pages not a list": (
        b'{"responses": [{"fullTextAnnotation": {"pages": "p"}}]}',
        r"responses\[0\].fullTextAnnotation.pages is str, expected a JSON array",
    ),
    "string for a number": (
        b'{"responses": [{"labelAnnotations": [{"description": "cat", "score": "high"}]}]}',
        r"responses\[0\]\.labelAnnotations\[0\]\.score is str, expected a JSON number",
    ),
    "number for a string": (
        b'{"responses": [{"labelAnnotations": [{"description": 5, "score": 0.5}]}]}',
        r"responses\[0\]\.labelAnnotations\[0\]\.description is int, expected a JSON string",
    ),
    "object for a list": (
        b'{"responses": [{"labelAnnotations": {"a": 1}}]}',
        "not a Vision response",
    ),
    "string for a word's confidence": (WORD % b'{"confidence": "high"}', "not a Vision response"),
    "string for a vertex": (
        WORD % b'{"boundingBox": {"vertices": [{"x": "left"}]}}',
        r"words\[0\]\.boundingBox\.vertices\[0\]\.x is str, expected a JSON integer",
    ),
    "a list for the uri": (
        b'{"responses": [{"context": {"uri": [null]}}]}',
        r"responses\[0\]\.context\.uri is array, expected a JSON str",
    ),
    "a string for the page": (
        b'{"responses": [{"context": {"uri": "gs://b/a.pdf", "pageNumber": "2"}}]}',
        r"responses\[0\]\.context\.pageNumber is str, expected a JSON int",
    ),
    "a fraction for the page": (
        b'{"responses": [{"context": {"uri": "gs://b/a.pdf", "pageNumber": 2.5}}]}',
        r"responses\[0\]\.context\.pageNumber is float, expected a JSON int",
    ),
    "a page beyond int32": (
        b'{"responses": [{"context": {"uri": "gs://b/a.pdf", "pageNumber": 1e20}}]}',
        r"responses\[0\]\.context\.pageNumber: 100000000000000000000 is out of range",
    ),
    "a number for the mime type": (
        b'{"inputConfig": {"gcsSource": {"uri": "gs://b/a.pdf"}, "mimeType": 5}}',
        r"inputConfig\.mimeType is int, expected a JSON str",
    ),
    "a list for the file's uri": (
        b'{"inputConfig": {"gcsSource": {"uri": ["gs://b/a.pdf"]}}, "responses": [{}]}',
        r"inputConfig\.gcsSource\.uri is array, expected a JSON str",
    ),
    "a fraction of pages": (
        b'{"inputConfig": {"gcsSource": {"uri": "gs://b/a.pdf"}}, "totalPages": 2.5}',
        r"totalPages is float, expected a JSON int",
    ),
    "deep nesting": (
        b'{"responses": [{"labelAnnotations": ' + b"[" * DEEP + b"]" * DEEP + b"}]}",
        "JSON nested too deeply",
    ),
}


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("good")
    write_sample(folder, images=30, seed=4, batch_size=10, documents=0)
    return folder / "images"


@pytest.fixture(scope="module")
def clean_tables(good: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    dest = tmp_path_factory.mktemp("clean") / "out"
    vr.export(good, dest)
    return {name: pq.read_table(dest / name) for name in vr.TABLE_NAMES}


def with_bad(good: Path, folder: Path, data: bytes) -> Path:
    folder.mkdir()
    for path in good.glob("*.json"):
        os.link(path, folder / path.name)
    (folder / BAD).write_bytes(data)
    return folder


@pytest.mark.parametrize(("data", "message"), CASES.values(), ids=CASES.keys())
def test_bad_shard_stops_the_export_naming_it(
    good: Path, tmp_path: Path, data: bytes, message: str
) -> None:
    source = with_bad(good, tmp_path / "src", data)
    dest = tmp_path / "out"
    with pytest.raises(vr.ShardError, match=message) as caught:
        vr.export(source, dest, processes=0)
    assert caught.value.shard == str(source / BAD)
    assert not dest.exists() and not list(tmp_path.glob(".out.partial-*"))


@pytest.mark.parametrize(("data", "message"), CASES.values(), ids=CASES.keys())
def test_bad_shard_is_skipped_and_recorded(
    good: Path, clean_tables: dict[str, pa.Table], tmp_path: Path, data: bytes, message: str
) -> None:
    source = with_bad(good, tmp_path / "src", data)
    report = vr.export(source, tmp_path / "out", on_error="skip", processes=0)
    assert [s.name for s in report.skipped_shards] == [BAD]
    assert re.search(message, report.skipped_shards[0].reason)
    for name, table in clean_tables.items():
        assert pq.read_table(tmp_path / "out" / name).equals(table), name


@pytest.mark.parametrize("case", ["truncated", "a list", "string for a number", "deep nesting"])
def test_command_line_says_it_in_one_line_without_a_traceback(
    good: Path, tmp_path: Path, case: str
) -> None:
    data, message = CASES[case]
    source = with_bad(good, tmp_path / "src", data)
    result = CliRunner().invoke(main, ["export", str(source), str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {source / BAD}: ")
    assert re.search(message, lines[0])


def test_a_shard_larger_than_the_limit_is_refused_unread(good: Path, tmp_path: Path) -> None:
    source = with_bad(good, tmp_path / "src", b"")
    with (source / BAD).open("r+b") as sparse:  # 3 GB that take no disk and are never read
        sparse.truncate(3 << 30)
    with pytest.raises(vr.ShardError, match="3,221 MB is more than the 537 MB a shard may have"):
        vr.export(source, tmp_path / "out")
    report = vr.export(source, tmp_path / "out", on_error="skip")
    assert [s.name for s in report.skipped_shards] == [BAD]
    assert report.images == 30
