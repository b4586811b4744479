"""Faults between the client and a real fake-gcs-server: retried, or refused by name.

The matrix (issue 6): each fault on a later listing page and on one shard's
download. Transient faults (503, 429, a reset connection, a body cut short, a
slow answer) are retried by google-cloud-storage and the export ends with the
tables of a clean run; the others (500 on every attempt, a corrupted body) stop
the export with an error naming the object and the cause, and leave no DEST.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner
from google.api_core.exceptions import GoogleAPIError, RetryError
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY
from google.resumable_media import DataCorruption

import vision_results as vr
from tests.conftest import BAD_SHARD, FAST_RETRY, PREFIX, read_tables
from tests.fault_proxy import FaultProxy, Seen
from vision_results.cli import main
from vision_results.report import ExportReport, Skipped
from vision_results.source import GcsSource
from vision_results.storage import DEFAULT_DEADLINE, DEFAULT_TIMEOUT, read_retry

DEADLINE = 2.0  # seconds of retrying per page or shard
SHORT_RETRY = read_retry(DEADLINE).with_delay(initial=0.01, maximum=0.05)
READ_TIMEOUT = 0.5  # seconds one request waits for an answer
SLOW_SECONDS = 4 * READ_TIMEOUT  # a slow answer comes well after the client gave up
PAGE_SIZE = 4  # the sample's 15 shards are listed in 4 pages; faults hit the third

TRANSIENT = ["503", "429", "reset", "cut short", "slow"]
STOPPING = ["500 always", "corrupted"]
PLACES = ["listing", "download"]


def target(place: str, bucket: str) -> tuple[str, int]:
    """The proxy rule's match and how many matching requests to let through first."""
    if place == "listing":
        return f"/storage/v1/b/{bucket}/o?", 2  # the third page: a later one
    return f"/download/storage/v1/b/{bucket}/o/{PREFIX}/{BAD_SHARD}?", 0


def inject(proxy: FaultProxy, fault: str, place: str, bucket: str) -> str:
    """Set up `fault` at `place`; return the match of the requests it hits."""
    match, after = target(place, bucket)
    if fault in ("503", "429"):
        proxy.fail(match, status=int(fault), after=after)
    elif fault == "500 always":
        proxy.fail(match, status=500, times=None, after=after)
    elif fault == "reset":
        proxy.reset(match, after=after)
    elif fault == "cut short":
        proxy.cut(match, after=after)
    elif fault == "corrupted":
        # A listing page has no checksum: only a change that breaks its JSON can be
        # noticed. A download's change keeps the JSON valid: the checksum catches it.
        proxy.corrupt(match, after=after, garble=place == "listing")
    elif fault == "slow":
        proxy.slow(match, SLOW_SECONDS, after=after)
    else:
        raise AssertionError(fault)
    return match


def faulted(proxy: FaultProxy, match: str) -> tuple[list[Seen], list[Seen]]:
    """The requests matching `match` a fault hit, and the rest."""
    seen = proxy.requests(match, method="GET")
    return [s for s in seen if s.fault], [s for s in seen if not s.fault]


def assert_nothing_written(dest: Path) -> None:
    assert not dest.exists()
    assert list(dest.parent.glob(f".{dest.name}.partial-*")) == []


def expected_cause(fault: str, place: str) -> list[str]:
    """Words the error must hold to say why the export stopped."""
    if fault == "500 always":
        return ["gave up after retrying", "HTTP 500 Internal Server Error"]
    if place == "listing":
        return ["not valid JSON"]
    return ["do not match the object's checksum"]


def assert_tables_of_a_clean_run(
    report: ExportReport,
    dest: Path,
    local_tables: dict[str, pa.Table],
    expected: tuple[Counter[str], dict[str, int], set[str]],
    skipped: str | None = None,
) -> None:
    """Every table as from the local folder, less the rows of the `skipped` shard."""
    counts, per_shard, _ = expected
    assert report.images == counts["images"] - per_shard.get(skipped or "", 0)
    tables = read_tables(dest)
    for name in vr.TABLE_NAMES:
        want = local_tables[name]
        if skipped is not None:
            want = want.filter(pc.not_equal(want["shard"], skipped))
        assert tables[name].equals(want), name


