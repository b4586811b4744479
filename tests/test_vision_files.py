"""The Vision stand-in's files:asyncBatchAnnotate (tests/vision_files.py) against the real
clients: the official v1 client and google-auth's authorized session, with real PDF,
TIFF and GIF documents made by Pillow read from, and the pages written to, a real
fake-gcs-server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from google.cloud import vision_v1
from google.cloud.storage import Client as StorageClient

from tests.jobs_helpers import anonymous_session, gif_bytes, pdf_bytes, tiff_bytes, wait
from tests.vision_files import MAX_PAGES, count_pages
from tests.vision_server import FAST_RETRY, VisionServer, v1_client

PDF, TIFF, GIF = "application/pdf", "image/tiff", "image/gif"
FILE_FEATURES = [{"type": "DOCUMENT_TEXT_DETECTION"}, {"type": "LABEL_DETECTION", "maxResults": 2}]


def put(client: StorageClient, uri: str, data: bytes) -> str:
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    client.bucket(bucket).blob(name).upload_from_string(data)
    return uri


def file_request(uri: str, mime_type: str, destination: str, batch_size: int = 0) -> dict[str, Any]:
    """An AsyncAnnotateFileRequest in REST JSON (batch_size 0: not set)."""
    output: dict[str, Any] = {"gcsDestination": {"uri": destination}}
    return {
        "inputConfig": {"gcsSource": {"uri": uri}, "mimeType": mime_type},
        "features": FILE_FEATURES,
        "outputConfig": {**output, **({"batchSize": batch_size} if batch_size else {})},
    }


def proto(requests: list[dict[str, Any]]) -> list[vision_v1.AsyncAnnotateFileRequest]:
    """REST JSON requests as the official client's messages."""
    return [vision_v1.AsyncAnnotateFileRequest.from_json(json.dumps(r)) for r in requests]


def two_documents(client: StorageClient, bucket: str) -> list[dict[str, Any]]:
    """A 3-page PDF and a 2-frame TIFF in `bucket`, requested with batchSize 2."""
    pdf = put(client, f"gs://{bucket}/in/report.pdf", pdf_bytes(3))
    tiff = put(client, f"gs://{bucket}/in/scan.tiff", tiff_bytes(2))
    return [
        file_request(pdf, PDF, f"gs://{bucket}/out/pdf/", 2),
        file_request(tiff, TIFF, f"gs://{bucket}/out/tiff/", 2),
    ]


def written(client: StorageClient, bucket: str, prefix: str) -> dict[str, bytes]:
    """Object name -> its bytes, for every object under `prefix`."""
    return {b.name: b.download_as_bytes() for b in client.list_blobs(bucket, prefix=prefix)}


def assert_the_pages_landed(client: StorageClient, bucket: str, requests: list[Any]) -> None:
    """Both files of :func:`two_documents`, page by page in batches of 2, in the bucket."""
    found = {name: json.loads(data) for name, data in written(client, bucket, "out/").items()}
    assert sorted(found) == [
        "out/pdf/output-1-to-2.json",
        "out/pdf/output-3-to-3.json",
        "out/tiff/output-1-to-2.json",
    ]
    pdf, tiff = (r["inputConfig"]["gcsSource"]["uri"] for r in requests)
    texts = set()
    for name, uri, mime_type, pages, numbers in [
        ("out/pdf/output-1-to-2.json", pdf, PDF, 3, [1, 2]),
        ("out/pdf/output-3-to-3.json", pdf, PDF, 3, [3]),
        ("out/tiff/output-1-to-2.json", tiff, TIFF, 2, [1, 2]),
    ]:
        assert list(found[name]) == ["inputConfig", "responses", "totalPages"]
        assert found[name]["inputConfig"] == {"gcsSource": {"uri": uri}, "mimeType": mime_type}
        assert found[name]["totalPages"] == pages
        responses = found[name]["responses"]
        assert [r["context"] for r in responses] == [{"uri": uri, "pageNumber": n} for n in numbers]
        for response in responses:  # what the features ask for, and no more
            assert response.keys() == {
                "labelAnnotations",
                "textAnnotations",
                "fullTextAnnotation",
                "context",
            }
            assert 1 <= len(response["labelAnnotations"]) <= 2
            texts.add(response["fullTextAnnotation"]["text"])
    assert len(texts) == 5  # every page drawn on its own


