"""What every table's schema shares: the key columns, boxes, likelihoods, languages."""

from __future__ import annotations

import pyarrow as pa

from vision_results.tables._arrow import LANGUAGES, PROPERTIES
from vision_results.tables._boxes import box_fields

__all__ = [
    "BOX_FIELDS",
    "KEY_FIELDS",
    "LANGUAGES",
    "OBJECT_FIELDS",
    "PROPERTIES",
    "likelihood_fields",
    "table_schema",
]

KEY_FIELDS = [
    pa.field("uri", pa.string(), nullable=False),
    pa.field("page_number", pa.int32()),
    pa.field("shard", pa.string(), nullable=False),
    pa.field("response_index", pa.int32(), nullable=False),
]
BOX_FIELDS = box_fields()
OBJECT_FIELDS = [
    pa.field("mid", pa.string()),
    pa.field("name", pa.string()),
    pa.field("language_code", pa.string()),
    pa.field("score", pa.float64()),
]
"""The columns of a LocalizedObjectAnnotation (objects, and product search's)."""


def table_schema(*fields: pa.Field) -> pa.Schema:
    """A table's schema: the key columns, then its own."""
    return pa.schema([*KEY_FIELDS, *fields])


def likelihood_fields(*names: str) -> list[pa.Field]:
    """A name column and, beside it, ``<name>_level`` 0-5 for "at least LIKELY" filters."""
    return [
        field
        for name in names
        for field in (pa.field(name, pa.string()), pa.field(f"{name}_level", pa.int8()))
    ]
