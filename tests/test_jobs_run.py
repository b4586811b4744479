"""Submit, watch and finish jobs end to end: the real Vision client and REST path talk to
a stand-in service on loopback, which writes its output into fake-gcs-server."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from google.cloud import storage

import vision_results as vr
from tests.jobs_helpers import images, make_bucket, no_sleep
from tests.vision_server import VisionServer
from vision_results import JobError
from vision_results.cli import main
from vision_results.jobs.api import vision_api
from vision_results.jobs.run import load, submit, wait


def test_cli_submit_wait_export_gives_one_row_per_image(
    env: None,
    vision_server: VisionServer,
    gcs_client: storage.Client,
    bucket_name: str,
    tmp_path: Path,
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    (tmp_path / "list.txt").write_text("\n".join(images(bucket, 25)))
    output = f"gs://{bucket}/run1/"
    result = CliRunner().invoke(
        main,
        ["submit", str(tmp_path / "list.txt"), "--output", output, "--features",
         "LABEL_DETECTION,FACE_DETECTION", "--max-results", "3", "--parent", "projects/p",
         "--wait"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"DONE      images 1-25  {output}op-0000/  projects/p/")

    (sent,) = [r for r in vision_server.requests if r.method == "POST"]
    assert sent.decoded_path == "/v1/images:asyncBatchAnnotate?$alt=json;enum-encoding=int"
    assert sent.body["parent"] == "projects/p"
    assert sent.body["outputConfig"] == {
        "gcsDestination": {"uri": f"{output}op-0000/"},
        "batchSize": 20,
    }
    assert sent.body["requests"][0] == {
        "image": {"source": {"imageUri": images(bucket, 1)[0]}},
        "features": [{"type": 4, "maxResults": 3}, {"type": 1, "maxResults": 3}],
    }
    report = vr.export(output, tmp_path / "tables", client=gcs_client)
    table = pq.read_table(tmp_path / "tables" / "images").to_pylist()
    assert [row["uri"] for row in table] == images(bucket, 25)
    assert [s.name for s in report.shards] == [
        "op-0000/output-1-to-20.json",
        "op-0000/output-21-to-25.json",
    ]
    assert [(o.name, o.reason) for o in report.ignored_objects] == [
        ("_job.json", "job manifest of vision-results, not Vision output")
    ]


def test_v1p1beta1_posts_to_its_own_surface(
    env: None, vision_server: VisionServer, gcs_client: storage.Client, bucket_name: str
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    api = vision_api("v1p1beta1")
    manifest = submit(
        images(bucket, 3),
        f"gs://{bucket}/beta",
        features=["TEXT_DETECTION"],
        api=api,
        storage=gcs_client,
        parent="projects/p/locations/eu",
        api_version="v1p1beta1",
    )
    wait(manifest, api, gcs_client, poll=no_sleep)
    post, get = vision_server.requests[0], vision_server.requests[-1]
    assert (post.method, post.decoded_path) == (
        "POST",
        "/v1p1beta1/projects/p/locations/eu/images:asyncBatchAnnotate",
    )
    assert post.body == {
        "requests": [
            {"image": {"source": {"imageUri": uri}}, "features": [{"type": "TEXT_DETECTION"}]}
            for uri in images(bucket, 3)
        ],
        "outputConfig": {
            "gcsDestination": {"uri": f"gs://{bucket}/beta/op-0000/"},
            "batchSize": 20,
        },
        "parent": "projects/p/locations/eu",
    }
    assert (get.method, get.decoded_path) == ("GET", f"/v1p1beta1/{manifest.operations[0].name}")
    assert load(f"gs://{bucket}/beta", gcs_client).operations[0].state == "DONE"


def service_account_key(path: Path, project: str) -> Path:
    """A key file as the console writes one, with a freshly made key (never used
    to sign here: the stand-in takes no credentials)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": "k1",
        "private_key": pem.decode(),
        "client_email": f"runner@{project}.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(info))
    return path


