"""Errors that tell the truth, fast, and help that explains the commands."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import click
import orjson
import pytest
from click.testing import CliRunner
from google.cloud import vision

import vision_results as vr
from vision_results.cli import main
from vision_results.jobs.api import FEATURES
from vision_results.source import storage_client
from vision_results.tables import TABLE_NAMES


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- credentials -------------------------------------------------------------------


def test_a_missing_key_file_is_named_with_google_auths_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json")
    with pytest.raises(vr.SourceError) as caught:
        storage_client()
    message = str(caught.value)
    assert "GOOGLE_APPLICATION_CREDENTIALS names /nonexistent/key.json" in message
    assert "was not found" in message  # google-auth's own reason
    assert "no Google Cloud credentials found" not in message
    result = CliRunner().invoke(main, ["export", "gs://bucket/prefix", str(tmp_path / "out")])
    assert result.exit_code == 1 and "/nonexistent/key.json" in result.output


def test_a_malformed_key_file_is_named_with_google_auths_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = tmp_path / "key.json"
    key.write_text('{"type": "nothing-google-knows"}')
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    with pytest.raises(vr.SourceError, match=f"names {re.escape(str(key))}, which cannot be used"):
        storage_client()


# --- an endpoint nobody answers ----------------------------------------------------


def test_connection_refused_on_the_first_request_fails_within_seconds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"127.0.0.1:{closed_port()}")
    started = time.monotonic()
    result = CliRunner().invoke(main, ["export", "gs://bucket/prefix", str(tmp_path / "out")])
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    assert "Nothing answers at http://127.0.0.1:" in result.output
    assert "--retry-deadline SECONDS" in result.output


def test_with_a_retry_deadline_it_retries_and_says_so_on_stderr(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"127.0.0.1:{closed_port()}")
    started = time.monotonic()
    with pytest.raises(vr.SourceError, match="gave up after retrying"):
        vr.export("gs://bucket/prefix", tmp_path / "out", retry_deadline=2)
    assert time.monotonic() - started < 10  # the deadline holds, not the default 120 s
    notices = [r.getMessage() for r in caplog.records if r.name == "vision_results"]
    assert notices and all(n.startswith("retrying listing gs://bucket/prefix: ") for n in notices)
    assert "for up to 2 s in all" in notices[0]
    assert "ConnectionError" in notices[0] or "refused" in notices[0]


# --- names -----------------------------------------------------------------------


def test_unknown_table_names_get_the_closest_everywhere(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.json").write_bytes(orjson.dumps({"responses": [{}]}))
    with pytest.raises(vr.UsageError, match=r"unknown table: ocr_line \(did you mean ocr_lines"):
        vr.export(source, tmp_path / "out", tables=["ocr_line"])
    result = CliRunner().invoke(main, ["export", str(source), "x", "--tables", "ocr_line"])
    assert result.exit_code == 2 and "did you mean ocr_lines?" in result.output
    res = vr.open(source, tables=["labels"], progress=False)
    with pytest.raises(vr.UsageError, match=r"did you mean ocr_lines\?"):
        res.table("ocr_line")
    with pytest.raises(vr.UsageError, match=re.escape("tables=[..., 'ocr_lines']")):
        res.table("ocr_lines")  # a real table, not read: the advice works


def test_empty_tables_option_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["export", str(tmp_path), str(tmp_path / "o"), "--tables", ""]
    )
    assert result.exit_code == 2 and "--tables needs at least one table name" in result.output
    with pytest.raises(vr.UsageError, match="no table names given"):
        vr.export(tmp_path, tmp_path / "o", tables=[])


def test_the_feature_names_are_the_clients_and_a_wrong_one_is_refused() -> None:
    assert set(FEATURES) == {t.name for t in vision.Feature.Type} - {"TYPE_UNSPECIFIED"}
    result = CliRunner().invoke(
        main, ["submit", "gs://b/i.jpg", "--output", "gs://b/o/", "--features", "LABELS"]
    )
    assert result.exit_code == 2 and "unknown feature type 'LABELS'" in result.output


# --- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Hello, this is a scan of page 1", "not JSON: it starts with 'Hello, this is a scan"),
        (b"", "empty file (0 bytes)"),
        (b" \n", "only whitespace (2 bytes)"),
    ],
)
def test_text_that_is_not_json_is_said_so_naming_the_file(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = tmp_path / "page1.json"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["export", str(path), str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {path}: ")
    assert message in result.output and "byte 0" not in result.output


# --- help --------------------------------------------------------------------------


def test_export_help_has_examples_exit_codes_and_whole_table_names() -> None:
    text = CliRunner().invoke(main, ["export", "--help"], terminal_width=80).output
    assert "vision-results export gs://my-bucket/vision-output/ tables/" in text
    for code in ("0", "1", "2", "3"):
        assert re.search(rf"^\s+{code}  \S", text, re.MULTILINE), code
    words = set(re.findall(r"[a-z_]+", text))
    assert set(TABLE_NAMES) <= words  # no table name is cut by the wrapping
    assert "only these are written" in " ".join(text.split())


def test_submit_help_marks_output_required_and_lists_the_features() -> None:
    text = CliRunner().invoke(main, ["submit", "--help"], terminal_width=80).output
    assert "Required, except with --retry-failed" in text
    flat = " ".join(text.split())
    assert all(feature in flat for feature in FEATURES)
    assert "credentials" in flat and "project" in flat


def test_check_of_an_opened_source_points_at_what_the_user_can_see(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for k in range(12):
        (source / f"notes-{k}.txt").write_text("x")
    (source / "a.json").write_bytes(orjson.dumps({"responses": [{}]}))
    text = str(vr.open(source, progress=False).check())
    assert "and 2 more (ignored_objects in res.check())" in text
    assert "_export.json" not in text


def test_click_help_formatter_width_is_what_the_test_assumes() -> None:
    assert click.formatting.HelpFormatter(width=None).width <= 80
