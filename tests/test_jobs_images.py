"""Collecting the images of a job: URIs, list files, and gs:// prefixes (fake-gcs-server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.cloud import storage

from tests.gcs_server import upload_bytes
from vision_results import UsageError
from vision_results.jobs.images import collect


def test_uris_list_files_csv_and_prefixes(
    gcs_client: storage.Client, bucket_name: str, tmp_path: Path
) -> None:
    upload_bytes(
        gcs_client,
        bucket_name,
        {"pics/b.PNG": b"x", "pics/a.jpg": b"x", "pics/notes.txt": b"x", "other/c.jpg": b"x"},
    )
    (tmp_path / "list.txt").write_text("# mine\ngs://b/1.jpg\n\nhttps://example.com/2.jpg\n")
    (tmp_path / "list.csv").write_text("id,uri\n1,gs://b/3.jpg\n2, gs://b/4.jpg\n")
    images = collect(
        [
            "gs://b/0.jpg",
            str(tmp_path / "list.txt"),
            str(tmp_path / "list.csv"),
            f"gs://{bucket_name}/pics/",
        ],
        gcs_client,
    )
    assert images == [
        "gs://b/0.jpg",
        "gs://b/1.jpg",
        "https://example.com/2.jpg",
        "gs://b/3.jpg",
        "gs://b/4.jpg",
        f"gs://{bucket_name}/pics/a.jpg",
        f"gs://{bucket_name}/pics/b.PNG",
    ]


def test_csv_without_uri_column_and_empty_sources_are_refused(
    gcs_client: storage.Client, tmp_path: Path
) -> None:
    (tmp_path / "bad.csv").write_text("id,url\n1,gs://b/3.jpg\n")
    with pytest.raises(UsageError, match="needs a 'uri' column"):
        collect([str(tmp_path / "bad.csv")], gcs_client)
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(UsageError, match="no images found"):
        collect([str(tmp_path / "empty.txt")], gcs_client)
