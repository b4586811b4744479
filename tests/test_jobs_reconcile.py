"""reconcile and --retry-failed, end to end against the stand-in and fake-gcs-server;
the export of a retried job holds one row per image, the latest answer winning."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from google.cloud import storage

import vision_results as vr
from tests.jobs_helpers import images, make_bucket, no_sleep
from tests.vision_server import VisionServer
from vision_results.cli import main
from vision_results.jobs.api import vision_api
from vision_results.jobs.reconcile import reconcile, retry_failed
from vision_results.jobs.run import load, save, submit, wait
from vision_results.synth import write_sample


def test_retry_failed_answers_again_and_the_latest_answer_wins(
    env: None,
    vision_server: VisionServer,
    gcs_client: storage.Client,
    bucket_name: str,
    tmp_path: Path,
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    uris = images(bucket, 6)
    flaky, broken = uris[1], uris[4]
    vision_server.script(
        failed_images={flaky: (14, "We can not access the URL currently."),
                       broken: (3, "Bad image data.")},
    )  # fmt: skip
    output = f"gs://{bucket}/run/"
    api = vision_api()
    wait(submit(uris, output, features=["LABEL_DETECTION"], api=api, storage=gcs_client),
         api, gcs_client, poll=no_sleep)  # fmt: skip

    first = reconcile(load(output, gcs_client), gcs_client)
    assert (first.errors, first.missing) == ({14: [flaky], 3: [broken]}, [])
    assert first.ok == [u for u in uris if u not in (flaky, broken)]
    result = CliRunner().invoke(main, ["reconcile", output])
    assert result.exit_code == 0
    assert "error UNAVAILABLE (14)  1" in result.output and "missing        0" in result.output

    result = CliRunner().invoke(main, ["submit", "--retry-failed", output, "--wait"])
    assert result.exit_code == 0, result.output
    retry = load(output, gcs_client).operations[1]
    assert (retry.output, retry.positions, retry.state) == (f"{output}op-0001/", [2], "DONE")
    posts = [r for r in vision_server.requests if r.method == "POST"]
    assert [r["image"]["source"]["imageUri"] for r in posts[1].body["requests"]] == [flaky]

    again = reconcile(load(output, gcs_client), gcs_client)
    assert (again.errors, again.missing) == ({3: [broken]}, [])
    vr.export(output, tmp_path / "tables", client=gcs_client)
    rows = pq.read_table(tmp_path / "tables" / "images").to_pylist()
    assert sorted(r["uri"] for r in rows) == sorted(uris)  # one row per image
    by_uri = {r["uri"]: r for r in rows}
    assert by_uri[flaky]["error_code"] is None and by_uri[flaky]["shard"].startswith("op-0001/")
    assert by_uri[broken]["error_code"] == 3


def test_missing_images_are_retried_and_context_comes_from_the_manifest(
    env: None,
    vision_server: VisionServer,
    gcs_client: storage.Client,
    bucket_name: str,
    tmp_path: Path,
) -> None:
    bucket = make_bucket(gcs_client, bucket_name)
    uris = images(bucket, 3)
    vision_server.script(fail_with=(8, "Quota exceeded."))
    vision_server.script(with_context=False)
    output = f"gs://{bucket}/gone/"
    api = vision_api()
    manifest = submit(uris, output, features=["LABEL_DETECTION"], api=api, storage=gcs_client)
    with pytest.raises(vr.VisionResultsError, match="RESOURCE_EXHAUSTED"):
        wait(manifest, api, gcs_client, poll=no_sleep)
    assert reconcile(manifest, gcs_client).missing == uris
    assert retry_failed(manifest, api, gcs_client) != []
    wait(manifest, api, gcs_client, poll=no_sleep)
    vr.export(output, tmp_path / "tables", client=gcs_client)
    rows = pq.read_table(tmp_path / "tables" / "images").to_pylist()
    # The retry's responses carry no context: their uri comes from the manifest.
    assert [r["uri"] for r in rows] == uris
    assert retry_failed(manifest, api, gcs_client) == []


def test_an_export_of_a_job_accounts_for_every_image(
    env: None,
    vision_server: VisionServer,
    gcs_client: storage.Client,
    bucket_name: str,
    tmp_path: Path,
) -> None:
    """Images the job never answered are listed by the export, its summary says
    INCOMPLETE, and reconcile / --strict turn that into a failing exit."""
    bucket = make_bucket(gcs_client, bucket_name)
    uris = images(bucket, 4)
    vision_server.script(failed_images={uris[0]: (14, "We can not access the URL currently.")})
    vision_server.script(fail_with=(8, "Quota exceeded."))
    output = f"gs://{bucket}/part/"
    api = vision_api()
    manifest = submit(uris[:2], output, features=["LABEL_DETECTION"], api=api, storage=gcs_client)
    wait(manifest, api, gcs_client, poll=no_sleep)
    manifest.images += uris[2:]  # as if a second operation had written nothing yet
    save(manifest, gcs_client)
    dest = tmp_path / "tables"
    report = vr.export(output, dest, client=gcs_client)
    assert report.missing_images == uris[2:]
    assert report.errors_by_code == {"14": 1}
    assert not report.complete
    summary = report.summary()
    assert "error UNAVAILABLE (14)  1" in summary
    missing = "2 images or pages of the job have no answer"
    assert f"MISSING  {missing}:\n  {uris[2]}\n  {uris[3]}" in summary
    assert summary.endswith(f"INCOMPLETE  {missing}: their rows are missing from the tables")
    assert vr.open(output, client=gcs_client, progress=False).check().missing_images == uris[2:]

    result = CliRunner().invoke(main, ["reconcile", str(dest)])
    assert result.exit_code == 0 and result.output.strip() == summary
    assert CliRunner().invoke(main, ["reconcile", str(dest), "--strict"]).exit_code == 3
    args = ["export", output, str(tmp_path / "again"), "--strict", "-q"]
    assert CliRunner().invoke(main, args).exit_code == 3


def test_reconcile_of_a_complete_export_says_so(tmp_path: Path) -> None:
    write_sample(tmp_path / "src", images=10, seed=1, documents=0)
    vr.export(tmp_path / "src", tmp_path / "out")
    result = CliRunner().invoke(main, ["reconcile", str(tmp_path / "out"), "--strict"])
    assert result.exit_code == 0
    assert result.output.strip().endswith("complete  every shard listed was read")
    result = CliRunner().invoke(main, ["reconcile", str(tmp_path / "src" / "images")])
    assert result.exit_code == 1
    assert "a folder of Vision output (a SOURCE), not an export" in result.output
    assert f"vision-results export {tmp_path / 'src' / 'images'} TABLES" in result.output
