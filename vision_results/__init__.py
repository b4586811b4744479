"""vision-results: Google Cloud Vision batch output as tidy Parquet tables.

>>> import vision_results as vr
>>> res = vr.open("gs://bucket/vision-output/")   # doctest: +SKIP
>>> res.labels.head()                             # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from vision_results import jobs
from vision_results.errors import (
    DestinationError,
    JobError,
    ShardError,
    SourceError,
    VisionResultsError,
)
from vision_results.export import export
from vision_results.jobs import submit
from vision_results.parse import parse_shard
from vision_results.report import ExportReport
from vision_results.results import Results, open
from vision_results.tables import SCHEMAS, TABLE_NAMES, flatten_shard

__all__ = [
    "SCHEMAS",
    "TABLE_NAMES",
    "DestinationError",
    "ExportReport",
    "JobError",
    "Results",
    "ShardError",
    "SourceError",
    "VisionResultsError",
    "__version__",
    "export",
    "flatten_shard",
    "jobs",
    "open",
    "parse_shard",
    "submit",
]
