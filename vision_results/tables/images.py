"""The ``images`` table: one row per response, errors and empty responses included.

Besides the keys and the error it carries, for a quick look, the OCR text, the
top label, the safe-search verdicts and how many of each kind of annotation
the response holds.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vision_results.batch import Batch
from vision_results.messages import RESPONSE
from vision_results.tables import _arrow
from vision_results.tables._common import table_schema
from vision_results.tables._ocr_arrow import Hierarchy, nonzero
from vision_results.tables._registry import Declaration
from vision_results.tables.image_properties import SAFE_SEARCH_FIELDS
from vision_results.tables.web import IMAGE_KINDS

# Counts of lists at these paths of a response.
LIST_COUNTS = {
    "n_labels": ("labelAnnotations",),
    "n_text_annotations": ("textAnnotations",),
    "n_faces": ("faceAnnotations",),
    "n_landmarks": ("landmarkAnnotations",),
    "n_logos": ("logoAnnotations",),
    "n_objects": ("localizedObjectAnnotations",),
    "n_colors": ("imagePropertiesAnnotation", "dominantColors", "colors"),
    "n_crop_hints": ("cropHintsAnnotation", "cropHints"),
    "n_web_entities": ("webDetection", "webEntities"),
    "n_web_pages": ("webDetection", "pagesWithMatchingImages"),
    "n_web_labels": ("webDetection", "bestGuessLabels"),
}
OCR_COUNTS = ("n_pages", "n_blocks", "n_paragraphs", "n_lines", "n_words")
OTHER_COUNTS = ("n_web_images", "n_products")

SCHEMA = table_schema(
    pa.field("error_code", pa.int32()),
    pa.field("error_message", pa.string()),
    pa.field("mime_type", pa.string()),
    pa.field("total_pages", pa.int32()),
    pa.field("text", pa.string()),
    pa.field("text_language", pa.string()),
    pa.field("width", pa.int32()),
    pa.field("height", pa.int32()),
    pa.field("top_label", pa.string()),
    pa.field("top_label_score", pa.float64()),
    *(pa.field(name, pa.string()) for name in SAFE_SEARCH_FIELDS),
    *(
        pa.field(name, pa.int32(), nullable=False)
        for name in (*LIST_COUNTS, *OCR_COUNTS, *OTHER_COUNTS)
    ),
)


def flatten(batch: Batch) -> dict[str, pa.Table]:
    responses = len(batch)
    given = _children(batch.responses)
    response = {name: given[name] if name in given else batch.field(name) for name in RESPONSE}
    error = _children(response["error"])
    codes = _arrow.number(error["code"], 0)
    messages = _arrow.text(error["message"])  # null unless an error, as below
    # As response_error: an all-default error (code 0, no message) is no error.
    is_error = pc.or_(pc.not_equal(codes, 0), pc.is_valid(messages))
    annotation = response["fullTextAnnotation"]
    ocr = Hierarchy(annotation)
    first_page = _first(ocr.pages)
    page = {
        name: _arrow.field(ocr.pages.values, name).take(first_page)
        for name in ("property", "width", "height")
    }
    labels = _arrow.explode(response["labelAnnotations"])
    first_label = _first(labels)
    label = _children(labels.values)
    safe_search = _children(response["safeSearchAnnotation"])
    has_safe_search = _given(safe_search[name] for name in SAFE_SEARCH_FIELDS)
    web = _children(response["webDetection"])
    search = _children(response["productSearchResults"])
    groups = _arrow.explode(search["productGroupedResults"])
    # A response's grouped results: the running count at the end of its groups
    # less that at their start.
    grouped = np.append(0, np.cumsum(_lengths(_arrow.field(groups.values, "results"))))
    columns = {
        **batch.keys(np.arange(responses)),
        "error_code": pc.if_else(is_error, codes, None),
        "error_message": messages,
        "mime_type": batch.mime_types,
        "total_pages": batch.total_pages,
        "text": _arrow.text(_arrow.field(annotation, "text")),
        "text_language": _arrow.top_language(page["property"]),
        "width": nonzero(page["width"]),
        "height": nonzero(page["height"]),
        "top_label": _arrow.text(label["description"].take(first_label)),
        "top_label_score": pc.if_else(
            _given(label.values()).take(first_label),
            _arrow.number(label["score"]).take(first_label),
            None,
        ),
        **{
            name: pc.if_else(
                has_safe_search, _arrow.enum_names(safe_search[name], "Likelihood"), None
            )
            for name in SAFE_SEARCH_FIELDS
        },
        **{
            name: _lengths(_arrow.field(response[path[0]], *path[1:]))
            for name, path in LIST_COUNTS.items()
        },
        "n_pages": ocr.pages.lengths(),
        **{
            f"n_{level}": np.bincount(ocr.response_of(level), minlength=responses)
            for level in ("blocks", "paragraphs", "words")
        },
        "n_lines": ocr.line_counts(responses),
        "n_web_images": sum(_lengths(web[name]) for name in IMAGE_KINDS.values()),
        "n_products": _lengths(search["results"])
        + grouped[groups.offsets[1:]]
        - grouped[groups.offsets[:-1]],
    }
    return {"images": pa.Table.from_pydict(columns, schema=SCHEMA)}


def _children(structs: pa.StructArray) -> dict[str, pa.Array]:
    """Every field of ``structs``, null where the struct is, as ``pc.struct_field``
    gives them but in one call (``struct_field`` of the responses' large type costs
    some 70 µs a call)."""
    return dict(zip(structs.type.names, structs.flatten(), strict=True))


def _first(level: _arrow.Level) -> pa.Array:
    """Per row, the index of its first item in ``level.values`` (null where none)."""
    return pa.array(level.offsets[:-1], mask=level.lengths() == 0)


def _lengths(lists: pa.Array) -> np.ndarray:
    lengths: np.ndarray = pc.fill_null(pc.list_value_length(lists), 0).to_numpy()
    return lengths


def _given(fields: Iterable[pa.Array]) -> pa.Array:
    """Whether each struct has any of these fields: the Python flatteners' truth
    test of a JSON object (``{}`` is none)."""
    valid = [field.is_valid().to_numpy(zero_copy_only=False) for field in fields]
    return pa.array(np.logical_or.reduce(valid))


DECLARATION = Declaration(
    tables={"images": SCHEMA},
    reads=RESPONSE,  # a row per response, with counts of every kind of annotation
    flatten=flatten,
    position=10,
)
