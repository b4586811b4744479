"""landmarks and logos (EntityAnnotations with a box), and entity properties on labels."""

from __future__ import annotations

from tests.tables_helpers import rows

ROME = {
    "mid": "/m/0rome",
    "description": "Colosseum",
    "score": 0.93,
    "boundingPoly": {"vertices": [{"x": 1, "y": 2}, {"x": 30, "y": 40}]},
    "locations": [
        {"latLng": {"latitude": 41.8902, "longitude": 12.4922}},
        {"latLng": {"latitude": 41.89}},
    ],
    "properties": [{"name": "visits", "uint64Value": "18446744073709551615"}],
}


def test_one_row_per_location_and_the_entity_without_one_kept() -> None:
    landmarks = rows("landmarks", {"landmarkAnnotations": [ROME, {"description": "Unknown"}]})
    assert [
        (r["rank"], r["description"], r["location_index"], r["latitude"], r["longitude"])
        for r in landmarks
    ] == [
        (0, "Colosseum", 0, 41.8902, 12.4922),
        (0, "Colosseum", 1, 41.89, 0.0),
        (1, "Unknown", None, None, None),
    ]
    assert landmarks[0]["properties"] == [
        {"name": "visits", "value": None, "uint64_value": 2**64 - 1}
    ]
    assert (landmarks[0]["x_max"], landmarks[0]["y_max"]) == (30, 40)


def test_logos_and_label_properties() -> None:
    logo = {"description": "ACME", "score": 0.5, "boundingPoly": {"vertices": [{}, {"x": 5}]}}
    (row,) = rows("logos", {"logoAnnotations": [logo]})
    assert (row["description"], row["score"], row["mid"], row["x_max"], row["y_max"]) == (
        "ACME", 0.5, None, 5, 0,
    )  # fmt: skip
    label = {"description": "Cat", "properties": [{"name": "kind", "value": "pet"}]}
    (row,) = rows("labels", {"labelAnnotations": [label]})
    assert row["properties"] == [{"name": "kind", "value": "pet", "uint64_value": 0}]
