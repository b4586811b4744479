"""One shard's responses in Arrow: what every flattener reads.

A :class:`Batch` holds the responses as one struct array (the types of
:mod:`vision_results.messages`) and, per response, its join key and what its
file job says. The flatteners are pure functions from a Batch to Arrow tables;
:meth:`Batch.keys` gives the four key columns of any table from the response
each row belongs to.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vision_results.messages import RESPONSE
from vision_results.parse import ParsedShard


@dataclass
class Batch:
    shards: pa.Array
    """Per response: the shard it came from (``shard`` in every table)."""
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
            shards=pa.repeat(pa.scalar(parsed.shard, pa.string()), len(parsed.responses)),
            responses=responses,
            uris=pa.array(parsed.uris, pa.string()),
            pages=pa.array(parsed.pages, pa.int32()),
            positions=pa.array(positions, pa.int32()),
            mime_types=pa.array(
                [(f.get("inputConfig") or {}).get("mimeType") or None for f in files], pa.string()
            ),
            total_pages=pa.array([f.get("totalPages") or None for f in files], pa.int32()),
        )

    @classmethod
    def concat(cls, batches: list[Batch]) -> Batch:
        """Several shards' batches as one (the flatteners cost mostly per call)."""
        if len(batches) == 1:
            return batches[0]
        names = [f.name for f in dataclasses.fields(cls)]
        return cls(**{n: pa.concat_arrays([getattr(b, n) for b in batches]) for n in names})

    def __len__(self) -> int:
        return len(self.responses)

    def field(self, name: str) -> pa.Array:
        """One field of every response (null where the batch was read without it)."""
        found = self._fields.get(name)
        return pa.nulls(len(self.responses), RESPONSE[name]) if found is None else found

    @functools.cached_property
    def _fields(self) -> dict[str, pa.Array]:
        # One flatten for all fields: struct_field on this wide type costs ~10x more.
        names = [f.name for f in self.responses.type]
        return dict(zip(names, self.responses.flatten(), strict=True))

    @functools.cached_property
    def page_sizes(self) -> tuple[np.ndarray, np.ndarray]:
        """Per response, the width and height of its first OCR page (NaN where unknown
        or 0): the only image size the JSON gives, for boxes in normalized vertices."""
        pages = pc.struct_field(self.field("fullTextAnnotation"), "pages")
        if isinstance(pages, pa.ChunkedArray):
            pages = pages.combine_chunks()
        lengths = pc.fill_null(pc.list_value_length(pages), 0).to_numpy(zero_copy_only=False)
        starts = pages.offsets.to_numpy()[:-1] - pages.offsets[0].as_py()
        sizes = []
        for name in ("width", "height"):
            values = pc.struct_field(pc.list_flatten(pages), name)
            values = values.to_numpy(zero_copy_only=False).astype(np.float64)
            size = np.full(len(lengths), np.nan)
            size[lengths > 0] = values[starts[lengths > 0]]
            size[size == 0] = np.nan
            sizes.append(size)
        return sizes[0], sizes[1]

    def keys(self, rows: np.ndarray | pa.Array) -> dict[str, Any]:
        """The key columns of a table whose row i belongs to response ``rows[i]``."""
        index = pa.array(rows, pa.int64()) if not isinstance(rows, pa.Array) else rows
        return {
            "uri": self.uris.take(index),
            "page_number": self.pages.take(index),
            "shard": self.shards.take(index),
            "response_index": self.positions.take(index),
        }
