"""GcsSource, export, open and the CLI against a real Cloud Storage emulator over HTTP.

No storage client is mocked: fake-gcs-server (tests/gcs_server.py) serves the
objects, and tests/fault_proxy.py sits in between to inject 503s and corrupt
downloads.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from google.api_core.exceptions import GoogleAPIError
from google.cloud import storage

import vision_results as vr
from tests.conftest import (
    EMPTY_SHARD,
    download_paths,
    read_tables,
)
from tests.fault_proxy import FaultProxy
from tests.gcs_server import upload_bytes
from vision_results.cli import main
from vision_results.report import ExportReport
from vision_results.source import GcsSource
from vision_results.storage import storage_client

# --- listing and paging ------------------------------------------------------------------


def test_list_pages_through_more_than_1000_shards_in_numeric_order(
    gcs_client: storage.Client,
    proxied_client: storage.Client,
    fault_proxy: FaultProxy,
    bucket_name: str,
) -> None:
    count = 1050
    objects = {f"many/output-{k}-to-{k}.json": EMPTY_SHARD for k in range(1, count + 1)}
    objects |= {"many/notes.txt": b"not json", "many/sub/": b"", "many/_export.json": b"{}"}
    # Same prefix, outside it: must not be listed.
    objects |= {"many-more/output-1-to-1.json": EMPTY_SHARD, "other/output-1-to-1.json": b""}
    generations = upload_bytes(gcs_client, bucket_name, objects, workers=8)

    listing = GcsSource(f"gs://{bucket_name}/many/", proxied_client, page_size=100).list()

    names = [shard.name for shard in listing.shards]
    assert names == [f"output-{k}-to-{k}.json" for k in range(1, count + 1)]
    assert names.index("output-2-to-2.json") < names.index("output-10-to-10.json")
    for shard in listing.shards:
        assert shard.location == f"gs://{bucket_name}/many/{shard.name}"
        assert shard.size == len(EMPTY_SHARD)
        assert shard.generation == generations[f"many/{shard.name}"]
    assert len({shard.generation for shard in listing.shards}) == count
    ignored = dict(listing.ignored)
    assert sorted(ignored) == ["_export.json", "notes.txt", "sub/"]
    assert "folder" in ignored["sub/"]
    assert "export record" in ignored["_export.json"]
    assert "output-N-to-M" in ignored["notes.txt"]

    # It really paged: ceil(1053 / 100) list requests of 100, and nothing was downloaded.
    pages = fault_proxy.requests(f"/storage/v1/b/{bucket_name}/o?", method="GET")
    assert len(pages) == math.ceil((count + 3) / 100) == 11
    assert all("maxResults=100" in page.path for page in pages)
    assert all(page.status == 200 for page in pages)
    assert download_paths(fault_proxy, bucket_name) == []


def test_list_orders_range_names_by_number(gcs_client: storage.Client, bucket_name: str) -> None:
    ranges = [(1, 20), (21, 40), (101, 120), (41, 60), (1001, 1020), (81, 100), (61, 80)]
    upload_bytes(
        gcs_client, bucket_name, {f"p/output-{a}-to-{b}.json": EMPTY_SHARD for a, b in ranges}
    )
    listing = GcsSource(f"gs://{bucket_name}/p", gcs_client).list()
    assert [s.name for s in listing.shards] == [
        "output-1-to-20.json",
        "output-21-to-40.json",
        "output-41-to-60.json",
        "output-61-to-80.json",
        "output-81-to-100.json",
        "output-101-to-120.json",
        "output-1001-to-1020.json",
    ]
    assert listing.ignored == []


def test_missing_bucket_is_a_source_error_naming_it(gcs_client: storage.Client) -> None:
    url = "gs://no-such-bucket-anywhere/vision/run-1"
    with pytest.raises(vr.SourceError, match=re.escape(url)) as caught:
        GcsSource(url, gcs_client).list()
    assert isinstance(caught.value.__cause__, GoogleAPIError)
    assert getattr(caught.value.__cause__, "code", None) == 404


def test_empty_prefix_is_a_source_error_naming_it(
    gcs_client: storage.Client, bucket_name: str, tmp_path: Path
) -> None:
    upload_bytes(gcs_client, bucket_name, {"elsewhere/output-1-to-1.json": EMPTY_SHARD})
    url = f"gs://{bucket_name}/vision/missing-run"
    with pytest.raises(vr.SourceError, match=re.escape(url)) as caught:
        vr.export(url, tmp_path / "out", client=gcs_client, progress=False)
    assert "no objects under this prefix" in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_ignored_objects_are_reported_and_never_downloaded(
    gcs_client: storage.Client,
    proxied_client: storage.Client,
    fault_proxy: FaultProxy,
    bucket_name: str,
    tmp_path: Path,
) -> None:
    def shard(uri: str, labels: list[str]) -> bytes:
        annotations = [{"description": d, "score": 0.9} for d in labels]
        response = {"labelAnnotations": annotations, "context": {"uri": uri}}
        return json.dumps({"responses": [response]}).encode()

    upload_bytes(
        gcs_client,
        bucket_name,
        {
            "job/output-1-to-1.json": shard("gs://in/a.jpg", ["Cat", "Window"]),
            "job/output-2-to-2.json": shard("gs://in/b.jpg", ["Dog"]),
            "job/notes.txt": b"this is not JSON",
            "job/sub/": b"",
            "job/_export.json": b'{"not": "vision output"}',
        },
    )
    report = vr.export(f"gs://{bucket_name}/job", tmp_path / "out", client=proxied_client)

    assert [s.name for s in report.shards] == ["output-1-to-1.json", "output-2-to-2.json"]
    assert [s.name for s in report.ignored_objects] == ["_export.json", "notes.txt", "sub/"]
    assert all(s.reason for s in report.ignored_objects)
    assert report.skipped_shards == []
    assert sorted(download_paths(fault_proxy, bucket_name)) == [
        "job/output-1-to-1.json",
        "job/output-2-to-2.json",
    ]
    labels = pq.read_table(tmp_path / "out" / "labels")
    assert labels.column("description").to_pylist() == ["Cat", "Window", "Dog"]
    assert labels.column("uri").to_pylist() == ["gs://in/a.jpg", "gs://in/a.jpg", "gs://in/b.jpg"]


# --- reading -----------------------------------------------------------------------------


def test_read_returns_the_exact_bytes(gcs_client: storage.Client, bucket_name: str) -> None:
    small = '{"responses": [{"context": {"uri": "gs://b/été 日本.jpg"}}]}\r\n'.encode()
    big = b'{"responses": [' + b",".join([b'{"context": {"uri": "gs://b/x.jpg"}}'] * 60_000)
    big += b"]}"
    payloads = {"r/output-1-to-1.json": small, "r/output-2-to-60001.json": big}
    upload_bytes(gcs_client, bucket_name, payloads)
    source = GcsSource(f"gs://{bucket_name}/r", gcs_client)
    listing = source.list()
    assert [(s.name, s.size) for s in listing.shards] == [
        ("output-1-to-1.json", len(small)),
        ("output-2-to-60001.json", len(big)),
    ]
    assert len(big) > 2_000_000
    for shard in listing.shards:
        assert source.read(shard) == payloads[f"r/{shard.name}"]


def test_read_of_a_replaced_or_deleted_object_is_a_source_error(
    gcs_client: storage.Client, bucket_name: str
) -> None:
    upload_bytes(
        gcs_client,
        bucket_name,
        {"d/output-1-to-1.json": EMPTY_SHARD, "d/output-2-to-2.json": EMPTY_SHARD},
    )
    source = GcsSource(f"gs://{bucket_name}/d", gcs_client)
    first, second = source.list().shards
    # Replaced after listing: the listed generation is gone, the new bytes are not read.
    gcs_client.bucket(bucket_name).blob("d/output-1-to-1.json").upload_from_string(b"{}")
    with pytest.raises(vr.SourceError, match=re.escape(first.location)):
        source.read(first)
    gcs_client.bucket(bucket_name).blob("d/output-2-to-2.json").delete()
    with pytest.raises(vr.SourceError, match=re.escape(second.location)) as caught:
        source.read(second)
    assert "download failed" in str(caught.value)


# --- end to end --------------------------------------------------------------------------


def test_export_from_gcs_equals_export_from_the_local_folder(
    gcs_client: storage.Client,
    sample_gcs: tuple[str, dict[str, int]],
    sample_dir: Path,
    local_tables: dict[str, pa.Table],
    expected: tuple[Counter[str], dict[str, int], set[str]],
    tmp_path: Path,
) -> None:
    url, generations = sample_gcs
    rows, per_shard, uris = expected
    report = vr.export(url, tmp_path / "gcs", client=gcs_client, progress=False)

    gcs_tables = read_tables(tmp_path / "gcs")
    for name in vr.TABLE_NAMES:
        assert gcs_tables[name].equals(local_tables[name]), name
    for name, count in rows.items():
        assert report.rows[name] == gcs_tables[name].num_rows == count, name
    assert rows["errors"] > 0 and rows["labels"] > 0 and rows["ocr_words"] > 0
    assert report.images == rows["images"] == 140
    assert report.errors == rows["errors"]
    assert set(gcs_tables["images"].column("uri").to_pylist()) == uris

    # Shards in numeric order, named relative to the source, with size and generation.
    image_shards = [f"images/output-{a}-to-{a + 9}.json" for a in range(1, 131, 10)]
    names = [s.name for s in report.shards]
    assert [n for n in names if n.startswith("images/")] == image_shards
    assert set(names) == set(per_shard)
    assert pc.unique(gcs_tables["images"].column("shard")).to_pylist() == names
    for record in report.shards:
        assert record.location == f"{url}/{record.name}"
        assert record.size == (sample_dir / record.name).stat().st_size
        assert record.generation == generations[record.name]
        assert record.responses == per_shard[record.name]
    assert report.bytes_read == sum(r.size for r in report.shards)


def test_open_from_gcs_gives_the_same_dataframes(
    gcs_client: storage.Client,
    sample_gcs: tuple[str, dict[str, int]],
    local_tables: dict[str, pa.Table],
    expected: tuple[Counter[str], dict[str, int], set[str]],
) -> None:
    url, _ = sample_gcs
    results = vr.open(url, client=gcs_client, progress=False)
    assert results.report.images == expected[0]["images"]
    for name in vr.TABLE_NAMES:
        frame = results.table(name)
        want = local_tables[name].to_pandas(types_mapper=pd.ArrowDtype)
        pd.testing.assert_frame_equal(frame, want, check_exact=True)
    assert len(results.labels) == expected[0]["labels"]
    assert len(results.errors) == expected[0]["errors"]


@pytest.mark.parametrize("scheme", ["http://", ""])
def test_storage_client_uses_the_emulator_variable(
    gcs_server: str,
    sample_gcs: tuple[str, dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
    scheme: str,
) -> None:
    url, generations = sample_gcs
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", scheme + gcs_server.removeprefix("http://"))
    listing = GcsSource(url, storage_client()).list()
    assert {s.name: s.generation for s in listing.shards} == generations


def test_cli_exports_from_gcs_with_the_emulator_variable(
    gcs_server: str,
    sample_gcs: tuple[str, dict[str, int]],
    sample_dir: Path,
    local_tables: dict[str, pa.Table],
    expected: tuple[Counter[str], dict[str, int], set[str]],
    tmp_path: Path,
) -> None:
    url, generations = sample_gcs
    rows, per_shard, _ = expected
    dest = tmp_path / "cli-out"
    result = CliRunner().invoke(
        main, ["export", url, str(dest)], env={"STORAGE_EMULATOR_HOST": gcs_server}
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"source   {url}\n" in out
    assert f"read     {len(per_shard)} shards, " in out
    assert f"images   {rows['images']} responses, {rows['errors']} with an error\n" in out
    assert re.search(rf"^  labels\s+{rows['labels']:,} rows$", out, re.M)
    assert f"wrote    {dest}" in out

    record = ExportReport.from_json((dest / "_export.json").read_bytes())
    assert record.source == url
    assert {s.name: (s.size, s.generation, s.responses) for s in record.shards} == {
        name: ((sample_dir / name).stat().st_size, generations[name], per_shard[name])
        for name in per_shard
    }
    assert record.skipped_shards == [] and record.ignored_objects == []
    for name in vr.TABLE_NAMES:
        assert pq.read_table(dest / name).equals(local_tables[name]), name
