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
from google.resumable_media import DataCorruption

import vision_results as vr
from tests.conftest import FAST_RETRY
from tests.fault_proxy import FaultProxy
from tests.gcs_server import upload_bytes, upload_tree
from vision_results.cli import main
from vision_results.report import ExportReport, Skipped
from vision_results.source import GcsSource, storage_client
from vision_results.synth import write_sample

PREFIX = "vision/run-1"
EMPTY_SHARD = b'{"responses": []}'
BAD_SHARD = "images/output-21-to-30.json"  # the shard the fault tests break


# --- helpers ---------------------------------------------------------------------------


def json_counts(folder: Path) -> tuple[Counter[str], dict[str, int], set[str]]:
    """Rows each table should get, responses per shard and every image uri, counted
    straight from the JSON files (not with the package)."""
    rows: Counter[str] = Counter()
    per_shard: dict[str, int] = {}
    uris: set[str] = set()
    for path in sorted(folder.rglob("output-*.json")):
        responses = json.loads(path.read_bytes())["responses"]
        per_shard[path.relative_to(folder).as_posix()] = len(responses)
        for response in responses:
            rows["images"] += 1
            rows["labels"] += len(response.get("labelAnnotations", []))
            rows["text_annotations"] += len(response.get("textAnnotations", []))
            rows["errors"] += "error" in response
            pages = response.get("fullTextAnnotation", {}).get("pages", [])
            rows["ocr_pages"] += len(pages)
            rows["ocr_words"] += sum(
                len(paragraph["words"])
                for page in pages
                for block in page["blocks"]
                for paragraph in block["paragraphs"]
            )
            uris.add(response["context"]["uri"])
    return rows, per_shard, uris


def read_tables(dest: Path) -> dict[str, pa.Table]:
    return {name: pq.read_table(dest / name) for name in vr.TABLE_NAMES}


def download_paths(proxy: FaultProxy, bucket: str) -> list[str]:
    """Objects downloaded through the proxy, in request order."""
    marker = f"/download/storage/v1/b/{bucket}/o/"
    return [s.path.split(marker, 1)[1].split("?", 1)[0] for s in proxy.requests(marker)]


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """15 shards: 13 image shards output-1-to-10 ... output-121-to-130, and 2 PDF shards."""
    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder, images=130, seed=1, batch_size=10, words_per_image=15)
    return folder


@pytest.fixture(scope="module")
def expected(sample_dir: Path) -> tuple[Counter[str], dict[str, int], set[str]]:
    return json_counts(sample_dir)


