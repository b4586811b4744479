"""The ``images`` table: one row per response, errors and empty responses included."""

from __future__ import annotations

import pyarrow as pa

from vision_results.parse import ParsedShard
from vision_results.tables._common import Columns, table_schema, top_language
from vision_results.tables.errors import response_error
from vision_results.tables.ocr import count_lines, page_size

COUNTS = (
    "n_labels",
    "n_text_annotations",
    "n_pages",
    "n_blocks",
    "n_paragraphs",
    "n_lines",
    "n_words",
)

SCHEMA = table_schema(
    pa.field("error_code", pa.int32()),
    pa.field("error_message", pa.string()),
    pa.field("text", pa.string()),
    pa.field("text_language", pa.string()),
    pa.field("width", pa.int32()),
    pa.field("height", pa.int32()),
    *(pa.field(name, pa.int32(), nullable=False) for name in COUNTS),
)


def flatten(parsed: ParsedShard) -> dict[str, pa.Table]:
    cols = Columns(SCHEMA, parsed)
    for index, response in enumerate(parsed.responses):
        error = response_error(response) or {}
        annotation = response.get("fullTextAnnotation") or {}
        pages = annotation.get("pages") or ()
        blocks = [b for page in pages for b in page.get("blocks") or ()]
        paragraphs = [p for block in blocks for p in block.get("paragraphs") or ()]
        width, height = page_size(response)
        cols.key(index)
        cols.add(
            error_code=error.get("code", 0) if error else None,
            error_message=error.get("message") or None,
            text=annotation.get("text") or None,
            text_language=top_language(pages[0].get("property")) if pages else None,
            width=width,
            height=height,
            n_labels=len(response.get("labelAnnotations") or ()),
            n_text_annotations=len(response.get("textAnnotations") or ()),
            n_pages=len(pages),
            n_blocks=len(blocks),
            n_paragraphs=len(paragraphs),
            n_lines=sum(count_lines(p) for p in paragraphs),
            n_words=sum(len(p.get("words") or ()) for p in paragraphs),
        )
    return {"images": cols.table()}