@pytest.mark.parametrize(
    ("case", "parent", "path"),
    [
        ("--parent", "projects/p", "/v1p1beta1/projects/p/images:asyncBatchAnnotate"),
        ("GOOGLE_CLOUD_PROJECT", "projects/env-project",
         "/v1p1beta1/projects/env-project/images:asyncBatchAnnotate"),
        ("ADC key file", "projects/adc-project",
         "/v1p1beta1/projects/adc-project/images:asyncBatchAnnotate"),
        ("no project", None, "/v1p1beta1/images:asyncBatchAnnotate"),
    ],
)  # fmt: skip
def test_v1p1beta1_is_scoped_to_the_project_when_one_is_known(
    env: None,
    vision_server: VisionServer,
    gcs_client: storage.Client,
    bucket_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    parent: str | None,
    path: str,
) -> None:
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    if case == "GOOGLE_CLOUD_PROJECT":
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-project")
    if case == "ADC key file":
        key = service_account_key(tmp_path / "key.json", "adc-project")
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    bucket = make_bucket(gcs_client, bucket_name)
    output = f"gs://{bucket}/scoped/"
    args = ["submit", images(bucket, 1)[0], "--output", output, "--api-version", "v1p1beta1"]
    result = CliRunner().invoke(main, [*args, *(["--parent", "projects/p"] * (case == "--parent"))])
    assert result.exit_code == 0, result.output
    (post,) = [r for r in vision_server.requests if r.method == "POST"]
    assert post.decoded_path == path
    assert post.body.get("parent") == parent
    assert load(output, gcs_client).request.parent == parent


