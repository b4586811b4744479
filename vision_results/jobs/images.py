"""Which inputs a job is about: URIs given, listed from a manifest file, or found
under a ``gs://`` prefix. Images, and files (PDF, TIFF, GIF) that the job sends to
``files:asyncBatchAnnotate`` (:data:`~vision_results.jobs.manifest.FILE_TYPES`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vision_results.errors import UsageError
from vision_results.jobs.manifest import FILE_TYPES
from vision_results.storage import list_objects

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".ico", ".raw")
INPUT_SUFFIXES = IMAGE_SUFFIXES + tuple(FILE_TYPES)


def from_manifest_file(path: Path) -> list[str]:
    """One URI per line, or a CSV with a ``uri`` column."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the image list ({exc.strerror})") from exc
    first = text.splitlines()[0] if text.strip() else ""
    if "," in first or first.strip() == "uri":
        rows = list(csv.DictReader(io.StringIO(text)))
        if rows and "uri" not in rows[0]:
            raise UsageError(f"{path}: a CSV image list needs a 'uri' column")
        return [row["uri"].strip() for row in rows if row["uri"].strip()]
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def from_prefix(url: str, storage: Any) -> list[str]:
    """The image and file objects under ``gs://bucket/prefix/``, in name order."""
    bucket = url.removeprefix("gs://").partition("/")[0]
    names = sorted(
        blob.name
        for blob in list_objects(url, storage)
        if blob.name.lower().endswith(INPUT_SUFFIXES)
    )
    return [f"gs://{bucket}/{name}" for name in names]


def collect(sources: Iterable[str], storage: Any) -> list[str]:
    """Every image of every source, in the order given."""
    images: list[str] = []
    for source in sources:
        if source.startswith("gs://") and source.endswith("/"):
            images += from_prefix(source, storage)
        elif "://" in source:
            images.append(source)
        else:
            images += from_manifest_file(Path(source))
    if not images:
        raise UsageError("no images found in " + ", ".join(sources))
    return images
