"""Planning a job: operations of at most 2,000 images, each under its own sub-prefix."""

from __future__ import annotations

import pytest

from vision_results import JobError, UsageError
from vision_results.jobs.manifest import JobManifest, JobRequest, plan


def test_split_at_2000_with_sub_prefixes() -> None:
    images = [f"gs://b/i/{n}.jpg" for n in range(4001)]
    manifest = plan("gs://out/run1", images, JobRequest(["LABEL_DETECTION"]))
    assert manifest.output == "gs://out/run1/"
    assert [(op.output, op.first, op.last) for op in manifest.operations] == [
        ("gs://out/run1/op-0000/", 1, 2000),
        ("gs://out/run1/op-0001/", 2001, 4000),
        ("gs://out/run1/op-0002/", 4001, 4001),
    ]
    assert all(op.state == "PLANNED" and op.name is None for op in manifest.operations)


def test_manifest_round_trips_through_json() -> None:
    manifest = plan(
        "gs://out/r/", ["gs://b/a.jpg"], JobRequest(["TEXT_DETECTION"], 5, 7, "projects/p")
    )
    manifest.operations[0].name = "projects/p/operations/1"
    assert JobManifest.from_json(manifest.to_json(), "x") == manifest


@pytest.mark.parametrize(
    ("output", "images", "batch", "message"),
    [
        ("/local/out", ["gs://b/a.jpg"], 20, "must be a gs://"),
        ("gs://o/", [], 20, "no images"),
        ("gs://o/", ["gs://b/a.jpg"], 101, "batch size must be 1..100"),
    ],
)
def test_bad_plans_are_refused(output: str, images: list[str], batch: int, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        plan(output, images, JobRequest(["LABEL_DETECTION"], batch_size=batch))


def test_a_broken_manifest_names_itself() -> None:
    with pytest.raises(JobError, match=r"gs://o/_job\.json: not a vision-results job"):
        JobManifest.from_json(b'{"output": 1}', "gs://o/_job.json")
