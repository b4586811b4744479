"""images: counts of every kind, top label, safe search, file-job fields."""

from __future__ import annotations

import orjson

from tests.tables_helpers import rows
from vision_results import parse_shard
from vision_results.tables import flatten_shard


def test_counts_top_label_and_safe_search() -> None:
    response = {
        "labelAnnotations": [{"description": "Cat", "score": 0.9}, {"description": "Pet"}],
        "faceAnnotations": [{}, {}],
        "safeSearchAnnotation": {"adult": "UNLIKELY", "racy": 4},
        "webDetection": {"fullMatchingImages": [{}], "visuallySimilarImages": [{}, {}]},
        "productSearchResults": {"results": [{}], "productGroupedResults": [{"results": [{}]}]},
    }
    image, empty = rows("images", response, {})
    assert (image["top_label"], image["top_label_score"]) == ("Cat", 0.9)
    assert (image["adult"], image["racy"], image["spoof"]) == ("UNLIKELY", "LIKELY", "UNKNOWN")
    assert (image["n_labels"], image["n_faces"], image["n_web_images"], image["n_products"]) == (
        2, 2, 3, 2,
    )  # fmt: skip
    assert (empty["top_label"], empty["top_label_score"], empty["adult"]) == (None, None, None)
    assert empty["n_labels"] == empty["n_faces"] == 0


def test_file_job_fields() -> None:
    data = orjson.dumps(
        {
            "inputConfig": {"gcsSource": {"uri": "gs://b/d.pdf"}, "mimeType": "application/pdf"},
            "totalPages": 12,
            "responses": [{"context": {"uri": "gs://b/d.pdf", "pageNumber": 3}}],
        }
    )
    image = flatten_shard(parse_shard(data, "s", "s"), ["images"])["images"].to_pylist()[0]
    assert (image["mime_type"], image["total_pages"], image["page_number"]) == (
        "application/pdf", 12, 3,
    )  # fmt: skip
