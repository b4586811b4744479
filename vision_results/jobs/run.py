"""Submit a job, read its operations' status, wait for them: the manifest is the memory.

The manifest lives at ``<output>/_job.json``; every change of an operation is
written back, so ``wait`` can be resumed later (a closed notebook, a killed
terminal) from the output prefix alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from google.api_core.exceptions import GoogleAPICallError, NotFound

from vision_results.errors import JobError
from vision_results.jobs.api import OperationStatus, VisionApi, file_requests, image_requests
from vision_results.jobs.manifest import FILES, JobManifest, JobRequest, OperationRecord, plan
from vision_results.progress import tqdm
from vision_results.source import MANIFEST_NAME
from vision_results.status import status_name
from vision_results.storage import read_object, read_retry, write_object

MAX_IN_FLIGHT = 10


def save(manifest: JobManifest, storage: Any) -> None:
    """Write the manifest, replacing the one before (retried: it is written whole)."""
    write_object(
        manifest.output + MANIFEST_NAME,
        manifest.to_json(),
        storage,
        content_type="application/json",
        failed="cannot write the job manifest",
        kind=JobError,
    )


def load(output: str, storage: Any) -> JobManifest:
    """The manifest of the job writing under ``output``.

    Read first by every command but submit: a refused connection fails at once
    (these commands have no option to wait for an endpoint that does not answer)."""
    url = (output if output.endswith("/") else f"{output}/") + MANIFEST_NAME
    try:
        data = read_object(
            url,
            storage,
            retry=read_retry(refused_is_final=True),
            failed="cannot read the job manifest",
            kind=JobError,
        )
    except JobError as exc:
        if isinstance(exc.__cause__, NotFound):
            raise JobError(f"{url}: no job manifest. Was the job started with submit?") from exc
        raise
    return JobManifest.from_json(data, url)


def describe(operation: Any) -> str:
    """An operation's error as a person reads it."""
    code = operation.error_code
    return f"{operation.name}: {status_name(code)} ({code}): {operation.error_message}"


def _apply(manifest: JobManifest, statuses: Iterable[OperationStatus]) -> None:
    by_name = {op.name: op for op in manifest.operations}
    for status in statuses:
        record = by_name[status.name]
        record.state, record.error_code, record.error_message = (
            status.state,
            status.error_code,
            status.error_message,
        )


def refresh(manifest: JobManifest, api: VisionApi) -> JobManifest:
    """Poll every started, unfinished operation once."""
    try:
        statuses = [api.status(op.name) for op in manifest.operations if op.name and not op.done]
    except GoogleAPICallError as exc:
        raise JobError(f"cannot read the operations of {manifest.output}: {exc}") from exc
    _apply(manifest, statuses)
    return manifest


def submit(
    images: list[str],
    output: str,
    *,
    features: list[str],
    api: VisionApi,
    storage: Any,
    max_results: int | None = None,
    batch_size: int = 20,
    parent: str | None = None,
    api_version: str = "v1",
    max_in_flight: int = MAX_IN_FLIGHT,
    poll: Callable[[float], None] = time.sleep,
    interval: float = 10.0,
) -> JobManifest:
    """Start the job: write the manifest, then start its operations, at most
    ``max_in_flight`` unfinished at once. Returns once every operation started."""
    parent = parent or api.default_parent
    request = JobRequest(list(features), max_results, batch_size, parent, api_version)
    manifest = plan(output, images, request)
    save(manifest, storage)
    for record in manifest.operations:
        while sum(1 for op in manifest.operations if op.name and not op.done) >= max_in_flight:
            poll(interval)
            refresh(manifest, api)
        try:
            record.name = start(manifest, record, api)
        except GoogleAPICallError as exc:
            save(manifest, storage)
            raise JobError(f"the service refused operation {record.output}: {exc}") from exc
        record.state = "CREATED"
        save(manifest, storage)
    return manifest


def start(manifest: JobManifest, record: OperationRecord, api: VisionApi) -> str:
    """Start one operation of the job (images or files, as ``record.kind`` says); its name."""
    request = manifest.request
    inputs = [manifest.images[position - 1] for position in record.images]
    if record.kind == FILES:
        files = [(uri, record.file_output(i)) for i, uri in enumerate(inputs, start=1)]
        requests = file_requests(files, request.features, request.max_results, request.batch_size)
        return api.start_files(requests, request.parent)
    requests = image_requests(inputs, request.features, request.max_results)
    return api.start(requests, record.output, request.batch_size, request.parent)


def unretried(manifest: JobManifest) -> list[OperationRecord]:
    """The operations whose images no later operation (a retry) covers again."""
    covered: set[int] = set()
    out = []
    for op in reversed(manifest.operations):
        if not set(op.images) <= covered:
            out.append(op)
        covered.update(op.images)
    return out[::-1]


def wait(
    manifest: JobManifest,
    api: VisionApi,
    storage: Any,
    *,
    poll: Callable[[float], None] = time.sleep,
    interval: float = 10.0,
    progress: bool | None = None,
) -> JobManifest:
    """Poll until every operation is done, recording each change in the manifest.

    Raises :class:`JobError` naming every failed operation with its gRPC code,
    unless a later retry covers all of its images.
    """
    unstarted = [op.output for op in manifest.operations if op.name is None]
    if unstarted:
        raise JobError(
            "operations were never started (submit stopped early): " + ", ".join(unstarted)
        )
    with tqdm(
        total=len(manifest.operations),
        unit="op",
        desc="wait",
        disable=None if progress is None else not progress,
    ) as bar:
        while True:
            refresh(manifest, api)
            save(manifest, storage)
            bar.n = sum(1 for op in manifest.operations if op.done)
            bar.refresh()
            if all(op.done for op in manifest.operations):
                break
            poll(interval)
    failed = [op for op in unretried(manifest) if op.state == "FAILED"]
    if failed:
        raise JobError("operations failed:\n" + "\n".join(describe(op) for op in failed))
    return manifest