@pytest.fixture(scope="module")
def local_tables(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    """The reference: the same sample exported from the local folder."""
    dest = tmp_path_factory.mktemp("local") / "tables"
    vr.export(sample_dir, dest, progress=False)
    return read_tables(dest)


@pytest.fixture
def sample_gcs(
    gcs_client: storage.Client, sample_dir: Path, bucket_name: str
) -> tuple[str, dict[str, int]]:
    """The sample uploaded to this test's own bucket: its gs:// URL and object generations
    (keyed by the path relative to the prefix)."""
    generations = upload_tree(gcs_client, sample_dir, bucket_name, PREFIX)
    return f"gs://{bucket_name}/{PREFIX}", generations


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


# --- faults ------------------------------------------------------------------------------


def test_503s_on_listing_and_download_are_retried(
    proxied_client: storage.Client,
    fault_proxy: FaultProxy,
    sample_gcs: tuple[str, dict[str, int]],
    local_tables: dict[str, pa.Table],
    expected: tuple[Counter[str], dict[str, int], set[str]],
    tmp_path: Path,
) -> None:
    url, _ = sample_gcs
    bucket = url.removeprefix("gs://").split("/")[0]
    bad_object = f"{PREFIX}/{BAD_SHARD}"
    fault_proxy.fail(f"/storage/v1/b/{bucket}/o?", times=1)  # the first listing page
    fault_proxy.fail(f"/o/{bad_object}?", times=2)  # the shard's first two downloads

    source = GcsSource(url, proxied_client, retry=FAST_RETRY)
    report = vr.export(source, tmp_path / "out", progress=False)

    assert report.skipped_shards == []
    assert report.images == expected[0]["images"]
    tables = read_tables(tmp_path / "out")
    for name in vr.TABLE_NAMES:
        assert tables[name].equals(local_tables[name]), name
    statuses = [s.status for s in fault_proxy.requests(f"/o/{bad_object}?")]
    assert statuses == [503, 503, 200]
    listing_statuses = [s.status for s in fault_proxy.requests(f"/storage/v1/b/{bucket}/o?")]
    assert listing_statuses == [503, 200]


def test_a_corrupted_download_is_detected_by_the_client(
    proxied_client: storage.Client,
    fault_proxy: FaultProxy,
    sample_gcs: tuple[str, dict[str, int]],
    sample_dir: Path,
) -> None:
    url, _ = sample_gcs
    bucket = url.removeprefix("gs://").split("/")[0]
    blob = proxied_client.bucket(bucket).blob(f"{PREFIX}/{BAD_SHARD}")
    original = (sample_dir / BAD_SHARD).read_bytes()
    fault_proxy.corrupt(f"/o/{PREFIX}/{BAD_SHARD}?")

    # Without a checksum the altered bytes would pass: same length, still valid JSON.
    unchecked = blob.download_as_bytes(checksum=None)
    assert len(unchecked) == len(original) and unchecked != original
    json.loads(unchecked)
    with pytest.raises(DataCorruption) as caught:
        blob.download_as_bytes(checksum="auto", retry=FAST_RETRY)
    assert not isinstance(caught.value, GoogleAPIError)
    assert len(fault_proxy.requests(f"/o/{PREFIX}/{BAD_SHARD}?")) == 2  # not retried


def test_a_corrupted_shard_fails_the_export_with_its_location(
    proxied_client: storage.Client,
    fault_proxy: FaultProxy,
    sample_gcs: tuple[str, dict[str, int]],
    tmp_path: Path,
) -> None:
    url, _ = sample_gcs
    fault_proxy.corrupt(f"/o/{PREFIX}/{BAD_SHARD}?")
    source = GcsSource(url, proxied_client, retry=FAST_RETRY)
    location = f"{url}/{BAD_SHARD}"

    shard = next(s for s in source.list().shards if s.name == BAD_SHARD)
    with pytest.raises(vr.SourceError, match=re.escape(location)) as caught:
        source.read(shard)
    assert "checksum" in str(caught.value)
    assert isinstance(caught.value.__cause__, DataCorruption)

    with pytest.raises(vr.SourceError, match=re.escape(location)):
        vr.export(source, tmp_path / "out", on_error="raise", progress=False)
    assert not (tmp_path / "out").exists()


def test_a_corrupted_shard_is_skipped_and_reported(
    proxied_client: storage.Client,
    fault_proxy: FaultProxy,
    sample_gcs: tuple[str, dict[str, int]],
    local_tables: dict[str, pa.Table],
    expected: tuple[Counter[str], dict[str, int], set[str]],
    tmp_path: Path,
) -> None:
    url, _ = sample_gcs
    fault_proxy.corrupt(f"/o/{PREFIX}/{BAD_SHARD}?")
    source = GcsSource(url, proxied_client, retry=FAST_RETRY)
    report = vr.export(source, tmp_path / "out", on_error="skip", progress=False)

    assert [s.name for s in report.skipped_shards] == [BAD_SHARD]
    reason = report.skipped_shards[0].reason
    assert f"{url}/{BAD_SHARD}" in reason and "checksum" in reason
    assert BAD_SHARD not in [s.name for s in report.shards]
    assert len(report.shards) == len(expected[1]) - 1
    assert report.images == expected[0]["images"] - expected[1][BAD_SHARD]

    # Every other row is there, exactly as from the local folder.
    tables = read_tables(tmp_path / "out")
    for name in vr.TABLE_NAMES:
        want = local_tables[name].filter(pc.not_equal(local_tables[name]["shard"], BAD_SHARD))
        assert tables[name].equals(want), name
    record = ExportReport.from_json((tmp_path / "out" / "_export.json").read_bytes())
    assert record.skipped_shards == [Skipped(BAD_SHARD, reason)]
