"""One shard's responses in Arrow: what every flattener reads.

A :class:`Batch` holds the responses as one struct array (the types of
:mod:`vision_results.messages`) and, per response, its join key and what its
file job says. The flatteners are pure functions from a Batch to Arrow tables;
:meth:`Batch.keys` gives the four key columns of any table from the response
each row belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vision_results.messages import RESPONSE
from vision_results.parse import ParsedShard


@dataclass
class Batch:
    shard: str
    responses: pa.StructArray
    uris: pa.Array
    """Per response: the image or file it is about (``uri`` in every table)."""
    pages: pa.Array
    """Per response: the 1-based page of a file job, else null."""
    positions: pa.Array
    """Per response: its position in the shard (``response_index``)."""
    mime_types: pa.Array
    total_pages: pa.Array

    @classmethod
    def of(cls, parsed: ParsedShard, responses: pa.StructArray) -> Batch:
        """The Batch of ``parsed``'s responses, whose annotations are ``responses``
        (one entry per response ``parsed`` kept, in its order)."""
        files = [file or {} for file in parsed.files]
        positions = range(len(parsed.responses)) if parsed.indexes is None else parsed.indexes
        return cls(
            shard=parsed.shard,
            responses=responses,
            uris=pa.array(parsed.uris, pa.string()),
            pages=pa.array(parsed.pages, pa.int32()),
            positions=pa.array(positions, pa.int32()),
            mime_types=pa.array(
                [(f.get("inputConfig") or {}).get("mimeType") or None for f in files], pa.string()
            ),
            total_pages=pa.array([f.get("totalPages") or None for f in files], pa.int32()),
        )

    def __len__(self) -> int:
        return len(self.responses)

    def field(self, name: str) -> pa.Array:
        """One field of every response (null where the batch was read without it)."""
        if self.responses.type.get_field_index(name) < 0:
            return pa.nulls(len(self.responses), RESPONSE[name])
        return pc.struct_field(self.responses, name)

    def keys(self, rows: np.ndarray | pa.Array) -> dict[str, Any]:
        """The key columns of a table whose row i belongs to response ``rows[i]``."""
        index = pa.array(rows, pa.int64()) if not isinstance(rows, pa.Array) else rows
        return {
            "uri": self.uris.take(index),
            "page_number": self.pages.take(index),
            "shard": pa.repeat(pa.scalar(self.shard, pa.string()), len(index)),
            "response_index": self.positions.take(index),
        }
