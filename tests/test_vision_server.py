"""The Vision stand-in (tests/vision_server.py) against the real clients, no mocks: the
official v1 client's REST transport and google-auth's authorized session, with the
output landing in a real fake-gcs-server (and, for file jobs, the input read from it:
real PDF, TIFF and GIF documents made by Pillow)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from google.api_core import exceptions
from google.api_core.operation import Operation
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import AuthorizedSession
from google.cloud import vision_v1
from google.cloud.storage import Client as StorageClient

from tests.jobs_helpers import gif_bytes, pdf_bytes, tiff_bytes
from tests.vision_files import MAX_PAGES, count_pages
from tests.vision_server import (
    FAST_POLLING,
    FAST_RETRY,
    MAX_IMAGES,
    Script,
    VisionServer,
    v1_client,
)

FEATURES = [
    {"type_": "LABEL_DETECTION", "max_results": 3},
    {"type_": "DOCUMENT_TEXT_DETECTION"},
    {"type_": "FACE_DETECTION"},
]


def image_uris(count: int, folder: str = "in") -> list[str]:
    return [f"gs://source-bucket/{folder}/img-{i:04d}.jpg" for i in range(1, count + 1)]


def v1_request(uris: list[str], destination: str, batch_size: int, **extra: Any) -> dict[str, Any]:
    """An AsyncBatchAnnotateImagesRequest as a dict of the proto-plus field names."""
    return {
        "requests": [{"image": {"source": {"image_uri": u}}, "features": FEATURES} for u in uris],
        "output_config": {"gcs_destination": {"uri": destination}, "batch_size": batch_size},
        **extra,
    }


def shards(client: StorageClient, bucket: str, prefix: str) -> dict[str, list[dict[str, Any]]]:
    """Object name -> its responses, for every object under `prefix`."""
    return {
        blob.name: json.loads(blob.download_as_bytes())["responses"]
        for blob in client.list_blobs(bucket, prefix=prefix)
    }


def wait(operation: Operation, **kwargs: Any) -> Any:
    """The operation's result, polled every few milliseconds."""
    return operation.result(timeout=10, polling=FAST_POLLING, **kwargs)  # type: ignore[no-untyped-call]


def anonymous_session() -> AuthorizedSession:
    return AuthorizedSession(AnonymousCredentials())  # type: ignore[no-untyped-call]


def test_v1_client_runs_a_job_and_the_shards_land_in_the_bucket(
    vision_server: VisionServer, gcs_client: StorageClient, bucket_name: str
) -> None:
    gcs_client.create_bucket(bucket_name)
    uris = image_uris(45)
    vision_server.script(polls_until_done=2, failed_images={uris[7]: (3, "Bad image data.")})
    destination = f"gs://{bucket_name}/run1/"
    client = v1_client(vision_server.url)

    operation = client.async_batch_annotate_images(
        request=v1_request(uris, destination, 20, parent="projects/test-project"),
        retry=FAST_RETRY,
    )
    assert operation.operation.name.startswith("projects/test-project/operations/")
    assert operation.metadata.state == vision_v1.OperationMetadata.State.CREATED
    result = wait(operation)

    assert isinstance(result, vision_v1.AsyncBatchAnnotateImagesResponse)
    assert result.output_config.gcs_destination.uri == destination
    assert result.output_config.batch_size == 20
    assert operation.metadata.state == vision_v1.OperationMetadata.State.DONE

    # What the official client sent: parent in the body (the first URL template,
    # which has no path variable, always matches), enums as numbers.
    submit, *polls = vision_server.requests
    assert (submit.method, submit.decoded_path) == (
        "POST",
        "/v1/images:asyncBatchAnnotate?$alt=json;enum-encoding=int",
    )
    assert submit.body["parent"] == "projects/test-project"
    assert submit.body["outputConfig"] == {
        "gcsDestination": {"uri": destination},
        "batchSize": 20,
    }
    assert submit.body["requests"][0] == {
        "image": {"source": {"imageUri": uris[0]}},
        "features": [{"type": 4, "maxResults": 3}, {"type": 11}, {"type": 1}],
    }
    assert [p.method for p in polls] == ["GET"] * 3  # RUNNING, RUNNING, DONE
    assert {p.path for p in polls} == {f"/v1/{operation.operation.name}"}

    found = shards(gcs_client, bucket_name, "run1/")
    assert sorted(found) == [
        "run1/output-1-to-20.json",
        "run1/output-21-to-40.json",
        "run1/output-41-to-45.json",
    ]
    responses = [
        r for name in sorted(found, key=lambda n: int(n.split("-")[1])) for r in found[name]
    ]
    assert [r["context"]["uri"] for r in responses] == uris
    assert responses[7] == {
        "error": {"code": 3, "message": "Bad image data."},
        "context": {"uri": uris[7]},
    }
    for response in responses[:7] + responses[8:]:
        assert 1 <= len(response["labelAnnotations"]) <= 3  # maxResults
        assert (
            response["textAnnotations"][0]["description"] == response["fullTextAnnotation"]["text"]
        )
        assert response["faceAnnotations"]
        assert not {"webDetection", "safeSearchAnnotation"} & response.keys()  # not asked for
    # Deterministic: the same uri gives the same response, whatever the job.
    again = vision_server.response_for(submit.body["requests"][3])
    assert again == responses[3]