def test_v1_client_runs_a_files_job_and_the_pages_land_in_the_bucket(
    vision_server: VisionServer, gcs_client: StorageClient, bucket_name: str
) -> None:
    gcs_client.create_bucket(bucket_name)
    requests = two_documents(gcs_client, bucket_name)
    vision_server.script(polls_until_done=1)
    client = v1_client(vision_server.url)
    operation = client.async_batch_annotate_files(
        request={"requests": proto(requests), "parent": "projects/test-project"},
        retry=FAST_RETRY,
    )
    assert operation.operation.name.startswith("projects/test-project/operations/")
    result = wait(operation)

    assert isinstance(result, vision_v1.AsyncBatchAnnotateFilesResponse)
    assert [r.output_config.gcs_destination.uri for r in result.responses] == [
        f"gs://{bucket_name}/out/pdf/",
        f"gs://{bucket_name}/out/tiff/",
    ]
    assert [r.output_config.batch_size for r in result.responses] == [2, 2]
    submit, *polls = vision_server.requests
    assert (submit.method, submit.decoded_path) == (
        "POST",
        "/v1/files:asyncBatchAnnotate?$alt=json;enum-encoding=int",
    )
    assert submit.body["requests"][0] == {
        **requests[0],
        "features": [{"type": 11}, {"type": 4, "maxResults": 2}],
    }
    assert [p.method for p in polls] == ["GET", "GET"]  # RUNNING, DONE
    assert_the_pages_landed(gcs_client, bucket_name, requests)
    # Deterministic: the same file and page give the same response, whatever the job.
    (last,) = written(gcs_client, bucket_name, "out/pdf/output-3-").values()
    assert [vision_server.response_for(requests[0], page=3)] == json.loads(last)["responses"]


def test_v1p1beta1_files_job_over_an_authorized_session(
    vision_server: VisionServer, gcs_client: StorageClient, bucket_name: str
) -> None:
    gcs_client.create_bucket(bucket_name)
    requests = two_documents(gcs_client, bucket_name)
    session = anonymous_session()
    base = f"{vision_server.url}/v1p1beta1"
    answer = session.post(
        f"{base}/projects/p/files:asyncBatchAnnotate", json={"requests": requests}
    )
    assert answer.status_code == 200, answer.text
    started = answer.json()
    name = started["name"]
    assert name.startswith("projects/p/operations/")
    assert started["done"] is False
    assert started["metadata"]["state"] == "CREATED"
    assert vision_server.operation(name).parent == "projects/p"

    polled = session.get(f"{base}/{name}").json()
    assert polled["done"] is True
    assert polled["response"] == {
        "@type": "type.googleapis.com/google.cloud.vision.v1p1beta1."
        "AsyncBatchAnnotateFilesResponse",
        "responses": [{"outputConfig": r["outputConfig"]} for r in requests],
    }
    assert_the_pages_landed(gcs_client, bucket_name, requests)


def test_files_requests_the_service_refuses_are_a_400(vision_server: VisionServer) -> None:
    # The real request has no `pages` (the synchronous files:annotate has); the proto
    # itself refuses it, so only plain REST can send one.
    assert "pages" not in vision_v1.AsyncAnnotateFileRequest.pb().DESCRIPTOR.fields_by_name
    session = anonymous_session()
    url = f"{vision_server.url}/v1/files:asyncBatchAnnotate"
    good = file_request("gs://b/in/a.pdf", PDF, "gs://b/out/")

    def refused(request: Any) -> str:
        answer = session.post(url, json={"requests": [request]})
        assert answer.status_code == 400, request
        error = answer.json()["error"]
        assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
        message: str = error["message"]
        return message

    assert refused({**good, "pages": [1]}) == (
        "Invalid JSON payload received. Unknown name \"pages\" at 'requests[0]': Cannot find field."
    )
    nested = {**good, "outputConfig": {**good["outputConfig"], "prefix": "x"}}
    assert "Unknown name \"prefix\" at 'requests[0].output_config'" in refused(nested)
    assert "application/zip" in refused(
        file_request("gs://b/in/a.zip", "application/zip", "gs://b/o/")
    )
    assert "101" in refused(file_request("gs://b/in/a.pdf", PDF, "gs://b/out/", 101))
    assert "gs://" in refused(file_request("https://example.com/a.pdf", PDF, "gs://b/out/"))
    assert "gs://" in refused(file_request("gs://b/in/a.pdf", PDF, "/tmp/out/"))
    assert "features" in refused({**good, "features": "TEXT_DETECTION"})
    refused({**good, "features": [{"type": "NOT_A_FEATURE"}]})
    assert session.post(url, json={"requests": []}).status_code == 400
    assert session.post(url, json={"requests": [good], "pages": 1}).status_code == 400
    assert not vision_server.operations
    # Unset, 0 (proto3 cannot tell them apart) and snake_case names are fine.
    snake = {"input_config": {"gcs_source": {"uri": "gs://b/in/a.pdf"}, "mime_type": PDF}}
    for request in (
        good,
        {**good, "outputConfig": {**good["outputConfig"], "batchSize": 0}},
        {**snake, "output_config": good["outputConfig"]},
    ):
        assert session.post(url, json={"requests": [request]}).status_code == 200
    assert len(vision_server.operations) == 3


