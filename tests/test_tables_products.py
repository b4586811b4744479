"""products and product_objects."""

from __future__ import annotations

from tests.tables_helpers import rows, sized

SHOE = {
    "product": {
        "name": "projects/p/locations/us-west1/products/shoe-1",
        "displayName": "Runner",
        "productCategory": "apparel-v2",
        "productLabels": [{"key": "color", "value": "red"}],
    },
    "score": 0.8,
    "image": "projects/p/locations/us-west1/products/shoe-1/referenceImages/r1",
}
SEARCH = {
    "indexTime": "2026-05-01T12:00:00Z",
    "results": [SHOE],
    "productGroupedResults": [
        {
            "boundingPoly": {"normalizedVertices": [{"x": 0.5}, {"x": 1, "y": 0.5}]},
            "results": [SHOE, {"score": 0.1}],
            "objectAnnotations": [{"mid": "/m/06rrc", "name": "Shoe", "score": 0.7}],
        }
    ],
}


def test_products_top_level_and_grouped() -> None:
    table = rows("products", sized(400, 200, productSearchResults=SEARCH))
    assert [(r["group_index"], r["rank"], r["display_name"], r["score"]) for r in table] == [
        (None, 0, "Runner", 0.8),
        (0, 0, "Runner", 0.8),
        (0, 1, None, 0.1),
    ]
    assert table[0]["labels"] == [{"key": "color", "value": "red"}]
    assert table[0]["category"] == "apparel-v2" and table[0]["index_time"] == SEARCH["indexTime"]
    assert table[0]["x_min"] is None
    assert (table[1]["x_min"], table[1]["y_min"], table[1]["x_max"], table[1]["y_max"]) == (
        200, 0, 400, 100,
    )  # fmt: skip
    (found,) = rows("product_objects", {"productSearchResults": SEARCH})
    assert (found["group_index"], found["name"], found["score"]) == (0, "Shoe", 0.7)