def test_get_operation_by_name_resumes_polling(
    vision_server: VisionServer, gcs_client: StorageClient, bucket_name: str
) -> None:
    gcs_client.create_bucket(bucket_name)
    vision_server.script(polls_until_done=1)
    request = v1_request(image_uris(5), f"gs://{bucket_name}/resume/", 2, parent="projects/p")
    name = v1_client(vision_server.url).async_batch_annotate_images(request=request).operation.name

    fresh = v1_client(vision_server.url)  # as after a restart: only the name is known
    states = []
    for _ in range(3):
        answer = fresh.get_operation({"name": name}, retry=FAST_RETRY)
        metadata = vision_v1.OperationMetadata.deserialize(answer.metadata.value)
        states.append((answer.done, metadata.state.name))
    assert states == [(False, "RUNNING"), (True, "DONE"), (True, "DONE")]
    assert answer.response.type_url.endswith(
        "google.cloud.vision.v1.AsyncBatchAnnotateImagesResponse"
    )
    done = vision_v1.AsyncBatchAnnotateImagesResponse.deserialize(answer.response.value)
    assert done.output_config.gcs_destination.uri == f"gs://{bucket_name}/resume/"
    assert sorted(shards(gcs_client, bucket_name, "resume/")) == [
        "resume/output-1-to-2.json",
        "resume/output-3-to-4.json",
        "resume/output-5-to-5.json",
    ]
    assert vision_server.operation(name).polls == 2  # the DONE answer is not a poll more


def test_v1p1beta1_over_an_authorized_session(
    vision_server: VisionServer, gcs_client: StorageClient, bucket_name: str
) -> None:
    gcs_client.create_bucket(bucket_name)
    session = anonymous_session()
    uris = image_uris(3)
    body: dict[str, Any] = {
        "requests": [
            {"image": {"source": {"gcsImageUri": u}}, "features": [{"type": "LABEL_DETECTION"}]}
            for u in uris
        ],
        "outputConfig": {"gcsDestination": {"uri": f"gs://{bucket_name}/run1"}},  # no slash
    }
    base = f"{vision_server.url}/v1p1beta1"
    answer = session.post(f"{base}/projects/p/locations/eu/images:asyncBatchAnnotate", json=body)
    assert answer.status_code == 200, answer.text
    started = answer.json()
    name = started["name"]
    assert name.startswith("projects/p/operations/")
    assert started == {
        "name": name,
        "metadata": {
            "@type": "type.googleapis.com/google.cloud.vision.v1p1beta1.OperationMetadata",
            "state": "CREATED",
            "createTime": started["metadata"]["createTime"],
            "updateTime": started["metadata"]["updateTime"],
        },
        "done": False,
    }
    assert vision_server.operation(name).parent == "projects/p/locations/eu"

    polled = session.get(f"{base}/{name}").json()
    assert polled["done"] is True
    assert polled["metadata"]["state"] == "DONE"
    assert polled["response"] == {
        "@type": "type.googleapis.com/google.cloud.vision.v1p1beta1."
        "AsyncBatchAnnotateImagesResponse",
        "outputConfig": body["outputConfig"],
    }
    found = shards(gcs_client, bucket_name, "run1")
    assert list(found) == ["run1output-1-to-3.json"]  # glued onto the raw prefix
    assert [r["context"]["uri"] for r in found["run1output-1-to-3.json"]] == uris
    assert all(r.keys() == {"labelAnnotations", "context"} for r in found["run1output-1-to-3.json"])

    # Without a parent: the name has none either.
    plain = session.post(f"{base}/images:asyncBatchAnnotate", json=body).json()
    assert plain["name"].startswith("operations/")
    assert session.get(f"{base}/{plain['name']}").json()["done"] is True


def test_a_failed_operation_raises_the_stand_ins_error(
    vision_server: VisionServer, gcs_client: StorageClient, bucket_name: str
) -> None:
    gcs_client.create_bucket(bucket_name)
    vision_server.script(fail_with=(8, "Quota exceeded for AsyncBatchAnnotate."))
    client = v1_client(vision_server.url)
    operation = client.async_batch_annotate_images(
        request=v1_request(image_uris(4), f"gs://{bucket_name}/failed/", 20)
    )
    assert operation.operation.name.startswith("operations/")

    with pytest.raises(exceptions.GoogleAPICallError) as caught:
        wait(operation)
    assert isinstance(caught.value, exceptions.ResourceExhausted)
    assert caught.value.code == 429  # the HTTP status of gRPC code 8
    assert caught.value.grpc_status_code is not None
    assert caught.value.grpc_status_code.value[0] == 8
    assert caught.value.message == "Quota exceeded for AsyncBatchAnnotate."
    assert not shards(gcs_client, bucket_name, "failed/")  # nothing written

    # The queue is used up: the next operation follows the server's default again.
    second = client.async_batch_annotate_images(
        request=v1_request(image_uris(1), f"gs://{bucket_name}/ok/", 20)
    )
    wait(second)
    assert list(shards(gcs_client, bucket_name, "ok/")) == ["ok/output-1-to-1.json"]


