"""The job manifest, ``_job.json`` under the output prefix: what was asked, of which
images, and which operation writes where.

It is written before any operation starts and updated as they do, so a job
can be watched, resumed and reconciled later from the output prefix alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from vision_results.errors import JobError, UsageError

MAX_IMAGES_PER_OPERATION = 2000  # a larger asyncBatchAnnotate request is rejected


@dataclass
class JobRequest:
    features: list[str]
    max_results: int | None = None
    batch_size: int = 20
    parent: str | None = None
    api_version: str = "v1"


@dataclass
class OperationRecord:
    """One asyncBatchAnnotate operation: images ``first``..``last`` (1-based, as the
    job's image list) writing under ``output``."""

    output: str
    first: int
    last: int
    name: str | None = None
    state: str = "PLANNED"
    positions: list[int] | None = None
    """For a retry: the images (1-based positions in the job) it covers, in
    request order; None for ``first``..``last``."""
    error_code: int | None = None
    error_message: str | None = None

    @property
    def images(self) -> list[int]:
        """The job positions of this operation's requests, in order."""
        return self.positions or list(range(self.first, self.last + 1))

    @property
    def done(self) -> bool:
        return self.state in ("DONE", "FAILED", "CANCELLED")


@dataclass
class JobManifest:
    output: str
    request: JobRequest
    images: list[str]
    operations: list[OperationRecord] = field(default_factory=list)

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, data: bytes, where: str) -> JobManifest:
        try:
            raw: dict[str, Any] = orjson.loads(data)
            return cls(
                output=raw["output"],
                request=JobRequest(**raw["request"]),
                images=list(raw["images"]),
                operations=[OperationRecord(**op) for op in raw["operations"]],
            )
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise JobError(f"{where}: not a vision-results job manifest ({exc})") from exc


def plan(output: str, images: list[str], request: JobRequest) -> JobManifest:
    """Split the images into operations of at most 2,000, each under its own sub-prefix."""
    if not output.startswith("gs://"):
        raise UsageError(f"{output}: the output must be a gs://BUCKET/PREFIX/ location")
    if not images:
        raise UsageError("no images to submit")
    if not 1 <= request.batch_size <= 100:
        raise UsageError(f"batch size must be 1..100, not {request.batch_size}")
    base = output if output.endswith("/") else f"{output}/"
    manifest = JobManifest(base, request, list(images))
    for number, first in enumerate(range(1, len(images) + 1, MAX_IMAGES_PER_OPERATION)):
        last = min(first + MAX_IMAGES_PER_OPERATION - 1, len(images))
        manifest.operations.append(OperationRecord(f"{base}op-{number:04d}/", first, last))
    return manifest
