"""The Dask engine on a LocalCluster of 2 worker processes against fake-gcs-server:
every table equals the single-machine export's, and so does _export.json."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster
from google.cloud import storage

import vision_results as vr
import vision_results.distributed as engine
from tests.conftest import BAD_SHARD, read_tables
from tests.gcs_server import upload_bytes, upload_tree
from vision_results.cli import main
from vision_results.report import ExportReport
from vision_results.source import GcsSource, storage_client
from vision_results.synth import write_sample

SOURCE_BUCKET = "dask-source"
OUT_BUCKET = "dask-out"


@pytest.fixture(scope="module")
def emulator_env(gcs_server: str) -> Iterator[str]:
    """STORAGE_EMULATOR_HOST for this process and, set before the cluster starts,
    for the worker processes it spawns."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", gcs_server)
        # About two shards a task, so that every export here runs several tasks.
        patch.setattr(engine, "TASK_BYTES", 1_100_000)
        yield gcs_server


@pytest.fixture(scope="module")
def cluster(emulator_env: str) -> Iterator[LocalCluster]:
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    ) as local_cluster:
        yield local_cluster


@pytest.fixture(scope="module")
def dask_client(cluster: LocalCluster) -> Iterator[Client]:
    with Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 shards (6 of images, 2 of PDF pages), about half a megabyte each."""
    folder = tmp_path_factory.mktemp("dask-sample")
    write_sample(folder, images=60, seed=4, batch_size=10)
    return folder


@pytest.fixture(scope="module")
def source_url(gcs_client: storage.Client, sample: Path, emulator_env: str) -> str:
    upload_tree(gcs_client, sample, SOURCE_BUCKET, "good")
    gcs_client.create_bucket(OUT_BUCKET)
    return f"gs://{SOURCE_BUCKET}/good"


@pytest.fixture(scope="module")
def bad_url(gcs_client: storage.Client, sample: Path, emulator_env: str) -> str:
    """The sample with one shard that is not JSON."""
    upload_tree(gcs_client, sample, SOURCE_BUCKET, "bad")
    upload_bytes(gcs_client, SOURCE_BUCKET, {f"bad/{BAD_SHARD}": b'{"responses": [truncated'})
    return f"gs://{SOURCE_BUCKET}/bad"


def local_export(url: str, dest: Path, **options: Any) -> tuple[ExportReport, dict[str, pa.Table]]:
    report = vr.export(url, dest, progress=False, **options)
    return report, read_tables(dest)


@pytest.fixture(scope="module")
def reference(
    source_url: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ExportReport, dict[str, pa.Table]]:
    """The single-machine export of the same source."""
    return local_export(source_url, tmp_path_factory.mktemp("reference") / "tables")


def record(report: ExportReport) -> dict[str, Any]:
    """Everything an export reports but how long it took."""
    return {k: v for k, v in asdict(report).items() if k != "seconds"}


def assert_same_export(
    got: dict[str, pa.Table], got_record: bytes, want: tuple[ExportReport, dict[str, pa.Table]]
) -> None:
    report, tables = want
    assert set(got) == set(vr.TABLE_NAMES)
    for name in vr.TABLE_NAMES:
        assert got[name].num_rows == report.rows[name], name
        assert got[name].equals(tables[name]), name
    assert record(ExportReport.from_json(got_record)) == record(report)


def test_the_workers_see_the_emulator(dask_client: Client, emulator_env: str) -> None:
    seen = dask_client.run(os.environ.get, "STORAGE_EMULATOR_HOST")
    assert len(seen) == 2
    assert set(seen.values()) == {emulator_env}
    pids = dask_client.run(os.getpid)
    assert os.getpid() not in pids.values()


def test_gcs_source_to_a_local_folder(
    cluster: LocalCluster,
    source_url: str,
    reference: tuple[ExportReport, dict[str, pa.Table]],
    tmp_path: Path,
) -> None:
    dest = tmp_path / "tables"
    report = vr.export(
        source_url, dest, engine="dask", scheduler=cluster.scheduler_address, progress=False
    )
    assert record(report) == record(reference[0])
    assert report.rows["labels"] > 0 and report.rows["ocr_words"] > 0
    assert_same_export(read_tables(dest), (dest / "_export.json").read_bytes(), reference)
    # Part files named by task, so their names sort in shard order; several tasks ran.
    parts = sorted(path.name for path in (dest / "images").iterdir())
    tasks = engine.plan_tasks(GcsSource(source_url, storage_client()).list().shards)
    assert len(parts) == len(tasks) > 3
    assert all(name.startswith("part-") and name.endswith("-00000.parquet") for name in parts)
    assert sorted(os.listdir(tmp_path)) == ["tables"]  # the staging folder is gone


def test_gcs_source_to_gcs_dest_and_overwrite(
    dask_client: Client,
    gcs_client: storage.Client,
    source_url: str,
    reference: tuple[ExportReport, dict[str, pa.Table]],
) -> None:
    dest = f"gs://{OUT_BUCKET}/runs/tables"
    vr.export(source_url, dest, engine="dask", scheduler=dask_client, progress=False)
    fs = engine.gcs_filesystem()
    root = dest.removeprefix("gs://")
    got = {name: pq.read_table(f"{root}/{name}", filesystem=fs) for name in vr.TABLE_NAMES}
    with fs.open_input_stream(f"{root}/_export.json") as stream:
        assert_same_export(got, stream.read(), reference)
    names = [blob.name for blob in gcs_client.list_blobs(OUT_BUCKET)]
    assert all(name.startswith("runs/tables/") for name in names)  # no staging left

    with pytest.raises(vr.DestinationError, match="already holds objects"):
        vr.export(source_url, dest, engine="dask", scheduler=dask_client, progress=False)

    # Overwriting with fewer tables leaves only the new export's objects.
    vr.export(
        source_url, dest, tables=["labels"], engine="dask", scheduler=dask_client,
        overwrite=True, keep_all=True, progress=False,
    )  # fmt: skip
    names = {blob.name.removeprefix("runs/tables/") for blob in gcs_client.list_blobs(OUT_BUCKET)}
    assert {name.partition("/")[0] for name in names} == {"labels", "_answers", "_export.json"}
    labels = pq.read_table(f"{root}/labels", filesystem=fs)
    assert labels.equals(reference[1]["labels"])


def test_local_source_folder(
    dask_client: Client,
    sample: Path,
    reference: tuple[ExportReport, dict[str, pa.Table]],
    tmp_path: Path,
) -> None:
    report = vr.export(sample, tmp_path / "t", engine="dask", scheduler=dask_client)
    assert report.source == str(sample)
    assert [s.name for s in report.shards] == [s.name for s in reference[0].shards]
    got = read_tables(tmp_path / "t")
    for name in vr.TABLE_NAMES:
        assert got[name].equals(reference[1][name]), name


def test_open_then_to_parquet_on_the_cluster(
    dask_client: Client,
    gcs_client: storage.Client,
    source_url: str,
    reference: tuple[ExportReport, dict[str, pa.Table]],
) -> None:
    res = vr.open(source_url, tables=["images", "errors"], progress=False)
    dest = f"gs://{OUT_BUCKET}/from-results"
    assert res.to_parquet(dest, engine="dask", scheduler=dask_client) == dest
    fs = engine.gcs_filesystem()
    for name in ["images", "errors"]:
        table = pq.read_table(f"{OUT_BUCKET}/from-results/{name}", filesystem=fs)
        assert table.equals(reference[1][name]), name
    assert not fs.get_file_info(f"{OUT_BUCKET}/from-results/labels").is_file


def test_bad_shard_skipped_as_the_local_engine_does(
    cluster: LocalCluster, bad_url: str, tmp_path: Path
) -> None:
    want = local_export(bad_url, tmp_path / "local", on_error="skip")
    assert [s.name for s in want[0].skipped_shards] == [BAD_SHARD]
    dest = tmp_path / "dask"
    vr.export(
        bad_url, dest, on_error="skip", engine="dask", scheduler=cluster.scheduler_address,
        progress=False,
    )  # fmt: skip
    assert_same_export(read_tables(dest), (dest / "_export.json").read_bytes(), want)


@pytest.mark.parametrize("where", ["local", "gcs"])
def test_bad_shard_raises_naming_it_and_leaves_nothing(
    dask_client: Client,
    gcs_client: storage.Client,
    bad_url: str,
    tmp_path: Path,
    where: str,
) -> None:
    dest = str(tmp_path / "tables") if where == "local" else f"gs://{OUT_BUCKET}/failed"
    with pytest.raises(vr.ShardError, match=BAD_SHARD) as raised:
        vr.export(bad_url, dest, engine="dask", scheduler=dask_client, progress=False)
    assert raised.value.shard == f"{bad_url}/{BAD_SHARD}"
    assert os.listdir(tmp_path) == []
    assert [b.name for b in gcs_client.list_blobs(OUT_BUCKET) if "failed" in b.name] == []


def test_cli_exports_on_the_cluster(
    cluster: LocalCluster,
    source_url: str,
    reference: tuple[ExportReport, dict[str, pa.Table]],
    tmp_path: Path,
) -> None:
    dest = tmp_path / "cli"
    result = CliRunner().invoke(
        main,
        ["export", "--engine", "dask", "--scheduler", cluster.scheduler_address, source_url,
         str(dest)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"images   {reference[0].images} responses" in result.stdout
    assert f"wrote    {dest}" in result.stdout
    assert_same_export(read_tables(dest), (dest / "_export.json").read_bytes(), reference)


def test_cli_dask_without_scheduler_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--engine", "dask", "src", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert "--engine dask needs --scheduler ADDRESS" in result.output
    assert not (tmp_path / "d").exists()


def test_without_distributed_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, sample: Path, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(vr.VisionResultsError, match=r"pip install 'vision-results\[dask\]'"):
        vr.export(sample, tmp_path / "d", engine="dask", scheduler="tcp://127.0.0.1:1")
    assert not (tmp_path / "d").exists()


def test_an_image_answered_twice_keeps_the_same_answer_as_the_local_engine(
    dask_client: Client, gcs_client: storage.Client, sample: Path, tmp_path: Path
) -> None:
    """A resubmission uploaded after the first answers (a newer generation): one
    answer per image, from the same shard as the local engine, also on gs://."""
    first = sorted((sample / "images").glob("*.json"))[0]
    data = json.loads(first.read_bytes())
    data["responses"][0] = {"error": {"code": 14}, "context": data["responses"][0]["context"]}
    upload_bytes(gcs_client, SOURCE_BUCKET, {f"twice/first/{first.name}": first.read_bytes()})
    upload_bytes(
        gcs_client, SOURCE_BUCKET, {f"twice/retry/{first.name}": json.dumps(data).encode()}
    )
    url = f"gs://{SOURCE_BUCKET}/twice"
    want = local_export(url, tmp_path / "local")
    assert want[0].superseded == 10
    dest = f"gs://{OUT_BUCKET}/twice/tables"
    vr.export(url, dest, engine="dask", scheduler=dask_client, progress=False)
    fs, root = engine.gcs_filesystem(), dest.removeprefix("gs://")
    got = {name: pq.read_table(f"{root}/{name}", filesystem=fs) for name in vr.TABLE_NAMES}
    for name in vr.TABLE_NAMES:
        order = [(c, "ascending") for c in ("shard", "response_index")]
        assert got[name].sort_by(order).equals(want[1][name].sort_by(order)), name
    with fs.open_input_stream(f"{root}/_export.json") as stream:
        assert ExportReport.from_json(stream.read()).superseded == 10