def test_too_many_images_or_a_bad_batch_size_is_a_400(vision_server: VisionServer) -> None:
    client = v1_client(vision_server.url)
    with pytest.raises(exceptions.BadRequest) as caught:
        client.async_batch_annotate_images(
            request=v1_request(image_uris(MAX_IMAGES + 1), "gs://b/too-many/", 20)
        )
    assert "2000" in caught.value.message

    session = anonymous_session()
    url = f"{vision_server.url}/v1/projects/p/images:asyncBatchAnnotate"
    requests = [{"image": {"source": {"imageUri": "gs://b/x.jpg"}}, "features": [{"type": 4}]}]
    for batch_size in (0, 101):  # proto3 cannot tell 0 from unset; the real API says 1..100
        body: dict[str, Any] = {
            "requests": requests,
            "outputConfig": {"gcsDestination": {"uri": "gs://b/o/"}},
        }
        body["outputConfig"]["batchSize"] = batch_size
        answer = session.post(url, json=body)
        if batch_size == 0:
            assert answer.status_code == 200, answer.text
            continue
        assert answer.status_code == 400
        error = answer.json()
        assert error.keys() == {"error"}
        assert error["error"]["code"] == 400
        assert error["error"]["status"] == "INVALID_ARGUMENT"
        assert "101" in error["error"]["message"]
    for feature in ({"type": "NOT_A_FEATURE"}, {"type": 8}, {"type": 4, "maxResults": "x"}):
        body = {
            "requests": [
                {"image": {"source": {"imageUri": "gs://b/x.jpg"}}, "features": [feature]}
            ],
            "outputConfig": {"gcsDestination": {"uri": "gs://b/o/"}},
        }
        assert session.post(url, json=body).status_code == 400, feature
    assert [r.status for r in vision_server.requests] == [400, 200, 400, 400, 400, 400]
    assert len(vision_server.operations) == 1


def test_transient_errors_are_retried_by_the_client(
    vision_server: VisionServer, gcs_client: StorageClient, bucket_name: str
) -> None:
    gcs_client.create_bucket(bucket_name)
    vision_server.add_transient(503)  # the submit
    vision_server.script(transient=[503, 503], polls_until_done=1)  # its first two polls
    client = v1_client(vision_server.url)
    operation = client.async_batch_annotate_images(
        request=v1_request(image_uris(2), f"gs://{bucket_name}/retried/", 20), retry=FAST_RETRY
    )
    wait(operation, retry=FAST_RETRY)
    assert [(r.method, r.status) for r in vision_server.requests] == [
        ("POST", 503),
        ("POST", 200),
        ("GET", 503),
        ("GET", 503),
        ("GET", 200),  # RUNNING
        ("GET", 200),  # DONE
    ]
    assert list(shards(gcs_client, bucket_name, "retried/")) == ["retried/output-1-to-2.json"]


def test_on_submit_scripts_by_request_and_writes_without_a_storage_client() -> None:
    def on_submit(body: dict[str, Any]) -> Script | None:
        uri = body["outputConfig"]["gcsDestination"]["uri"]
        return Script(fail_with=(3, "Bad destination.")) if "/bad/" in uri else None

    session = anonymous_session()
    requests = [{"image": {"source": {"imageUri": "gs://b/a.jpg"}}, "features": [{"type": 5}]}]
    with VisionServer(on_submit=on_submit) as server:
        names = []
        for where in ("gs://b/good/", "gs://b/bad/"):
            body: dict[str, Any] = {
                "requests": requests,
                "outputConfig": {"gcsDestination": {"uri": where}},
            }
            answer = session.post(f"{server.url}/v1/images:asyncBatchAnnotate", json=body)
            names.append(answer.json()["name"])
        good, bad = (session.get(f"{server.url}/v1/{name}").json() for name in names)
    assert "response" in good and "error" not in good
    assert bad["error"] == {"code": 3, "message": "Bad destination."}
    outputs = server.operation(names[0]).outputs
    assert list(outputs) == ["gs://b/good/output-1-to-1.json"]
    (only,) = json.loads(outputs["gs://b/good/output-1-to-1.json"])["responses"]
    assert only.keys() == {"textAnnotations", "fullTextAnnotation", "context"}
    assert not server.operation(names[1]).outputs


# --- files:asyncBatchAnnotate (PDF, TIFF, GIF) ----------------------------------------------

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
