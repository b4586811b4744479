"""Which input each response of a job's shard answers, and which answers a retry
supersedes: from the manifest and the shard names alone."""

from __future__ import annotations

from vision_results.jobs.layout import annotate
from vision_results.jobs.manifest import FILES, JobManifest, JobRequest, operation, plan
from vision_results.source import Shard

INPUTS = ["gs://b/a.jpg", "gs://b/b.pdf", "gs://b/c.png", "gs://b/d.tiff"]


def shards(*names: str) -> list[Shard]:
    return [Shard(name, f"gs://out/job/{name}", 10) for name in names]


def placed(manifest: JobManifest, *names: str) -> dict[str, tuple[tuple[str, ...], object]]:
    return {s.name: (s.job_uris, s.keep) for s in annotate(manifest, shards(*names))}


def test_a_file_shard_answers_its_file_once_per_page() -> None:
    manifest = plan("gs://out/job/", INPUTS, JobRequest(["TEXT_DETECTION"]))
    pdf, tiff = INPUTS[1], INPUTS[3]
    assert placed(
        manifest,
        "op-0000/output-1-to-2.json",
        "op-0001/file-00001/output-1-to-20.json",
        "op-0001/file-00001/output-21-to-23.json",
        "op-0001/file-00002/output-1-to-1.json",
    ) == {
        "op-0000/output-1-to-2.json": ((INPUTS[0], INPUTS[2]), None),
        "op-0001/file-00001/output-1-to-20.json": ((pdf,) * 20, None),
        "op-0001/file-00001/output-21-to-23.json": ((pdf,) * 3, None),
        "op-0001/file-00002/output-1-to-1.json": ((tiff,), None),
    }


def test_names_vision_does_not_write_are_left_alone() -> None:
    manifest = plan("gs://out/job/", INPUTS, JobRequest(["TEXT_DETECTION"]))
    names = [
        "op-0001/output-1-to-2.json",  # a files operation writes under file-N/
        "op-0001/file-00003/output-1-to-2.json",  # it has two files only
        "op-0000/file-00001/output-1-to-2.json",  # an images operation has no file-N/
        "op-0001/file-00001/notes.json",
    ]
    assert placed(manifest, *names) == {name: ((), None) for name in names}


def test_a_retried_file_supersedes_every_page_of_the_earlier_answer() -> None:
    manifest = plan("gs://out/job/", INPUTS, JobRequest(["TEXT_DETECTION"]))
    manifest.operations.append(operation(manifest, [4], FILES, retry=True))
    tiff = INPUTS[3]
    assert placed(
        manifest,
        "op-0001/file-00001/output-1-to-2.json",
        "op-0001/file-00002/output-1-to-1.json",
        "op-0002/file-00001/output-1-to-2.json",
    ) == {
        "op-0001/file-00001/output-1-to-2.json": ((INPUTS[1],) * 2, None),
        "op-0001/file-00002/output-1-to-1.json": ((tiff,), (False,)),
        "op-0002/file-00001/output-1-to-2.json": ((tiff, tiff), None),
    }
