"""Faults between the client and a real fake-gcs-server: retried, or refused by name."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from google.api_core.exceptions import GoogleAPIError
from google.cloud import storage
from google.resumable_media import DataCorruption

import vision_results as vr
from tests.conftest import (
    BAD_SHARD,
    FAST_RETRY,
    PREFIX,
    read_tables,
)
from tests.fault_proxy import FaultProxy
from vision_results.report import ExportReport, Skipped
from vision_results.source import GcsSource

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