@pytest.fixture
def source(proxied_client: storage.Client, sample_gcs: tuple[str, dict[str, int]]) -> GcsSource:
    url, _ = sample_gcs
    return GcsSource(
        url, proxied_client, page_size=PAGE_SIZE, retry=SHORT_RETRY, timeout=READ_TIMEOUT
    )


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("fault", TRANSIENT + STOPPING)
def test_fault_matrix(
    fault: str,
    place: str,
    source: GcsSource,
    fault_proxy: FaultProxy,
    local_tables: dict[str, pa.Table],
    expected: tuple[Counter[str], dict[str, int], set[str]],
    tmp_path: Path,
) -> None:
    match = inject(fault_proxy, fault, place, source.bucket_name)
    dest = tmp_path / "out"
    started = time.monotonic()

    if fault in TRANSIENT:
        report = vr.export(source, dest, progress=False)
        assert report.skipped_shards == []
        assert_tables_of_a_clean_run(report, dest, local_tables, expected)
    else:
        with pytest.raises(vr.SourceError) as caught:
            vr.export(source, dest, progress=False)
        message = str(caught.value)
        if place == "listing":
            assert message.startswith(f"{source.location}: cannot list the objects of bucket ")
            assert source.bucket_name in message
        else:
            assert message.startswith(f"{source.location}/{BAD_SHARD}: ")
        for words in expected_cause(fault, place):
            assert words in message, message
        assert "Bearer" not in message and "Authorization" not in message
        assert_nothing_written(dest)
    assert time.monotonic() - started < DEADLINE + 10  # generous: gave up in seconds

    # The fault really happened, and was (or was not) retried.
    hit, passed = faulted(fault_proxy, match)
    if place == "listing":
        assert all("pageToken=" in s.path for s in hit)  # a later page, not the first
    assert hit, "the fault never happened"
    retried = [s for s in passed if s.path == hit[0].path]
    if fault in STOPPING:
        assert retried == []
        assert len(hit) >= 2 if fault == "500 always" else len(hit) == 1  # corrupted: not retried
    else:
        assert len(hit) == 1
        if fault == "cut short" and place == "download":  # resumed, not restarted
            assert [(s.status, (s.range or "")[:6]) for s in retried] == [(206, "bytes=")]
        else:
            assert [s.status for s in retried] == [200]

    if fault in STOPPING and place == "download":
        # With on_error="skip" the shard is reported with the reason; the rest is all there.
        report = vr.export(source, tmp_path / "skip", on_error="skip", progress=False)
        assert [s.name for s in report.skipped_shards] == [BAD_SHARD]
        reason = report.skipped_shards[0].reason
        assert reason.startswith(f"{source.location}/{BAD_SHARD}: ")
        for words in expected_cause(fault, place):
            assert words in reason, reason
        assert_tables_of_a_clean_run(report, tmp_path / "skip", local_tables, expected, BAD_SHARD)
        record = ExportReport.from_json((tmp_path / "skip" / "_export.json").read_bytes())
        assert record.skipped_shards == [Skipped(BAD_SHARD, reason)]


def test_a_download_error_keeps_the_clients_exception_as_its_cause(
    source: GcsSource, fault_proxy: FaultProxy
) -> None:
    shard = next(s for s in source.list().shards if s.name == BAD_SHARD)
    inject(fault_proxy, "corrupted", "download", source.bucket_name)
    with pytest.raises(vr.SourceError) as caught:
        source.read(shard)
    assert isinstance(caught.value.__cause__, DataCorruption)
    fault_proxy.clear()
    inject(fault_proxy, "500 always", "download", source.bucket_name)
    with pytest.raises(vr.SourceError) as caught:
        source.read(shard)
    assert isinstance(caught.value.__cause__, RetryError)


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


# --- the retry settings ----------------------------------------------------------------


def test_read_retry_is_the_storage_policy_with_a_deadline() -> None:
    retry = read_retry(30)
    assert retry.timeout == 30
    assert retry._predicate is DEFAULT_RETRY._predicate  # what is retried: the library's
    assert read_retry().timeout == DEFAULT_DEADLINE == 120
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="positive number of seconds"):
            read_retry(bad)


def test_gcs_source_defaults_to_the_librarys_deadline_and_timeout() -> None:
    source = GcsSource("gs://bucket/prefix", client=None)
    assert source.retry.timeout == DEFAULT_DEADLINE
    assert source.timeout == DEFAULT_TIMEOUT == 60


def test_the_command_line_retries_for_retry_deadline_seconds(
    fault_proxy: FaultProxy,
    sample_gcs: tuple[str, dict[str, int]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--retry-deadline reaches the reads: 500 on every attempt gives up within it."""
    url, _ = sample_gcs
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fault_proxy.url)
    match = inject(fault_proxy, "500 always", "download", url.split("/")[2])
    started = time.monotonic()
    args = ["export", url, str(tmp_path / "out"), "--retry-deadline", "1", "--processes", "0"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert time.monotonic() - started < 1 + 10
    assert f"{BAD_SHARD}: download failed: gave up after retrying" in result.output
    assert "Timeout of 1.0s exceeded" in result.output
    assert len(faulted(fault_proxy, match)[0]) >= 2
    assert_nothing_written(tmp_path / "out")
