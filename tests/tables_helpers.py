"""Small helpers for the table tests: one response in, rows of one table out."""

from __future__ import annotations

from typing import Any

from vision_results.parse import ParsedShard
from vision_results.tables import flatten_shard


def shard(*responses: dict[str, Any]) -> ParsedShard:
    count = len(responses)
    uris = [f"gs://b/{i}.jpg" for i in range(count)]
    return ParsedShard("s.json", uris, [None] * count, list(responses), [None] * count)


def rows(table: str, *responses: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = flatten_shard(shard(*responses), [table])[table].to_pylist()
    return result


def sized(width: int, height: int, **fields: Any) -> dict[str, Any]:
    """A response whose OCR page gives the image size."""
    return {"fullTextAnnotation": {"pages": [{"width": width, "height": height}]}, **fields}
