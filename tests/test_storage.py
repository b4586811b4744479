"""The one storage layer, against a real fake-gcs-server: every path that reaches Cloud
Storage (the export's Source, the jobs' image listing and manifest, vr.draw, pyarrow's
filesystem) fails through the one translation, into this package's errors, with the
messages that say what to do."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
from click.testing import CliRunner
from google.api_core.exceptions import Forbidden, NotFound
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from google.oauth2 import credentials
from google.resumable_media import DataCorruption

import vision_results as vr
from tests.draw_helpers import WORD, response, tables_of
from tests.fault_proxy import FaultProxy
from tests.gcs_server import upload_bytes
from tests.jobs_helpers import images
from tests.vision_server import VisionServer
from vision_results.cli import main
from vision_results.jobs.images import collect
from vision_results.jobs.manifest import JobRequest, plan
from vision_results.jobs.run import load, save
from vision_results.source import GcsSource, Shard
from vision_results.storage import (
    gcs_filesystem,
    identity,
    read_if_exists,
    read_object,
    storage_client,
    storage_error,
    write_object,
)

SHARD = "output-1-to-1.json"
PICTURE = "0.png"
REQUEST = JobRequest(["LABEL_DETECTION"])
OTHER_CREDENTIALS = (
    "or use other credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth "
    "application-default login)"
)


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _draw(client: storage.Client, base: str) -> object:
    uri = base + PICTURE
    return vr.draw(tables_of(response(400, 300, WORD), uri=uri), uri, client=client)


Attempt = Callable[[storage.Client, str], object]
PATHS: dict[str, tuple[Attempt, str, type[vr.VisionResultsError], str, str]] = {
    # call site: (what it does under gs://BUCKET/run/, the object it names, the error,
    # what failed, what the credentials may not do)
    "source.GcsSource.list": (
        lambda client, base: GcsSource(base, client).list(),
        "", vr.SourceError, "cannot list the objects of bucket {bucket}", "read",
    ),
    "source.GcsSource.read": (
        lambda client, base: GcsSource(base, client).read(Shard(SHARD, base + SHARD, 1)),
        SHARD, vr.SourceError, "download failed", "read",
    ),
    "jobs.images.from_prefix": (
        lambda client, base: collect([base], client),
        "", vr.SourceError, "cannot list the objects of bucket {bucket}", "read",
    ),
    "jobs.run.load": (
        lambda client, base: load(base, client),
        "_job.json", vr.JobError, "cannot read the job manifest", "read",
    ),
    "jobs.run.save": (
        lambda client, base: save(plan(base, ["gs://b/i.jpg"], REQUEST), client),
        "_job.json", vr.JobError, "cannot write the job manifest", "write to",
    ),
    "draw._fetch": (_draw, PICTURE, vr.ImageError, "download failed", "read"),
    "storage.write_object": (
        lambda client, base: write_object(base + "blob.bin", b"x", client),
        "blob.bin", vr.DestinationError, "upload failed", "write to",
    ),
}  # fmt: skip


@pytest.mark.parametrize("path", PATHS)
def test_a_refusal_on_every_path_names_the_bucket_and_the_identity(
    path: str,
    fault_proxy: FaultProxy,
    proxied_client: storage.Client,
    gcs_client: storage.Client,
    bucket_name: str,
) -> None:
    attempt, name, kind, failed, may = PATHS[path]
    gcs_client.create_bucket(bucket_name)
    base = f"gs://{bucket_name}/run/"
    fault_proxy.fail(f"/b/{bucket_name}/o", status=403, times=None)

    with pytest.raises(kind) as caught:
        attempt(proxied_client, base)

    message = str(caught.value)
    role = "objectUser" if may == "write to" else "objectViewer"
    failure = f"{base}{name}: {failed.format(bucket=bucket_name)}: HTTP 403 Forbidden: "
    assert message.startswith(failure), message
    assert "injected" in message  # the server's own words
    assert (
        f". The credentials used, anonymous (no credentials), may not {may} bucket "
        f"{bucket_name}: grant them roles/storage.{role} on it, {OTHER_CREDENTIALS}"
    ) in message
    translated = caught.value if kind is not vr.ImageError else caught.value.__cause__
    assert isinstance(translated, vr.VisionResultsError)
    assert isinstance(translated.__cause__, Forbidden)  # the google exception stays inside
    assert len(fault_proxy.requests(f"/b/{bucket_name}/o")) == 1  # a refusal is not retried


def test_jobs_image_listing_of_a_missing_bucket_is_a_source_error_naming_it(
    env: None, vision_server: VisionServer, gcs_client: storage.Client, bucket_name: str
) -> None:
    missing = "no-such-bucket-for-jobs"
    url = f"gs://{missing}/pics/"
    with pytest.raises(vr.SourceError) as caught:
        collect([url], gcs_client)
    message = str(caught.value)
    assert message.startswith(f"{url}: cannot list the objects of bucket {missing}: HTTP 404 ")
    assert message.endswith(f". There is no bucket '{missing}': check the bucket name")
    assert isinstance(caught.value.__cause__, NotFound)

    gcs_client.create_bucket(bucket_name)
    result = CliRunner().invoke(main, ["submit", url, "--output", f"gs://{bucket_name}/out/"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # no traceback
    assert message in result.output
    assert vision_server.requests == []  # nothing was submitted


def test_a_manifest_write_is_retried_and_reads_back(
    fault_proxy: FaultProxy,
    proxied_client: storage.Client,
    gcs_client: storage.Client,
    bucket_name: str,
) -> None:
    gcs_client.create_bucket(bucket_name)
    manifest = plan(f"gs://{bucket_name}/job/", images(bucket_name, 3), REQUEST)
    with pytest.raises(vr.JobError, match=r"no job manifest\. Was the job started with submit\?"):
        load(manifest.output, gcs_client)
    fault_proxy.fail(f"/upload/storage/v1/b/{bucket_name}/o", status=503)

    save(manifest, proxied_client)

    uploads = fault_proxy.requests(f"/upload/storage/v1/b/{bucket_name}/o")
    assert [s.status for s in uploads] == [503, 200]
    assert load(manifest.output, gcs_client) == manifest
    blob = gcs_client.bucket(bucket_name).get_blob("job/_job.json")
    assert blob is not None and blob.content_type == "application/json"


def test_writing_to_a_missing_bucket_says_so(gcs_client: storage.Client) -> None:
    url = "gs://no-such-bucket-to-write/out/blob.bin"
    with pytest.raises(vr.DestinationError) as caught:
        write_object(url, b"x", gcs_client)
    message = str(caught.value)
    assert message.startswith(f"{url}: upload failed: HTTP 404 Not Found: ")
    assert message.endswith(". There is no bucket 'no-such-bucket-to-write': check the bucket name")


def test_read_object_of_a_missing_object_says_so(
    gcs_client: storage.Client, bucket_name: str
) -> None:
    upload_bytes(gcs_client, bucket_name, {"there.bin": b"here"})
    assert read_object(f"gs://{bucket_name}/there.bin", gcs_client) == b"here"
    url = f"gs://{bucket_name}/gone.bin"
    with pytest.raises(vr.SourceError) as caught:
        read_object(url, gcs_client)
    message = str(caught.value)
    assert message.startswith(f"{url}: download failed: HTTP 404 Not Found: ")
    assert message.endswith(
        f". There is no such object (or no bucket '{bucket_name}'): check the name"
    )
    assert isinstance(caught.value.__cause__, NotFound)


def test_read_if_exists_is_none_only_for_a_missing_object(
    gcs_client: storage.Client, bucket_name: str
) -> None:
    upload_bytes(gcs_client, bucket_name, {"there.bin": b"here"})
    assert read_if_exists(f"gs://{bucket_name}/there.bin", gcs_client) == b"here"
    assert read_if_exists(f"gs://{bucket_name}/gone.bin", gcs_client) is None
    assert read_if_exists(f"gs://{bucket_name}-absent/gone.bin", gcs_client) is None


def test_read_object_refuses_corrupted_bytes_without_retrying(
    fault_proxy: FaultProxy,
    proxied_client: storage.Client,
    gcs_client: storage.Client,
    bucket_name: str,
) -> None:
    upload_bytes(gcs_client, bucket_name, {"page.json": b'{"responses": [{"a": "b"}]}'})
    fault_proxy.corrupt("/o/page.json?")
    url = f"gs://{bucket_name}/page.json"
    with pytest.raises(vr.SourceError) as caught:
        read_object(url, proxied_client)
    assert str(caught.value) == (
        f"{url}: downloaded bytes do not match the object's checksum (corrupted in transit). "
        "Try again; if it persists, check the network path."
    )
    assert isinstance(caught.value.__cause__, DataCorruption)
    assert len(fault_proxy.requests("/o/page.json?")) == 1


@pytest.mark.parametrize("scheme", ["http://", ""])
def test_gcs_filesystem_reaches_the_emulator_the_variable_names(
    scheme: str,
    fault_proxy: FaultProxy,
    gcs_client: storage.Client,
    bucket_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gcs_client.create_bucket(bucket_name)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", scheme + fault_proxy.url.removeprefix("http://"))
    fs = gcs_filesystem()

    with fs.open_output_stream(f"{bucket_name}/by-arrow.txt") as out:
        out.write(b"written by pyarrow")
    gcs_client.bucket(bucket_name).blob("by-client.txt").upload_from_string(b"by the client")

    assert gcs_client.bucket(bucket_name).blob("by-arrow.txt").download_as_bytes() == (
        b"written by pyarrow"
    )
    with fs.open_input_stream(f"{bucket_name}/by-client.txt") as stream:
        assert stream.read() == b"by the client"
    # The other client, from the same variable, reaches the same place.
    assert read_object(f"gs://{bucket_name}/by-arrow.txt", storage_client()) == (
        b"written by pyarrow"
    )
    through = {(s.method, s.path.split("?")[0]) for s in fault_proxy.requests(bucket_name)}
    assert {
        ("POST", f"/upload/storage/v1/b/{bucket_name}/o"),  # pyarrow's upload
        ("GET", f"/storage/v1/b/{bucket_name}/o/by-client.txt"),  # pyarrow's read
        ("GET", f"/download/storage/v1/b/{bucket_name}/o/by-arrow.txt"),  # storage_client()
    } <= through, through


def test_pyarrows_errors_get_the_same_translation(
    fault_proxy: FaultProxy,
    gcs_client: storage.Client,
    bucket_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gcs_client.create_bucket(bucket_name)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fault_proxy.url)
    fs = gcs_filesystem()
    url = f"gs://{bucket_name}/part-0.parquet"
    with pytest.raises(FileNotFoundError) as missing:
        fs.open_input_stream(url.removeprefix("gs://"))
    error = storage_error(missing.value, url)
    assert isinstance(error, vr.SourceError)
    assert str(error).startswith(f"{url}: download failed: FileNotFoundError: ")
    assert str(error).endswith(
        f". There is no such object (or no bucket '{bucket_name}'): check the name"
    )

    fault_proxy.fail(f"/b/{bucket_name}/o", status=403, times=None)
    with pytest.raises(PermissionError) as refused, fs.open_output_stream(url[5:]) as out:
        out.write(b"x")
    error = storage_error(refused.value, url, action="write", kind=vr.DestinationError)
    assert isinstance(error, vr.DestinationError)
    assert str(error).startswith(f"{url}: upload failed: PermissionError: ")
    assert f". The credentials used may not write to bucket {bucket_name}: " in str(error)


def test_jobs_fail_at_once_when_nothing_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", endpoint)
    nothing = f"Nothing answers at {endpoint}: check STORAGE_EMULATOR_HOST or the network"
    started = time.monotonic()

    result = CliRunner().invoke(main, ["status", "gs://bucket/job"])
    with pytest.raises(vr.SourceError) as caught:
        collect(["gs://bucket/pics/"], storage_client())

    assert time.monotonic() - started < 10  # not retried for the default 120 s
    assert result.exit_code == 1
    assert "gs://bucket/job/_job.json: cannot read the job manifest: " in result.output
    assert nothing in result.output and "--retry-deadline" not in result.output
    assert str(caught.value).startswith("gs://bucket/pics/: cannot list the objects of bucket ")
    assert str(caught.value).endswith(nothing)  # jobs have no option to wait for it


def user_credentials() -> credentials.Credentials:
    """A user's credentials with an account and secrets that must never be shown."""
    return credentials.Credentials(
        token="ya29.not-a-real-token",
        refresh_token="1//not-a-real-refresh-token",
        client_id="id.apps.googleusercontent.com",
        client_secret="not-a-real-secret",
        account="analyst@example.com",
    )


def test_a_refusal_names_the_account_and_never_a_token() -> None:
    user = user_credentials()
    client = storage.Client(project="p", credentials=user)
    error = storage_error(
        Forbidden("denied"), "gs://b-1/out/x", action="write", client=client, kind=vr.JobError
    )
    assert isinstance(error, vr.JobError)
    assert str(error) == (
        "gs://b-1/out/x: upload failed: HTTP 403 Forbidden: denied. The credentials used, "
        "analyst@example.com (google.oauth2.credentials.Credentials), may not write to "
        f"bucket b-1: grant them roles/storage.objectUser on it, {OTHER_CREDENTIALS}"
    )


def test_identity_names_the_account_and_nothing_secret() -> None:
    user = user_credentials()
    said = identity(storage.Client(project="p", credentials=user))
    assert said == "analyst@example.com (google.oauth2.credentials.Credentials)"
    assert "not-a-real" not in said
    anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]
    assert identity(storage.Client(project="p", credentials=anonymous)) == (
        "anonymous (no credentials)"
    )
