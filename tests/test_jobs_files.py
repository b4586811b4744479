"""PDF, TIFF and GIF inputs end to end: one submit starts an images operation and a
files operation under the same job, the export has a row per page and per image, and
reconcile and --retry-failed handle a file that failed (the stand-in and
fake-gcs-server, the real clients)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner
from google.cloud import storage

import vision_results as vr
from tests.jobs_helpers import gif_bytes, make_bucket, no_sleep, pdf_bytes, tiff_bytes
from tests.vision_server import VisionServer
from vision_results.cli import main
from vision_results.jobs.api import vision_api
from vision_results.jobs.reconcile import reconcile
from vision_results.jobs.run import load, submit, wait

PDF, TIFF, GIF = "application/pdf", "image/tiff", "image/gif"


def put(client: storage.Client, bucket: str, name: str, data: bytes) -> str:
    client.bucket(bucket).blob(name).upload_from_string(data)
    return f"gs://{bucket}/{name}"


def documents(client: storage.Client, bucket: str) -> dict[str, str]:
    """A folder of two images and three documents (3, 2 and 2 pages), by short name."""
    return {
        "a.jpg": put(client, bucket, "in/a.jpg", b"jpeg"),
        "b.pdf": put(client, bucket, "in/b.pdf", pdf_bytes(3)),
        "c.png": put(client, bucket, "in/c.png", b"png"),
        "d.tiff": put(client, bucket, "in/d.tiff", tiff_bytes(2)),
        "e.gif": put(client, bucket, "in/e.gif", gif_bytes(2)),
    }


def file_request(uri: str, mime_type: str, output: str) -> dict[str, object]:
    return {
        "inputConfig": {"gcsSource": {"uri": uri}, "mimeType": mime_type},
        "features": [{"type": 11}],
        "outputConfig": {"gcsDestination": {"uri": output}, "batchSize": 2},
    }


def test_one_submit_starts_both_kinds_and_the_export_has_a_row_per_page_and_image(
    env: None,
    vision_server: VisionServer,
    gcs_client: storage.Client,
    bucket_name: str,
    tmp_path: Path,
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    inputs = documents(gcs_client, bucket)
    output = f"gs://{bucket}/run/"
    result = CliRunner().invoke(
        main,
        ["submit", f"gs://{bucket}/in/", "--output", output, "--features",
         "DOCUMENT_TEXT_DETECTION", "--batch-size", "2", "--parent", "projects/p", "--wait"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [
        f"DONE      images 2 in 1-3  {output}op-0000/  projects/p/operations/"
        f"{vision_server.operations[0].name.rsplit('/', 1)[1]}",
        f"DONE      files 3 in 2-5  {output}op-0001/  projects/p/operations/"
        f"{vision_server.operations[1].name.rsplit('/', 1)[1]}",
    ]

    images_post, files_post = (r for r in vision_server.requests if r.method == "POST")
    assert images_post.decoded_path == "/v1/images:asyncBatchAnnotate?$alt=json;enum-encoding=int"
    assert images_post.body == {
        "requests": [
            {"image": {"source": {"imageUri": inputs[n]}}, "features": [{"type": 11}]}
            for n in ("a.jpg", "c.png")
        ],
        "outputConfig": {"gcsDestination": {"uri": f"{output}op-0000/"}, "batchSize": 2},
        "parent": "projects/p",
    }
    assert files_post.decoded_path == "/v1/files:asyncBatchAnnotate?$alt=json;enum-encoding=int"
    assert files_post.body == {
        "requests": [
            file_request(inputs["b.pdf"], PDF, f"{output}op-0001/file-00001/"),
            file_request(inputs["d.tiff"], TIFF, f"{output}op-0001/file-00002/"),
            file_request(inputs["e.gif"], GIF, f"{output}op-0001/file-00003/"),
        ],
        "parent": "projects/p",
    }
    manifest = load(output, gcs_client)
    assert [(op.kind, op.images) for op in manifest.operations] == [
        ("images", [1, 3]),
        ("files", [2, 4, 5]),
    ]

    report = vr.export(output, tmp_path / "tables", client=gcs_client)
    assert report.complete, report.summary()
    assert [s.name for s in report.shards] == [
        "op-0000/output-1-to-2.json",
        "op-0001/file-00001/output-1-to-2.json",
        "op-0001/file-00001/output-3-to-3.json",
        "op-0001/file-00002/output-1-to-2.json",
        "op-0001/file-00003/output-1-to-2.json",
    ]
    rows = pq.read_table(tmp_path / "tables" / "images").to_pylist()
    keys = sorted((r["uri"], r["page_number"] or 0) for r in rows)
    assert keys == sorted(
        [(inputs["a.jpg"], 0), (inputs["c.png"], 0)]
        + [(inputs["b.pdf"], n) for n in (1, 2, 3)]
        + [(inputs["d.tiff"], n) for n in (1, 2)]
        + [(inputs["e.gif"], n) for n in (1, 2)]
    )
    assert all(r["error_code"] is None for r in rows)
    pages = pq.read_table(tmp_path / "tables" / "ocr_pages").to_pylist()
    assert sorted((p["uri"], p["page_number"] or 0) for p in pages) == keys
    outcome = reconcile(manifest, gcs_client)
    assert (outcome.ok, outcome.errors, outcome.missing) == (list(inputs.values()), {}, [])


def test_reconcile_reports_a_failed_file_and_retry_resubmits_just_that_file(
    env: None,
    vision_server: VisionServer,
    gcs_client: storage.Client,
    bucket_name: str,
    tmp_path: Path,
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    inputs = documents(gcs_client, bucket)
    flaky, broken = inputs["d.tiff"], inputs["e.gif"]
    vision_server.script()  # the images operation goes well
    vision_server.script(
        failed_files={flaky: (14, "The service is currently unavailable.")},
        failed_pages={(broken, 2): (3, "Bad image data.")},
    )
    output = f"gs://{bucket}/job/"
    api = vision_api()
    wait(submit(list(inputs.values()), output, features=["TEXT_DETECTION"], api=api,
                storage=gcs_client), api, gcs_client, poll=no_sleep)  # fmt: skip

    first = reconcile(load(output, gcs_client), gcs_client)
    assert first.errors == {14: [flaky], 3: [broken]}
    assert first.missing == []
    result = CliRunner().invoke(main, ["reconcile", output])
    assert result.exit_code == 0, result.output
    assert "error UNAVAILABLE (14)  1" in result.output
    assert "error INVALID_ARGUMENT (3)  1" in result.output

    result = CliRunner().invoke(main, ["submit", "--retry-failed", output, "--wait"])
    assert result.exit_code == 0, result.output
    *_, retry_post = (r for r in vision_server.requests if r.method == "POST")
    assert retry_post.decoded_path == "/v1/files:asyncBatchAnnotate?$alt=json;enum-encoding=int"
    assert retry_post.body == {
        "requests": [
            {
                "inputConfig": {"gcsSource": {"uri": flaky}, "mimeType": TIFF},
                "features": [{"type": 5}],
                "outputConfig": {
                    "gcsDestination": {"uri": f"{output}op-0002/file-00001/"},
                    "batchSize": 20,
                },
            }
        ]
    }
    retry = load(output, gcs_client).operations[2]
    assert (retry.kind, retry.positions, retry.state) == ("files", [4], "DONE")

    again = reconcile(load(output, gcs_client), gcs_client)
    assert (again.errors, again.missing) == ({3: [broken]}, [])
    vr.export(output, tmp_path / "tables", client=gcs_client)
    rows = pq.read_table(tmp_path / "tables" / "images").to_pylist()
    tiff = sorted(
        (r["page_number"], r["error_code"], r["shard"]) for r in rows if r["uri"] == flaky
    )
    assert tiff == [(1, None, "op-0002/file-00001/output-1-to-2.json"),
                    (2, None, "op-0002/file-00001/output-1-to-2.json")]  # fmt: skip
    gif = sorted((r["page_number"], r["error_code"]) for r in rows if r["uri"] == broken)
    assert gif == [(1, None), (2, 3)]


def test_missing_pages_are_missing_with_and_without_total_pages(
    env: None,
    vision_server: VisionServer,
    gcs_client: storage.Client,
    bucket_name: str,
    tmp_path: Path,
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    pdf = put(gcs_client, bucket, "in/long.pdf", pdf_bytes(5))
    api = vision_api()
    found = {}
    for output, total_pages in ((f"gs://{bucket}/with/", True), (f"gs://{bucket}/without/", False)):
        vision_server.script(with_total_pages=total_pages)
        wait(submit([pdf], output, features=["TEXT_DETECTION"], batch_size=1, api=api,
                    storage=gcs_client), api, gcs_client, poll=no_sleep)  # fmt: skip
        prefix = output.removeprefix(f"gs://{bucket}/")
        for lost in (2, 3, 5):  # the service lost three of the five outputs
            name = f"{prefix}op-0000/file-00001/output-{lost}-to-{lost}.json"
            gcs_client.bucket(bucket).blob(name).delete()
        found[total_pages] = reconcile(load(output, gcs_client), gcs_client)

    assert found[True].missing == [pdf]
    assert found[True].missing_pages == {pdf: [2, 3, 5]}
    assert f"  {pdf}: no answer for pages 2-3, 5" in found[True].summary()
    # Without totalPages the last page answered is all there is to go by.
    assert found[False].missing_pages == {pdf: [2, 3]}

    report = vr.export(f"gs://{bucket}/with/", tmp_path / "t", client=gcs_client)
    assert not report.complete
    assert report.missing_images == [f"{pdf}#page={n}" for n in (2, 3, 5)]
    assert "MISSING  3 images or pages of the job have no answer:" in report.summary()


def test_v1p1beta1_posts_files_to_its_own_surface(
    env: None, vision_server: VisionServer, gcs_client: storage.Client, bucket_name: str
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    pdf = put(gcs_client, bucket, "in/scan.pdf", pdf_bytes(2))
    api = vision_api("v1p1beta1")
    output = f"gs://{bucket}/beta/"
    manifest = submit([pdf], output, features=["DOCUMENT_TEXT_DETECTION"], max_results=4,
                      api=api, storage=gcs_client, parent="projects/p",
                      api_version="v1p1beta1")  # fmt: skip
    wait(manifest, api, gcs_client, poll=no_sleep)
    post, get = vision_server.requests[0], vision_server.requests[-1]
    assert (post.method, post.decoded_path) == (
        "POST",
        "/v1p1beta1/projects/p/files:asyncBatchAnnotate",
    )
    assert post.body == {
        "requests": [
            {
                "inputConfig": {"gcsSource": {"uri": pdf}, "mimeType": PDF},
                "features": [{"type": "DOCUMENT_TEXT_DETECTION", "maxResults": 4}],
                "outputConfig": {
                    "gcsDestination": {"uri": f"{output}op-0000/file-00001/"},
                    "batchSize": 20,
                },
            }
        ],
        "parent": "projects/p",
    }
    assert (get.method, get.decoded_path) == ("GET", f"/v1p1beta1/{manifest.operations[0].name}")
    assert load(output, gcs_client).operations[0].state == "DONE"
    assert [b.name for b in gcs_client.list_blobs(bucket, prefix="beta/op-0000/")] == [
        "beta/op-0000/file-00001/output-1-to-2.json"
    ]
