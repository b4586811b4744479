"""res.summary(): text in a terminal, an HTML table in a notebook, the same facts."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq

import vision_results as vr
from vision_results.synth import SAMPLE_IMAGES, SAMPLE_SEED, write_sample


def test_summary_counts_what_the_tables_hold(tmp_path: Path) -> None:
    write_sample(tmp_path / "src", images=SAMPLE_IMAGES, seed=SAMPLE_SEED)
    res = vr.open(tmp_path / "src", progress=False)
    summary = res.summary(top=3)
    labels = pq.read_table(res.path / "labels").to_pandas()
    expected = labels.groupby("description")["uri"].nunique().sort_values(ascending=False)
    assert [n for _, n in summary.top_labels] == list(expected.head(3))
    errors = pq.read_table(res.path / "errors").to_pandas()
    assert sum(summary.errors.values()) == len(errors) > 0
    assert summary.rows["ocr_words"] == pq.read_table(res.path / "ocr_words").num_rows
    text = str(summary)
    assert "status     complete" in text and f"responses  {res.report.images:,}" in text
    first_label, images = summary.top_labels[0]
    assert f"  {first_label}" in text and text.splitlines()[-3].endswith(f"{images:,}")
    page = summary._repr_html_()
    assert page.startswith('<table class="vision-results-summary">')
    assert f'<td style="text-align:right">{images:,}</td>' in page
    assert "top labels (images)" in page and "errors by code" in page


def test_summary_says_what_is_missing_and_escapes_html(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "output-1-to-1.json").write_bytes(
        b'{"responses": [{"labelAnnotations": [{"description": "<b>cat</b>", "score": 1}]}]}'
    )
    (source / "output-2-to-2.json").write_bytes(b"{broken")
    summary = vr.open(source, on_error="skip", progress=False).summary()
    assert "status     1 shards skipped" in str(summary)
    assert "&lt;b&gt;cat&lt;/b&gt;" in summary._repr_html_()


def test_summary_shows_unrecognised_responses_and_unknown_fields(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "output-1-to-2.json").write_bytes(
        b'{"responses": [{"labels": ["cat"]}, {"labelAnnotations": [], "newField": 1}]}'
    )
    summary = vr.open(source, progress=False).summary()
    text = str(summary)
    assert "status     1 responses not recognised" in text
    assert "unknown fields (not exported)\n  AnnotateImageResponse.newField  1" in text


def test_the_command_line_and_res_summary_list_the_same_tables(tmp_path: Path) -> None:
    """Tables with rows one a line, the empty ones counted in one line, both ways."""
    from click.testing import CliRunner

    from vision_results.cli import main

    source = tmp_path / "src"
    source.mkdir()
    (source / "output-1-to-1.json").write_bytes(
        b'{"responses": [{"labelAnnotations": [{"description": "cat", "score": 1}]}]}'
    )
    printed = CliRunner().invoke(main, ["export", str(source), str(tmp_path / "out")]).output
    empty = [name for name in vr.TABLE_NAMES if name not in ("images", "labels")]
    line = f"  {len(empty)} empty: {', '.join(empty)}"
    assert line in printed.splitlines()
    assert "  labels" in printed and "faces  " not in printed
    summary = str(vr.open(source, progress=False).summary())
    assert f"  {len(empty)} empty  {', '.join(empty)}" in summary.splitlines()
    assert re.search(r"^  labels +1$", summary, re.MULTILINE)
    assert not re.search(r"^  faces +0$", summary, re.MULTILINE)