def test_files_that_fail_whole_and_pages_that_fail_are_written_as_errors(
    vision_server: VisionServer, gcs_client: StorageClient, bucket_name: str
) -> None:
    gcs_client.create_bucket(bucket_name)
    at = f"gs://{bucket_name}"
    scripted = put(gcs_client, f"{at}/in/scripted.pdf", pdf_bytes(3))
    paged = put(gcs_client, f"{at}/in/paged.tiff", tiff_bytes(2))
    not_pdf = put(gcs_client, f"{at}/in/not-a.pdf", gif_bytes(2))
    # Not Pillow's: 2,001 page objects are quicker written than drawn.
    too_long = put(gcs_client, f"{at}/in/long.pdf", b"%PDF-1.4\n" + b"<</Type /Page>>\n" * 2001)
    missing = f"{at}/in/missing.pdf"
    files = [(scripted, PDF), (paged, TIFF), (missing, PDF), (not_pdf, PDF), (too_long, PDF)]
    requests = [file_request(u, m, f"{at}/out/{i}/") for i, (u, m) in enumerate(files)]
    vision_server.script(
        failed_files={scripted: (7, "Permission denied on the file.")},
        failed_pages={(paged, 2): (13, "Internal error on page 2.")},
    )
    session = anonymous_session()
    answer = session.post(
        f"{vision_server.url}/v1/files:asyncBatchAnnotate", json={"requests": requests}
    )
    done = session.get(f"{vision_server.url}/v1/{answer.json()['name']}").json()
    assert done["response"]["responses"] == [{"outputConfig": r["outputConfig"]} for r in requests]

    found = written(gcs_client, bucket_name, "out/")
    assert sorted(found) == [f"out/{i}/output-1-to-{2 if i == 1 else 1}.json" for i in range(5)]

    def failed(uri: str, mime_type: str, code: int, message: str) -> bytes:
        return orjson.dumps(
            {
                "inputConfig": {"gcsSource": {"uri": uri}, "mimeType": mime_type},
                "error": {"code": code, "message": message},
            }
        )

    assert found["out/0/output-1-to-1.json"] == failed(
        scripted, PDF, 7, "Permission denied on the file."
    )
    assert found["out/1/output-1-to-2.json"] == orjson.dumps(
        {
            "inputConfig": requests[1]["inputConfig"],
            "responses": [
                vision_server.response_for(requests[1], page=1),
                {
                    "error": {"code": 13, "message": "Internal error on page 2."},
                    "context": {"uri": paged, "pageNumber": 2},
                },
            ],
            "totalPages": 2,
        }
    )
    assert found["out/2/output-1-to-1.json"] == failed(
        missing, PDF, 3, f"Input file {missing} does not exist or cannot be read."
    )
    assert found["out/3/output-1-to-1.json"] == failed(
        not_pdf, PDF, 3, f"Input file {not_pdf} is not a valid application/pdf file."
    )
    assert found["out/4/output-1-to-1.json"] == failed(
        too_long,
        PDF,
        3,
        f"Input file {too_long} has 2001 pages; at most {MAX_PAGES} are supported.",
    )


def test_without_total_pages_the_file_outputs_leave_it_out(
    vision_server: VisionServer, gcs_client: StorageClient, bucket_name: str
) -> None:
    gcs_client.create_bucket(bucket_name)
    gif = put(gcs_client, f"gs://{bucket_name}/in/anim.gif", gif_bytes(3))
    request = file_request(gif, GIF, f"gs://{bucket_name}/out/", 2)
    vision_server.script(with_total_pages=False)
    operation = v1_client(vision_server.url).async_batch_annotate_files(
        request={"requests": proto([request])}
    )
    wait(operation)
    found = written(gcs_client, bucket_name, "out/")
    assert found == {
        f"out/output-{first}-to-{last}.json": orjson.dumps(
            {
                "inputConfig": request["inputConfig"],
                "responses": [
                    vision_server.response_for(request, page=n) for n in range(first, last + 1)
                ],
            }
        )
        for first, last in [(1, 2), (3, 3)]
    }
    assert list(vision_server.operations[0].outputs) == [
        f"gs://{bucket_name}/{name}" for name in sorted(found)
    ]


@pytest.mark.parametrize("pages", [1, 4, 7])
@pytest.mark.parametrize(
    ("make", "mime_type"), [(pdf_bytes, PDF), (tiff_bytes, TIFF), (gif_bytes, GIF)]
)
def test_the_stand_in_counts_the_pages_of_real_documents(
    make: Callable[[int], bytes], mime_type: str, pages: int
) -> None:
    data = make(pages)
    assert count_pages(data, mime_type) == pages
    for other in {PDF, TIFF, GIF} - {mime_type}:  # the bytes, not the name, decide
        with pytest.raises(ValueError, match="not a"):
            count_pages(data, other)