def test_more_than_2000_images_split_into_operations(
    env: None, vision_server: VisionServer, gcs_client: storage.Client, bucket_name: str
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    api = vision_api()
    manifest = submit(
        images(bucket, 2001), f"gs://{bucket}/big/", features=["LABEL_DETECTION"], api=api,
        storage=gcs_client, batch_size=100,
    )  # fmt: skip
    posts = [r for r in vision_server.requests if r.method == "POST"]
    assert [len(p.body["requests"]) for p in posts] == [2000, 1]
    assert [p.body["outputConfig"]["gcsDestination"]["uri"] for p in posts] == [
        f"gs://{bucket}/big/op-0000/",
        f"gs://{bucket}/big/op-0001/",
    ]
    assert posts[1].body["requests"][0]["image"]["source"]["imageUri"] == images(bucket, 2001)[-1]
    saved = load(f"gs://{bucket}/big/", gcs_client)
    assert saved.images == images(bucket, 2001)
    assert [(op.first, op.last, op.name is not None) for op in saved.operations] == [
        (1, 2000, True),
        (2001, 2001, True),
    ]
    wait(manifest, api, gcs_client, poll=no_sleep)


def test_wait_resumes_from_the_manifest(
    env: None, vision_server: VisionServer, gcs_client: storage.Client, bucket_name: str
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    vision_server.script(polls_until_done=3)
    output = f"gs://{bucket}/slow/"
    submit(images(bucket, 4), output, features=["LABEL_DETECTION"], api=vision_api(),
           storage=gcs_client)  # fmt: skip
    # The terminal that submitted is gone; a new one only knows the output prefix.
    assert load(output, gcs_client).operations[0].state == "CREATED"
    result = CliRunner().invoke(main, ["status", output])
    assert result.exit_code == 0 and result.output.startswith("RUNNING")
    result = CliRunner().invoke(main, ["wait", output, "--interval", "0", "--json"])
    assert result.exit_code == 0, result.output
    assert load(output, gcs_client).operations[0].state == "DONE"
    assert '"state": "DONE"' in result.output


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [(3, "INVALID_ARGUMENT", "Bad image data."), (8, "RESOURCE_EXHAUSTED", "Quota exceeded.")],
)
def test_failed_operation_ends_with_its_code_and_a_non_zero_exit(
    env: None,
    vision_server: VisionServer,
    gcs_client: storage.Client,
    bucket_name: str,
    code: int,
    status: str,
    message: str,
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    vision_server.script(fail_with=(code, message))
    output = f"gs://{bucket}/bad/"
    manifest = submit(images(bucket, 2), output, features=["LABEL_DETECTION"], api=vision_api(),
                      storage=gcs_client)  # fmt: skip
    with pytest.raises(JobError, match=rf"{status} \({code}\): {message}"):
        wait(manifest, vision_api(), gcs_client, poll=no_sleep)
    result = CliRunner().invoke(main, ["wait", output, "--interval", "0"])
    assert result.exit_code == 1
    assert f"{manifest.operations[0].name}: {status} ({code}): {message}" in result.output
    assert load(output, gcs_client).operations[0].state == "FAILED"


def test_python_api_submits_waits_and_reads_the_job(
    env: None, vision_server: VisionServer, gcs_client: storage.Client, bucket_name: str
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    output = f"gs://{bucket}/api/"
    manifest = vr.submit(images(bucket, 5), output, features=["LABEL_DETECTION"], wait=True)
    assert [op.state for op in manifest.operations] == ["DONE"]
    assert vr.jobs.status(output).operations[0].state == "DONE"
    assert vr.jobs.reconcile(output).ok == images(bucket, 5)
    assert vr.jobs.retry_failed(output).operations == manifest.operations  # nothing to retry
    res = vr.open(output, tables=["images", "labels"], progress=False)
    assert list(res.images["uri"]) == images(bucket, 5)


def test_status_of_one_operation_by_name(
    env: None, vision_server: VisionServer, gcs_client: storage.Client, bucket_name: str
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    vision_server.script(fail_with=(3, "Bad image data."))
    manifest = vr.submit(images(bucket, 1), f"gs://{bucket}/one/", features=["LABEL_DETECTION"])
    name = str(manifest.operations[0].name)
    result = CliRunner().invoke(main, ["status", name])
    assert result.exit_code == 0, result.output
    assert result.output == f"FAILED    {name}\n          INVALID_ARGUMENT (3): Bad image data.\n"
    result = CliRunner().invoke(main, ["status", "projects/p/operations/nope"])
    assert result.exit_code == 1 and "cannot read operation projects/p/operations/nope" in (
        result.output
    )


def test_operations_in_flight_are_bounded(
    env: None, vision_server: VisionServer, gcs_client: storage.Client, bucket_name: str
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    vision_server.script(polls_until_done=2)
    slept: list[float] = []
    submit(
        images(bucket, 2001), f"gs://{bucket}/bounded/", features=["LABEL_DETECTION"],
        api=vision_api(), storage=gcs_client, max_in_flight=1, poll=slept.append, interval=7,
    )  # fmt: skip
    kinds = [r.method for r in vision_server.requests]
    # The second operation starts only once the first is done (two polls RUNNING, then DONE).
    assert kinds == ["POST", "GET", "GET", "GET", "POST"]
    assert slept == [7, 7, 7]


def test_transient_errors_are_retried_on_both_surfaces(
    env: None, vision_server: VisionServer, gcs_client: storage.Client, bucket_name: str
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    for version in ("v1", "v1p1beta1"):
        vision_server.add_transient(503, 429)
        api = vision_api(version)
        output = f"gs://{bucket}/{version}/"
        manifest = submit(images(bucket, 2), output, features=["LABEL_DETECTION"], api=api,
                          storage=gcs_client, api_version=version)  # fmt: skip
        assert wait(manifest, api, gcs_client, poll=no_sleep).operations[0].state == "DONE"
    statuses = [r.status for r in vision_server.requests if r.method == "POST"]
    assert statuses == [503, 429, 200, 503, 429, 200]


def test_a_prefix_without_manifest_says_so(
    env: None, gcs_client: storage.Client, bucket_name: str
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    for command in ("status", "wait", "reconcile"):
        result = CliRunner().invoke(main, [command, f"gs://{bucket}/nothing"])
        assert result.exit_code == 1
        assert f"gs://{bucket}/nothing/_job.json: no job manifest" in result.output
