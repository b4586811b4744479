"""SOURCE addresses are checked with messages that say what to write; a refusal
names the bucket and the identity used, never a secret; DEST is never written
outside itself, whatever the shard names say."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.cloud import storage

import vision_results as vr
from tests.fault_proxy import FaultProxy


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("gs:/bucket/prefix", r"not a Cloud Storage URL\. Write gs://BUCKET/PREFIX"),
        ("gs:bucket", "not a Cloud Storage URL"),
        ("GS://bucket", "not a Cloud Storage URL"),
        ("gs://", "no bucket name"),
        ("gs:///prefix", "no bucket name"),
        ("gs://My_Bucket/x", "'My_Bucket' is not a bucket name"),
        ("s3://bucket/x", "unsupported scheme"),
    ],
)
def test_bad_source_urls_say_what_to_write(source: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(vr.SourceError, match=message):
        vr.export(source, tmp_path / "out", client=object())
    assert not list(tmp_path.iterdir())


def test_a_refusal_names_the_bucket_and_the_identity_without_secrets(
    fault_proxy: FaultProxy,
    proxied_client: storage.Client,
    sample_gcs: tuple[str, dict[str, int]],
    tmp_path: Path,
) -> None:
    url, _ = sample_gcs
    bucket = url.split("/")[2]
    fault_proxy.fail(f"/storage/v1/b/{bucket}/o?", status=403, times=None)
    with pytest.raises(vr.SourceError) as caught:
        vr.export(url, tmp_path / "out", client=proxied_client)
    message = str(caught.value)
    assert f"cannot list the objects of bucket {bucket}: HTTP 403 Forbidden" in message
    assert "The credentials used, anonymous (no credentials), may not read bucket" in message
    assert "roles/storage.objectViewer" in message
    assert len(fault_proxy.requests(f"/b/{bucket}/o?")) == 1  # a refusal is not retried


def test_shard_names_never_lead_outside_dest(
    gcs_client: storage.Client, bucket_name: str, tmp_path: Path
) -> None:
    bucket = gcs_client.create_bucket(bucket_name)
    body = b'{"responses": [{"labelAnnotations": [{"description": "cat", "score": 0.9}]}]}'
    names = [
        "run/../../escape/output-1-to-1.json",
        "run/%2e%2e/output-2-to-2.json",
        "run//abs/output-3-to-3.json",
    ]
    for name in names:
        bucket.blob(name).upload_from_string(body)
    work = tmp_path / "work"
    work.mkdir()
    report = vr.export(f"gs://{bucket_name}/run", work / "out", client=gcs_client, processes=0)
    assert sorted(s.name for s in report.shards) == sorted(n[4:].lstrip("/") for n in names)
    assert sorted(p.name for p in tmp_path.rglob("*") if "out" not in p.parts) == ["work"]
    assert {p.parent.name for p in (work / "out").rglob("*.parquet")} <= {
        *vr.TABLE_NAMES,
        "_answers",
    }
    with pytest.raises(vr.VisionResultsError, match="unknown table"):
        vr.export(
            f"gs://{bucket_name}/run", work / "again", tables=["../escape"], client=gcs_client
        )
