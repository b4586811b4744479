"""Planning a job: images in operations of at most 2,000, files (PDF, TIFF, GIF) in
operations of at most 100, each under its own sub-prefix."""

from __future__ import annotations

import pytest

from vision_results import JobError, UsageError
from vision_results.jobs.manifest import JobManifest, JobRequest, mime_type, plan


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


def test_files_get_operations_of_their_own_after_the_images() -> None:
    inputs = ["gs://b/0.jpg", "gs://b/1.PDF", "gs://b/2.png", "gs://b/3.tif", "gs://b/4.gif"]
    inputs += [f"gs://b/many/{n}.pdf" for n in range(250)]
    manifest = plan("gs://out/mixed", inputs, JobRequest(["DOCUMENT_TEXT_DETECTION"]))
    files = [2, 4, 5, *range(6, 256)]
    assert [(op.kind, op.output, op.images) for op in manifest.operations] == [
        ("images", "gs://out/mixed/op-0000/", [1, 3]),
        ("files", "gs://out/mixed/op-0001/", files[:100]),
        ("files", "gs://out/mixed/op-0002/", files[100:200]),
        ("files", "gs://out/mixed/op-0003/", files[200:]),
    ]
    # Not contiguous: the positions are recorded; contiguous ones are first..last.
    assert [op.positions is None for op in manifest.operations] == [False, False, True, True]
    assert manifest.operations[1].file_output(7) == "gs://out/mixed/op-0001/file-00007/"
    assert JobManifest.from_json(manifest.to_json(), "x") == manifest


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("gs://b/scan.pdf", "application/pdf"),
        ("gs://b/SCAN.TIFF", "image/tiff"),
        ("gs://b/fax.tif", "image/tiff"),
        ("gs://b/anim.gif", "image/gif"),
        ("gs://b/photo.jpg", None),
        ("gs://b/pdf/photo.png", None),
        ("https://example.com/a.pdf?download=1", "application/pdf"),
    ],
)
def test_the_mime_type_of_a_file_comes_from_its_name(uri: str, expected: str | None) -> None:
    assert mime_type(uri) == expected
