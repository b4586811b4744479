"""The job manifest, ``_job.json`` under the output prefix: what was asked, of which
inputs, and which operation writes where.

It is written before any operation starts and updated as they do, so a job
can be watched, resumed and reconciled later from the output prefix alone.

A job's inputs are images (``images:asyncBatchAnnotate``, one response each) and
files (PDF, TIFF, GIF: ``files:asyncBatchAnnotate``, one response per page, each
file written under an output prefix of its own): :func:`plan` gives each kind
operations of its own, under the same job.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from vision_results.errors import JobError, UsageError

MAX_IMAGES_PER_OPERATION = 2000  # a larger asyncBatchAnnotate request is rejected
MAX_FILES_PER_OPERATION = 100
"""Files per ``files:asyncBatchAnnotate`` operation. The service documents no limit;
this keeps a request small and a failed operation cheap to redo."""
MAX_PAGES_PER_FILE = 2000  # "The Vision API accepts PDF/TIFF files up to 2000 pages"
FILE_TYPES = {".pdf": "application/pdf", ".tif": "image/tiff", ".tiff": "image/tiff",
              ".gif": "image/gif"}  # fmt: skip
"""The inputs sent to ``files:asyncBatchAnnotate``, by suffix, with their mimeType."""
IMAGES, FILES = "images", "files"


def mime_type(uri: str) -> str | None:
    """The mimeType of a file input (by its name), or None for an image."""
    name = uri.split("?", 1)[0].lower()
    return next((kind for suffix, kind in FILE_TYPES.items() if name.endswith(suffix)), None)


@dataclass
class JobRequest:
    features: list[str]
    max_results: int | None = None
    batch_size: int = 20
    parent: str | None = None
    api_version: str = "v1"


@dataclass
class OperationRecord:
    """One asyncBatchAnnotate operation: inputs ``first``..``last`` (1-based, as the
    job's list of inputs) writing under ``output``; ``kind`` says which method."""

    output: str
    first: int
    last: int
    name: str | None = None
    state: str = "PLANNED"
    positions: list[int] | None = None
    """The inputs (1-based positions in the job) it covers, in request order, when
    they are not ``first``..``last``: a retry, or one kind of a mixed job."""
    error_code: int | None = None
    error_message: str | None = None
    kind: str = IMAGES
    """``images`` or ``files``."""

    @property
    def images(self) -> list[int]:
        """The job positions of this operation's requests, in order."""
        return self.positions or list(range(self.first, self.last + 1))

    def file_output(self, index: int) -> str:
        """Where the ``index``-th file (1-based, in request order) of a files
        operation is written: the service takes one output prefix per file."""
        return f"{self.output}file-{index:05d}/"

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
    """Split the inputs into operations, each under its own sub-prefix: the images in
    operations of at most 2,000, then the files in operations of at most 100."""
    if not output.startswith("gs://"):
        raise UsageError(f"{output}: the output must be a gs://BUCKET/PREFIX/ location")
    if not images:
        raise UsageError("no images to submit")
    if not 1 <= request.batch_size <= 100:
        raise UsageError(f"batch size must be 1..100, not {request.batch_size}")
    base = output if output.endswith("/") else f"{output}/"
    manifest = JobManifest(base, request, list(images))
    kinds = [FILES if mime_type(uri) else IMAGES for uri in images]
    for kind, size in ((IMAGES, MAX_IMAGES_PER_OPERATION), (FILES, MAX_FILES_PER_OPERATION)):
        positions = [n for n, k in enumerate(kinds, start=1) if k == kind]
        for start in range(0, len(positions), size):
            manifest.operations.append(operation(manifest, positions[start : start + size], kind))
    return manifest


def operation(
    manifest: JobManifest, positions: list[int], kind: str, *, retry: bool = False
) -> OperationRecord:
    """A new operation of the job for the inputs at ``positions``, under the next
    sub-prefix (``op-0000/``, ``op-0001/``, ...). A retry always records its
    positions, so the manifest says which inputs were asked again."""
    first, last = positions[0], positions[-1]
    contiguous = positions == list(range(first, last + 1))
    return OperationRecord(
        f"{manifest.output}op-{len(manifest.operations):04d}/", first, last,
        positions=None if contiguous and not retry else positions, kind=kind,
    )  # fmt: skip