def staged_progress(client: storage.Client, bucket: str, prefix: str) -> list[str]:
    """The shards the checkpoint under a staging prefix records."""
    blobs = [
        b for b in client.list_blobs(bucket, prefix=prefix) if b.name.endswith("_progress.json")
    ]
    data = json.loads(blobs[0].download_as_bytes()) if blobs else {}
    return [s["name"] for s in data.get("report", {}).get("shards", [])]


def test_a_killed_dask_export_to_gs_resumes_to_the_same_tables(
    cluster: LocalCluster,
    dask_client: Client,
    gcs_client: storage.Client,
    source_url: str,
    reference: tuple[ExportReport, dict[str, pa.Table]],
) -> None:
    dest = f"gs://{OUT_BUCKET}/killed/tables"
    args = ["export", source_url, dest, "-q", "--engine", "dask", "--scheduler",
            cluster.scheduler_address, "--checkpoint-mb", "1"]  # fmt: skip
    # Small tasks in the client process too, so that it checkpoints before the end.
    code = (
        "import sys, vision_results.distributed as engine; engine.TASK_BYTES = 600_000; "
        "from vision_results.cli import main; main(sys.argv[1:])"
    )
    process = subprocess.Popen([sys.executable, "-c", code, *args])
    deadline = time.monotonic() + 60
    while not staged_progress(gcs_client, OUT_BUCKET, "killed/.tables.partial-"):
        assert time.monotonic() < deadline and process.poll() is None, "ended before the kill"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert list(gcs_client.list_blobs(OUT_BUCKET, prefix="killed/tables")) == []
    done = staged_progress(gcs_client, OUT_BUCKET, "killed/.tables.partial-")
    report = vr.export(
        source_url, dest, engine="dask", scheduler=dask_client, resume=True, progress=False
    )
    assert report.reused_shards == len(done) > 0
    fs = engine.gcs_filesystem()
    got = {
        n: pq.read_table(f"{OUT_BUCKET}/killed/tables/{n}", filesystem=fs) for n in vr.TABLE_NAMES
    }
    want = reference[1]
    for name in vr.TABLE_NAMES:
        key = [(f.name, "ascending") for f in want[name].schema if not pa.types.is_nested(f.type)]
        assert got[name].sort_by(key).equals(want[name].sort_by(key)), name
    assert list(gcs_client.list_blobs(OUT_BUCKET, prefix="killed/.tables.partial-")) == []


