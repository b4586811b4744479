"""Interrupted and repeated exports end with the tables of one clean export.

- ``--resume`` after a SIGKILL at several moments: same tables as an
  uninterrupted run, and the shards recorded before the kill are not read again;
- a finished export brought up to date: new shards added, changed ones re-read
  with their old rows replaced, removed ones' rows gone; only those are read;
- an image answered twice keeps one answer per (uri, page_number), the latest
  successful one, unless ``keep_all``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from google.cloud import storage

import vision_results as vr
from vision_results.cli import main
from vision_results.resume import PROGRESS
from vision_results.source import shard_order
from vision_results.synth import write_sample

from .conftest import read_tables


def rows(dest: Path) -> dict[str, pa.Table]:
    """Every table, its rows in a canonical order: a re-read shard's rows come last."""
    tables = read_tables(dest)
    return {
        name: table.sort_by(
            [(f.name, "ascending") for f in table.schema if not pa.types.is_nested(f.type)]
        )
        for name, table in tables.items()
    }


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shards")
    write_sample(folder, images=240, seed=3, batch_size=4, documents=0, words_per_image=60)
    return folder / "images"


@pytest.fixture(scope="module")
def clean(shards: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("clean") / "out"
    vr.export(shards, dest, processes=0)
    return dest


def recorded(staging: Path) -> list[str]:
    data = (staging / PROGRESS).read_bytes() if (staging / PROGRESS).exists() else b"{}"
    return [s["name"] for s in json.loads(data or b"{}").get("report", {}).get("shards", [])]


@pytest.mark.parametrize("kill_after", [0, 1, 25, 50], ids=lambda n: f"after-{n}-shards")
def test_killed_export_resumes_to_the_same_tables(
    shards: Path, clean: Path, tmp_path: Path, kill_after: int
) -> None:
    dest = tmp_path / "out"
    command = [sys.executable, "-m", "vision_results.cli", "export", str(shards), str(dest)]
    options = ["-q", "--workers", "1", "--processes", "0", "--checkpoint-mb", "1"]
    process = subprocess.Popen([*command, *options])
    deadline = time.monotonic() + 60
    while True:  # kill once the checkpoint records at least `kill_after` shards
        assert time.monotonic() < deadline and process.poll() is None, "ended before the kill"
        staging = next(tmp_path.glob(".out.partial-*"), None)
        if (
            staging is not None
            and (staging / PROGRESS).exists()
            and len(recorded(staging)) >= kill_after
        ):
            break
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not dest.exists()
    done = recorded(staging)
    result = CliRunner().invoke(main, ["export", str(shards), str(dest), "-q", "--resume"])
    assert result.exit_code == 0, result.output
    assert rows(dest) == rows(clean)
    report = vr.ExportReport.from_json((dest / "_export.json").read_bytes())
    assert report.reused_shards == len(done) >= kill_after
    assert report.bytes_read == sum(s.size for s in report.shards if s.name not in done)
    assert report.images == 240
    assert not list(tmp_path.glob(".out.partial-*"))


def test_a_failed_export_with_resume_keeps_its_work(shards: Path, tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(shards, source)
    bad = max(source.glob("*.json"), key=lambda p: shard_order(p.name))
    good = bad.read_bytes()
    bad.write_bytes(b"{broken")
    dest = tmp_path / "out"
    with pytest.raises(vr.ShardError, match=bad.name):
        vr.export(source, dest, resume=True, processes=0)
    staging = next(tmp_path.glob(".out.partial-*"))
    assert len(recorded(staging)) == 59  # every shard before the bad one
    bad.write_bytes(good)
    report = vr.export(source, dest, resume=True, processes=0)
    assert report.reused_shards == 59
    assert [s.name for s in report.shards[59:]] == [bad.name]
    assert report.images == 240


def test_finished_export_is_brought_up_to_date(shards: Path, tmp_path: Path) -> None:
    source = tmp_path / "src"
    names = sorted(p.name for p in shards.glob("*.json"))
    source.mkdir()
    for name in names[:30]:
        shutil.copy(shards / name, source / name)
    dest = tmp_path / "out"
    vr.export(source, dest, processes=0)
    before = (dest / "labels").stat().st_ino

    for name in names[30:]:  # a job still writing: more shards appear
        shutil.copy(shards / name, source / name)
    changed = source / names[3]  # and one is rewritten (a new generation)
    data = json.loads(changed.read_bytes())
    data["responses"][0]["labelAnnotations"] = [{"description": "rewritten", "score": 0.9}]
    changed.write_bytes(json.dumps(data).encode())
    gone = source / names[5]
    gone.unlink()

    report = vr.export(source, dest, resume=True, processes=0)
    assert report.reused_shards == 30 - 2
    assert sorted(report.replaced_shards) == sorted([names[3], names[5]])
    read_now = {s.name for s in report.shards[report.reused_shards :]}
    assert read_now == set(names[30:]) | {names[3]}
    assert report.bytes_read == sum((source / n).stat().st_size for n in read_now)

    fresh = tmp_path / "fresh"
    vr.export(source, fresh, processes=0)
    assert rows(dest) == rows(fresh)
    labels = pq.read_table(dest / "labels").to_pylist()
    assert [
        r["description"] for r in labels if r["shard"] == names[3] and r["response_index"] == 0
    ] == ["rewritten"]
    assert not [r for r in labels if r["shard"] == names[5]]
    assert (dest / "labels").stat().st_ino != before  # DEST was replaced, not edited in place

    again = vr.export(source, dest, resume=True, processes=0)
    assert (again.bytes_read, again.replaced_shards) == (0, [])
    assert rows(dest) == rows(fresh)


def test_resume_refuses_another_source_or_other_tables(shards: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    vr.export(shards, dest, tables=["labels"], processes=0)
    with pytest.raises(vr.DestinationError, match=r"same SOURCE with the same tables.*--overwrite"):
        vr.export(shards, dest, tables=["faces"], resume=True)


def test_gcs_generations_tell_changed_shards(
    shards: Path, gcs_client: storage.Client, bucket_name: str, tmp_path: Path
) -> None:
    bucket = gcs_client.create_bucket(bucket_name)
    names = sorted(p.name for p in shards.glob("*.json"))[:12]
    for name in names[:10]:
        bucket.blob(f"run/{name}").upload_from_filename(shards / name)
    dest = tmp_path / "out"
    url = f"gs://{bucket_name}/run/"
    vr.export(url, dest, client=gcs_client, processes=0)
    for name in names[10:]:
        bucket.blob(f"run/{name}").upload_from_filename(shards / name)
    bucket.blob(f"run/{names[0]}").upload_from_filename(
        shards / names[0]
    )  # same bytes, new generation
    report = vr.export(url, dest, client=gcs_client, resume=True, processes=0)
    assert report.replaced_shards == [names[0]]
    assert {s.name for s in report.shards[report.reused_shards :]} == {names[0], *names[10:]}
    fresh = tmp_path / "fresh"
    vr.export(url, fresh, client=gcs_client, processes=0)
    assert rows(dest) == rows(fresh)


def answered_twice(shards: Path, folder: Path) -> tuple[Path, str, str]:
    """A first run and a later resubmission of the same images; in the retry, the
    first image failed and the second got another label. Returns the uris."""
    first = sorted(shards.glob("*.json"))[0]
    (folder / "first").mkdir(parents=True)
    shutil.copy(first, folder / "first" / first.name)
    data = json.loads(first.read_bytes())
    failed, relabelled = (r["context"]["uri"] for r in data["responses"][:2])
    data["responses"][0] = {
        "error": {"code": 14, "message": "try again"},
        "context": data["responses"][0]["context"],
    }
    data["responses"][1]["labelAnnotations"] = [{"description": "second answer", "score": 0.5}]
    (folder / "retry").mkdir()
    retry = folder / "retry" / first.name
    retry.write_bytes(json.dumps(data).encode())
    later = (folder / "first" / first.name).stat().st_mtime_ns + 10**9
    os.utime(retry, ns=(later, later))
    return folder, failed, relabelled


def test_an_image_answered_twice_keeps_the_latest_successful_answer(
    shards: Path, tmp_path: Path
) -> None:
    source, failed, relabelled = answered_twice(shards, tmp_path / "src")
    report = vr.export(source, tmp_path / "out", processes=0)
    images = pq.read_table(tmp_path / "out" / "images").to_pylist()
    assert len(images) == len({r["uri"] for r in images}) == 4
    winner = {r["uri"]: r["shard"] for r in images}
    assert winner[failed].startswith("first/")  # the retry failed: the first answer stays
    assert all(shard.startswith("retry/") for uri, shard in winner.items() if uri != failed)
    labels = pq.read_table(tmp_path / "out" / "labels").to_pylist()
    assert [r["description"] for r in labels if r["uri"] == relabelled] == ["second answer"]
    assert not pq.read_table(tmp_path / "out" / "errors").num_rows
    assert report.superseded == 4 and report.images == 8
    assert "dropped  4 answers superseded" in report.summary()
    for name in vr.TABLE_NAMES:  # every table keeps only the kept answers
        table = pq.read_table(tmp_path / "out" / name).to_pylist()
        assert {(r["uri"], r["shard"]) for r in table} <= set(winner.items()), name

    everything = vr.export(source, tmp_path / "all", processes=0, keep_all=True)
    assert everything.superseded == 0
    assert pq.read_table(tmp_path / "all" / "images").num_rows == 8
    assert pq.read_table(tmp_path / "all" / "errors").num_rows == 1


def test_responses_without_context_are_not_taken_for_duplicates(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "output-1-to-3.json").write_bytes(
        json.dumps(
            {"responses": [{"labelAnnotations": [{"description": d}]} for d in "abc"]}
        ).encode()
    )
    report = vr.export(source, tmp_path / "out")
    assert report.superseded == 0
    assert pq.read_table(tmp_path / "out" / "labels").num_rows == 3


def test_strict_turns_a_skip_into_a_failing_exit(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "output-1-to-1.json").write_bytes(b"{broken")
    args = ["export", str(source), str(tmp_path / "out"), "--on-error", "skip", "-q"]
    assert CliRunner().invoke(main, args).exit_code == 0
    result = CliRunner().invoke(main, [*args, "--overwrite", "--strict"])
    assert result.exit_code == 3
    assert "error: incomplete export (--strict): 1 shards skipped" in result.output


def test_keep_all_is_recorded_and_resumed_with(shards: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    first = vr.export(shards, dest, tables=["labels"], keep_all=True, processes=0)
    assert json.loads((dest / "_export.json").read_bytes())["keep_all"] is True
    again = vr.export(shards, dest, tables=["labels"], keep_all=True, resume=True)
    assert (again.reused_shards, again.bytes_read) == (len(first.shards), 0)
    with pytest.raises(vr.DestinationError, match="--keep-all"):
        vr.export(shards, dest, tables=["labels"], resume=True)


def test_open_keeps_every_answer_when_asked(shards: Path, tmp_path: Path) -> None:
    source, _, _ = answered_twice(shards, tmp_path / "src")
    assert len(vr.open(source, progress=False).images) == 4
    assert len(vr.open(source, keep_all=True, progress=False).images) == 8
