"""A gs:// DEST, against fake-gcs-server: written atomically by the local engine,
killed and resumed, brought up to date; the same tables as a local DEST."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from google.cloud import storage

import vision_results as vr
from tests.conftest import read_tables
from tests.fault_proxy import FaultProxy
from vision_results.cli import main
from vision_results.storage import gcs_filesystem
from vision_results.synth import write_sample

BUCKET = "dest-bucket"


@pytest.fixture(scope="module")
def emulator(gcs_server: str, gcs_client: storage.Client) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", gcs_server)
        gcs_client.create_bucket(BUCKET)
        yield gcs_server


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dest-shards")
    write_sample(folder, images=160, seed=5, batch_size=4, documents=0, words_per_image=60)
    return folder / "images"


@pytest.fixture(scope="module")
def clean(shards: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    dest = tmp_path_factory.mktemp("dest-clean") / "out"
    vr.export(shards, dest, progress=False)
    return read_tables(dest)


def gcs_tables(prefix: str) -> dict[str, pa.Table]:
    fs = gcs_filesystem()
    return {
        name: pq.read_table(f"{BUCKET}/{prefix}/{name}", filesystem=fs) for name in vr.TABLE_NAMES
    }


def names(client: storage.Client, prefix: str) -> list[str]:
    return sorted(blob.name for blob in client.list_blobs(BUCKET, prefix=prefix))


def test_the_local_engine_writes_a_gs_dest(
    emulator: str, gcs_client: storage.Client, shards: Path, clean: dict[str, pa.Table]
) -> None:
    report = vr.export(shards, f"gs://{BUCKET}/run1/tables", progress=False)
    got = gcs_tables("run1/tables")
    assert all(got[name].equals(clean[name]) for name in vr.TABLE_NAMES)
    written = names(gcs_client, "run1/")
    assert all(name.startswith("run1/tables/") for name in written)  # no staging left
    record = gcs_client.bucket(BUCKET).blob("run1/tables/_export.json").download_as_bytes()
    assert vr.ExportReport.from_json(record).rows == report.rows
    assert "run1/tables/_answers/part-00000.parquet" in written
    with pytest.raises(vr.DestinationError, match="already holds objects"):
        vr.export(shards, f"gs://{BUCKET}/run1/tables", progress=False)
    vr.export(shards, f"gs://{BUCKET}/run1/tables", tables=["labels"], overwrite=True)
    assert {n.split("/")[2] for n in names(gcs_client, "run1/")} == {
        "labels", "_answers", "_export.json",
    }  # fmt: skip


def test_a_gs_export_opens_as_it_is_and_copies_back(
    emulator: str, gcs_client: storage.Client, shards: Path, clean: dict[str, pa.Table],
    tmp_path: Path,
) -> None:  # fmt: skip
    report = vr.export(shards, f"gs://{BUCKET}/opened/tables", progress=False)
    before = names(gcs_client, "opened/")
    res = vr.open(f"gs://{BUCKET}/opened/tables", progress=False)
    assert res.path == f"{BUCKET}/opened/tables"  # read in place: no cache copy
    assert res.check() == report and res.check().complete
    assert (
        pa.Table.from_pandas(res.labels, preserve_index=False)
        .cast(clean["labels"].schema)
        .equals(clean["labels"])
    )
    assert res.dataset("ocr_words").to_table().equals(clean["ocr_words"])
    res.to_parquet(tmp_path / "copy")
    assert read_tables(tmp_path / "copy") == clean
    only = vr.open(f"gs://{BUCKET}/opened/tables/", tables=["objects"], progress=False)
    assert only.tables == ["objects"] and len(only.objects) == clean["objects"].num_rows
    with pytest.raises(vr.UsageError, match="has no table 'nope'"):
        vr.open(f"gs://{BUCKET}/opened/tables", tables=["nope"], progress=False)
    assert names(gcs_client, "opened/") == before  # nothing written or removed
    # A prefix of shards is still a source, read into a cache.
    vr.export(shards, f"gs://{BUCKET}/opened/tables", overwrite=True, progress=False)


def staging_progress(client: storage.Client, prefix: str) -> list[str]:
    """The shards the newest checkpoint under the staging prefix records."""
    blobs = [
        b for b in client.list_blobs(BUCKET, prefix=prefix) if b.name.endswith("_progress.json")
    ]
    if not blobs:
        return []
    data = json.loads(blobs[0].download_as_bytes())
    return [s["name"] for s in data["report"]["shards"]]


def test_a_killed_export_to_gs_resumes_to_the_same_tables(
    emulator: str, gcs_client: storage.Client, shards: Path, clean: dict[str, pa.Table]
) -> None:
    dest = f"gs://{BUCKET}/run2/tables"
    command = [sys.executable, "-m", "vision_results.cli", "export", str(shards), dest]
    options = ["-q", "--workers", "1", "--checkpoint-mb", "1"]
    process = subprocess.Popen([*command, *options], env={**os.environ})
    deadline = time.monotonic() + 60
    while len(staging_progress(gcs_client, "run2/.tables.partial-")) < 8:
        assert time.monotonic() < deadline and process.poll() is None, "ended before the kill"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert names(gcs_client, "run2/tables") == []  # nothing under a final name
    done = staging_progress(gcs_client, "run2/.tables.partial-")
    result = CliRunner().invoke(main, ["export", str(shards), dest, "-q", "--resume"])
    assert result.exit_code == 0, result.output
    got = gcs_tables("run2/tables")
    for name in vr.TABLE_NAMES:
        key = [f.name for f in clean[name].schema if not pa.types.is_nested(f.type)]
        order = [(column, "ascending") for column in key]
        assert got[name].sort_by(order).equals(clean[name].sort_by(order)), name
    report = vr.ExportReport.from_json(
        gcs_client.bucket(BUCKET).blob("run2/tables/_export.json").download_as_bytes()
    )
    assert report.reused_shards == len(done) >= 8
    assert report.bytes_read == sum(s.size for s in report.shards if s.name not in done)
    assert names(gcs_client, "run2/.tables.partial-") == []


def test_a_finished_gs_export_is_brought_up_to_date(
    emulator: str, gcs_client: storage.Client, shards: Path, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    paths = sorted(shards.glob("*.json"))
    for path in paths[:20]:
        (source / path.name).write_bytes(path.read_bytes())
    dest = f"gs://{BUCKET}/run3/tables"
    first = vr.export(source, dest, progress=False)
    for path in paths[20:30]:
        (source / path.name).write_bytes(path.read_bytes())
    again = vr.export(source, dest, resume=True, progress=False)
    assert (first.images, again.reused_shards, len(again.shards)) == (80, 20, 30)
    assert again.bytes_read == sum(path.stat().st_size for path in paths[20:30])
    vr.export(source, tmp_path / "fresh", progress=False)
    fresh = read_tables(tmp_path / "fresh")
    got = gcs_tables("run3/tables")
    assert all(got[name].num_rows == fresh[name].num_rows for name in vr.TABLE_NAMES)
    assert sorted(got["images"]["uri"].to_pylist()) == sorted(fresh["images"]["uri"].to_pylist())


def test_a_refused_upload_says_who_may_not_write_and_leaves_nothing(
    shards: Path, fault_proxy: FaultProxy, gcs_client: storage.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    bucket = gcs_client.create_bucket("dest-refused").name
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fault_proxy.url)
    fault_proxy.fail(f"/upload/storage/v1/b/{bucket}/o", status=403, times=None)
    result = CliRunner().invoke(main, ["export", str(shards), f"gs://{bucket}/tables", "-q"])
    assert result.exit_code == 1
    message = result.output.strip()
    assert message.startswith(f"error: gs://{bucket}/tables: writing the export failed: ")
    assert f"may not write to bucket {bucket}: grant them roles/storage.objectUser" in message
    assert "Traceback" not in result.output
    assert list(gcs_client.list_blobs(bucket)) == []


def test_an_unwritable_local_dest_is_a_destination_error(shards: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(vr.DestinationError) as raised:
        vr.export(shards, tmp_path / "file" / "tables", progress=False)
    assert str(raised.value).startswith(f"{tmp_path / 'file' / 'tables'}: cannot make the staging")
    assert "Check the free space and the permissions of" in str(raised.value)
