"""The export's own index of answers: ``DEST/_answers/``, one row per response.

Every export writes it, whatever tables were asked for: it is where duplicate
answers are found (:mod:`vision_results.dedupe`), where the accounting counts
errors by code and a job's unanswered images (:mod:`vision_results.check`), and
it costs nothing to read (the first pass of the decoder has it all). Its name
starts with ``_``, so pyarrow, Spark and Hive readers of DEST skip it; it is
documented in docs/tables.md.
"""

from __future__ import annotations

import pyarrow as pa

from vision_results.parse import ParsedShard
from vision_results.status import response_error
from vision_results.tables._common import KEY_FIELDS

NAME = "_answers"
SCHEMA = pa.schema(
    [*KEY_FIELDS, pa.field("error_code", pa.int32()), pa.field("total_pages", pa.int32())]
)
"""The keys, the answer's gRPC error code (null without error) and, for a page of a
file, the file's ``totalPages`` (the accounting counts a file's missing pages)."""


def of(parsed: ParsedShard) -> pa.Table:
    """The index rows of a parsed shard (its kept responses)."""
    errors = [response_error(response) for response in parsed.responses]
    positions = range(len(parsed.responses)) if parsed.indexes is None else parsed.indexes
    return pa.Table.from_pydict(
        {
            "uri": parsed.uris,
            "page_number": parsed.pages,
            "shard": [parsed.shard] * len(parsed.responses),
            "response_index": list(positions),
            "error_code": [None if e is None else e.get("code", 0) for e in errors],
            "total_pages": [(file or {}).get("totalPages") or None for file in parsed.files],
        },
        schema=SCHEMA,
    )
