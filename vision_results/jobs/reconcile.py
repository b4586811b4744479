"""Compare a job's manifest with its output: which inputs have a result, an error, or
nothing yet (for a file: which pages); and start a retry of the failed (retryable)
and missing ones."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from google.api_core.exceptions import GoogleAPICallError

from vision_results.errors import JobError
from vision_results.jobs.api import VisionApi
from vision_results.jobs.manifest import (
    FILES,
    IMAGES,
    MAX_FILES_PER_OPERATION,
    MAX_IMAGES_PER_OPERATION,
    JobManifest,
    OperationRecord,
    mime_type,
    operation,
)
from vision_results.jobs.run import save, start

# gRPC codes worth asking again: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED,
# INTERNAL, UNAVAILABLE. INVALID_ARGUMENT ("Bad image data.") would fail again.
RETRYABLE = frozenset({4, 8, 10, 13, 14})


@dataclass
class Reconciliation:
    """Every input of the job in exactly one group, by its winning answer. A file
    (PDF, TIFF, GIF) is in ``ok`` when every page has an answer without error; in
    ``errors`` by the code of its first error (the whole file's, else a page's); in
    ``missing`` when it has no answer or lacks pages, listed in ``missing_pages``
    (its page count is its ``totalPages``, else the highest page answered)."""

    ok: list[str] = field(default_factory=list)
    errors: dict[int, list[str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    missing_pages: dict[str, list[int]] = field(default_factory=dict)

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
        lines += [f"  {uri}: no answer for pages {_ranges(pages)}"
                  for uri, pages in self.missing_pages.items()]  # fmt: skip
        return "\n".join(lines)


def _ranges(pages: list[int]) -> str:
    """``[1, 2, 3, 7]`` as ``1-3, 7``."""
    spans: list[list[int]] = []
    for page in pages:
        if spans and page == spans[-1][1] + 1:
            spans[-1][1] = page
        else:
            spans.append([page, page])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


Answer = tuple[int | None, int | None, int | None]
"""One kept answer of an input: its page (None for an image or a whole file), its
error code (None without error) and the file's totalPages."""


def reconcile(manifest: JobManifest, storage: Any) -> Reconciliation:
    """Read the job's output (the ``images`` table, latest answer per image or page)."""
    # Imported here: results -> export -> jobs.layout -> jobs -> this module.
    from vision_results.results import open as open_results

    results = open_results(manifest.output, tables=["images"], client=storage, progress=False)
    columns = ["uri", "page_number", "error_code", "total_pages"]
    answers: dict[str, list[Answer]] = defaultdict(list)
    for row in results.dataset("images").to_table(columns=columns).to_pylist():
        answers[row["uri"]].append((row["page_number"], row["error_code"], row["total_pages"]))
    outcome = Reconciliation()
    grouped: dict[int, list[str]] = defaultdict(list)
    for uri in manifest.images:
        found = answers.get(uri)
        codes = [code for page, code, _ in sorted(found or [], key=_file_first) if code]
        gaps = _missing_pages(found) if found and mime_type(uri) else []
        if not found:
            outcome.missing.append(uri)
        elif codes:
            grouped[codes[0]].append(uri)
        elif gaps:
            outcome.missing.append(uri)
            outcome.missing_pages[uri] = gaps
        else:
            outcome.ok.append(uri)
    outcome.errors = dict(grouped)
    return outcome


def _file_first(answer: Answer) -> int:
    """The whole file's answer (no page) before its pages', the pages in order."""
    return -1 if answer[0] is None else answer[0]


def _missing_pages(answers: list[Answer]) -> list[int]:
    pages = {page for page, _, _ in answers if page is not None}
    total = max((t for _, _, t in answers if t), default=0) or max(pages, default=0)
    return sorted(set(range(1, total + 1)) - pages)


def retry_failed(manifest: JobManifest, api: VisionApi, storage: Any) -> list[OperationRecord]:
    """Start operations for the failed (retryable) and missing inputs (a file whole:
    the async method takes no pages), under new sub-prefixes recorded in the same
    manifest; none when there is nothing to retry."""
    wanted = set(reconcile(manifest, storage).to_retry())
    positions = [n for n, uri in enumerate(manifest.images, start=1) if uri in wanted]
    images = [p for p in positions if not mime_type(manifest.images[p - 1])]
    files = [p for p in positions if mime_type(manifest.images[p - 1])]
    if len(images) > MAX_IMAGES_PER_OPERATION:
        raise JobError(f"{len(images)} images to retry; retry at most 2,000 at a time")
    chunks = [(images, IMAGES)] if images else []
    chunks += [(files[i : i + MAX_FILES_PER_OPERATION], FILES)
               for i in range(0, len(files), MAX_FILES_PER_OPERATION)]  # fmt: skip
    started = []
    for chunk, kind in chunks:
        record = operation(manifest, chunk, kind, retry=True)
        try:
            record.name = start(manifest, record, api)
        except GoogleAPICallError as exc:
            raise JobError(f"the service refused the retry {record.output}: {exc}") from exc
        record.state = "CREATED"
        manifest.operations.append(record)
        save(manifest, storage)
        started.append(record)
    return started
