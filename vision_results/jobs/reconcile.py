"""Compare a job's manifest with its output: which images have a result, an error, or
nothing yet; and start a retry of the failed (retryable) and missing ones."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from google.api_core.exceptions import GoogleAPICallError

from vision_results.errors import JobError
from vision_results.jobs.api import VisionApi, image_requests
from vision_results.jobs.manifest import JobManifest, OperationRecord
from vision_results.jobs.run import save

# gRPC codes worth asking again: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED,
# INTERNAL, UNAVAILABLE. INVALID_ARGUMENT ("Bad image data.") would fail again.
RETRYABLE = frozenset({4, 8, 10, 13, 14})


@dataclass
class Reconciliation:
    """Every image of the job in exactly one group, by its winning answer."""

    ok: list[str] = field(default_factory=list)
    errors: dict[int, list[str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def to_retry(self) -> list[str]:
        failed = [uri for code, uris in self.errors.items() if code in RETRYABLE for uri in uris]
        return failed + self.missing

    def summary(self) -> str:
        from vision_results.status import status_name

        lines = [f"with a result  {len(self.ok)}"]
        lines += [
            f"error {status_name(code)} ({code})  {len(uris)}"
            for code, uris in sorted(self.errors.items())
        ]
        lines.append(f"missing        {len(self.missing)}")
        return "\n".join(lines)


def reconcile(manifest: JobManifest, storage: Any) -> Reconciliation:
    """Read the job's output (the ``images`` table, latest answer per image)."""
    # Imported here: results -> export -> jobs.layout -> jobs -> this module.
    from vision_results.results import open as open_results

    results = open_results(manifest.output, tables=["images"], client=storage, progress=False)
    rows = results.dataset("images").to_table(columns=["uri", "error_code"]).to_pylist()
    codes = {row["uri"]: row["error_code"] for row in rows}
    outcome = Reconciliation()
    grouped: dict[int, list[str]] = defaultdict(list)
    for uri in manifest.images:
        if uri not in codes:
            outcome.missing.append(uri)
        elif codes[uri] is None:
            outcome.ok.append(uri)
        else:
            grouped[codes[uri]].append(uri)
    outcome.errors = dict(grouped)
    return outcome


def retry_failed(manifest: JobManifest, api: VisionApi, storage: Any) -> OperationRecord | None:
    """Start one operation for the failed (retryable) and missing images, under a new
    sub-prefix recorded in the same manifest; None when there is nothing to retry."""
    wanted = set(reconcile(manifest, storage).to_retry())
    positions = [n for n, uri in enumerate(manifest.images, start=1) if uri in wanted]
    if not positions:
        return None
    if len(positions) > 2000:
        raise JobError(f"{len(positions)} images to retry; retry at most 2,000 at a time")
    record = OperationRecord(
        f"{manifest.output}op-{len(manifest.operations):04d}/",
        positions[0],
        positions[-1],
        positions=positions,
    )
    request = manifest.request
    try:
        record.name = api.start(
            image_requests([manifest.images[p - 1] for p in positions], request.features,
                           request.max_results),
            record.output, request.batch_size, request.parent,
        )  # fmt: skip
    except GoogleAPICallError as exc:
        raise JobError(f"the service refused the retry {record.output}: {exc}") from exc
    record.state = "CREATED"
    manifest.operations.append(record)
    save(manifest, storage)
    return record
