"""Start, watch and finish asyncBatchAnnotate jobs: the functions a notebook calls and
the command line wraps (``vision-results submit / status / wait / reconcile``).

Each takes the clients as arguments (``storage``, ``api``) or builds them from
the environment: Application Default Credentials, ``STORAGE_EMULATOR_HOST``,
``$VISION_RESULTS_VISION_ENDPOINT`` or ``endpoint``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from google.api_core.exceptions import GoogleAPICallError

from vision_results.errors import JobError
from vision_results.jobs import reconcile as _reconcile
from vision_results.jobs import run as _run
from vision_results.jobs.api import OperationStatus, VisionApi, check_features, vision_api
from vision_results.jobs.images import collect
from vision_results.jobs.manifest import JobManifest
from vision_results.jobs.reconcile import Reconciliation
from vision_results.storage import storage_client

DEFAULT_FEATURES = ("LABEL_DETECTION", "DOCUMENT_TEXT_DETECTION")

__all__ = ["DEFAULT_FEATURES", "JobError", "JobManifest", "OperationStatus", "Reconciliation",
           "operation_status", "reconcile", "retry_failed", "status", "submit", "wait"]  # fmt: skip


def _clients(storage: Any, api: VisionApi | None, version: str, endpoint: str | None) -> Any:
    return storage or storage_client(), api or vision_api(version, endpoint)


def submit(
    images: str | Iterable[str],
    output: str,
    *,
    features: Iterable[str] = DEFAULT_FEATURES,
    max_results: int | None = None,
    batch_size: int = 20,
    parent: str | None = None,
    api_version: str = "v1",
    endpoint: str | None = None,
    max_in_flight: int = _run.MAX_IN_FLIGHT,
    wait: bool = False,
    storage: Any = None,
    api: VisionApi | None = None,
) -> JobManifest:
    """Start a job for ``images`` (gs:// URIs, gs://BUCKET/PREFIX/ folders, or files
    listing URIs) writing under ``output``; with ``wait=True``, also wait for it.
    PDF, TIFF and GIF inputs (by suffix) go to ``files:asyncBatchAnnotate``, the rest
    to ``images:asyncBatchAnnotate``, in operations of their own under the same job;
    ``batch_size`` is responses (images, or a file's pages) per output file."""
    features = list(features)
    check_features(features)  # before any client is built: a typo fails at once
    storage, api = _clients(storage, api, api_version, endpoint)
    sources = [images] if isinstance(images, str) else list(images)
    manifest = _run.submit(
        collect(sources, storage), output, features=list(features), api=api, storage=storage,
        max_results=max_results, batch_size=batch_size, parent=parent, api_version=api_version,
        max_in_flight=max_in_flight,
    )  # fmt: skip
    return _run.wait(manifest, api, storage) if wait else manifest


def status(
    output: str, *, endpoint: str | None = None, storage: Any = None, api: VisionApi | None = None
) -> JobManifest:
    """The job under ``output``, with each operation's state read once."""
    storage = storage or storage_client()
    manifest = _run.load(output, storage)
    _, api = _clients(storage, api, manifest.request.api_version, endpoint)
    _run.refresh(manifest, api)
    _run.save(manifest, storage)
    return manifest


def operation_status(
    name: str, *, api_version: str = "v1", endpoint: str | None = None, api: VisionApi | None = None
) -> OperationStatus:
    """One operation's state, by name (``projects/P/operations/ID``)."""
    api = api or vision_api(api_version, endpoint)
    try:
        return api.status(name)
    except GoogleAPICallError as exc:
        raise JobError(f"cannot read operation {name}: {exc}") from exc


def wait(
    output: str,
    *,
    endpoint: str | None = None,
    interval: float = 10.0,
    storage: Any = None,
    api: VisionApi | None = None,
) -> JobManifest:
    """Wait for the job under ``output``: resumable, its state is in the manifest."""
    storage = storage or storage_client()
    manifest = _run.load(output, storage)
    _, api = _clients(storage, api, manifest.request.api_version, endpoint)
    return _run.wait(manifest, api, storage, interval=interval)


def reconcile(output: str, *, storage: Any = None) -> Reconciliation:
    """Which of the job's inputs have a result, an error (by code), or nothing (for a
    file, which of its pages)."""
    storage = storage or storage_client()
    return _reconcile.reconcile(_run.load(output, storage), storage)


def retry_failed(
    output: str,
    *,
    endpoint: str | None = None,
    wait: bool = False,
    storage: Any = None,
    api: VisionApi | None = None,
) -> JobManifest:
    """Resubmit the job's failed (retryable) and missing inputs (a file whole) under new
    sub-prefixes; the manifest is unchanged when there is nothing to retry."""
    storage = storage or storage_client()
    manifest = _run.load(output, storage)
    _, api = _clients(storage, api, manifest.request.api_version, endpoint)
    started = _reconcile.retry_failed(manifest, api, storage)
    return _run.wait(manifest, api, storage) if wait and started else manifest
