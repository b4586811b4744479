"""The Vision stand-in (tests/vision_server.py) against the real clients, no mocks: the
official v1 client's REST transport and google-auth's authorized session, with the
output landing in a real fake-gcs-server (its files method: tests/test_vision_files.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import vision_v1
from google.cloud.storage import Client as StorageClient

from tests.jobs_helpers import anonymous_session, wait
from tests.vision_server import (
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