def test_a_finished_dask_export_is_brought_up_to_date(
    dask_client: Client, sample: Path, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    shards = sorted((sample / "images").glob("*.json"))
    (source / "images").mkdir(parents=True)
    for path in shards[:3]:
        (source / "images" / path.name).write_bytes(path.read_bytes())
    dest = tmp_path / "tables"
    vr.export(source, dest, engine="dask", scheduler=dask_client, progress=False)
    for path in shards[3:]:
        (source / "images" / path.name).write_bytes(path.read_bytes())
    again = vr.export(
        source, dest, engine="dask", scheduler=dask_client, resume=True, progress=False
    )
    assert (again.reused_shards, len(again.shards)) == (3, len(shards))
    assert again.bytes_read == sum(path.stat().st_size for path in shards[3:])
    fresh = vr.export(source, tmp_path / "fresh", progress=False)
    assert again.rows == fresh.rows


@pytest.mark.parametrize("where", ["local", "dask"])
def test_every_option_is_honoured_or_refused(
    dask_client: Client, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:  # fmt: skip
    """Each engine runs with every option set: what they do shows in the result, and
    the Dask tasks ran with the client's options, whole."""
    import distributed

    from vision_results.options import ExportOptions

    tasks: list[engine.TaskReport] = []
    finishing = distributed.as_completed

    def collect(futures: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for future in finishing(futures, *args, **kwargs):
            tasks.append(future.result())
            yield future

    monkeypatch.setattr(distributed, "as_completed", collect)
    source = tmp_path / "src"
    shards = sorted((sample / "images").glob("*.json"))
    (source / "images").mkdir(parents=True)
    for i, path in enumerate(shards):
        (source / "images" / path.name.replace("output-", "answer-" if i % 2 else "output-"))\
            .write_bytes(path.read_bytes())  # fmt: skip
    (source / "images" / "output-9999-to-9999.json").write_bytes(b"{not json")
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "old.txt").write_text("overwritten")
    options: dict[str, Any] = {
        "tables": ["labels", "errors"], "on_error": "skip", "workers": 3, "overwrite": True,
        "keep_all": True, "progress": False, "checkpoint_bytes": 2 << 20,
        "max_shard_bytes": 100 << 20, "retry_deadline": 33.0, "include": ["output-*.json"],
    }  # fmt: skip
    extra = {"scheduler": dask_client} if where == "dask" else {}
    report = vr.export(source, tmp_path / "dest", engine=where, **extra, **options)
    included = sorted(f"images/{p.name}" for p in (source / "images").glob("output-*.json"))
    assert report.tables == ["labels", "errors"] and report.keep_all
    read = sorted(s.name for s in report.shards)
    assert read == [name for name in included if "9999" not in name] and len(read) > 1
    assert [s.name for s in report.skipped_shards] == ["images/output-9999-to-9999.json"]
    assert sorted(os.listdir(tmp_path / "dest")) == ["_answers", "_export.json", "errors", "labels"]
    if where == "dask":
        want = ExportOptions.of(engine="dask", **options)
        assert len(tasks) > 1 and all(task.options == want for task in tasks)
    else:
        assert tasks == []
    assert set(options) | {"engine", "processes", "resume"} == {
        f.name for f in dataclasses.fields(ExportOptions)
    }
    refused = {"processes": 2} if where == "dask" else {}
    for name, value in refused.items():
        with pytest.raises(vr.UsageError, match=f"{name} is for the local engine"):
            vr.export(source, tmp_path / "x", **extra, engine=where, **{name: value})
    with pytest.raises(vr.UsageError, match="max_shard_bytes must be at least 1"):
        vr.export(source, tmp_path / "x", engine=where, **extra, max_shard_bytes=0)
    assert not (tmp_path / "x").exists()
