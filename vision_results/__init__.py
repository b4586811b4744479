"""vision-results: Google Cloud Vision batch output as tidy Parquet tables.

>>> import vision_results as vr
>>> res = vr.open("gs://bucket/vision-output/")   # doctest: +SKIP
>>> res.labels.head()                             # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from vision_results.draw import draw
from vision_results.errors import (
    DestinationError,
    ImageError,
    JobError,
    ShardError,
    SourceError,
    UsageError,
    VisionResultsError,
)
from vision_results.export import export
from vision_results.parse import parse_shard
from vision_results.report import ExportReport
from vision_results.tables import SCHEMAS, TABLE_NAMES, flatten_shard

if TYPE_CHECKING:
    from vision_results import jobs
    from vision_results.jobs import submit
    from vision_results.results import Results, open

__all__ = [
    "SCHEMAS",
    "TABLE_NAMES",
    "DestinationError",
    "ExportReport",
    "ImageError",
    "JobError",
    "Results",
    "ShardError",
    "SourceError",
    "UsageError",
    "VisionResultsError",
    "__version__",
    "draw",
    "export",
    "flatten_shard",
    "jobs",
    "open",
    "parse_shard",
    "submit",
]


def __getattr__(name: str) -> Any:
    """``open``, ``Results``, ``jobs`` and ``submit`` on first use (PEP 562): an
    export needs neither the Vision client nor the notebook API."""
    if name in ("open", "Results"):
        from vision_results import results

        return getattr(results, name)
    if name in ("jobs", "submit"):
        import vision_results.jobs

        return vision_results.jobs if name == "jobs" else vision_results.jobs.submit
    raise AttributeError(f"module 'vision_results' has no attribute {name!r}")
