"""objects: normalized boxes, and pixels when the image size is known."""

from __future__ import annotations

from tests.tables_helpers import rows, sized

DRESS = {
    "mid": "/m/01d40f",
    "name": "Dress",
    "score": 0.92,
    "boundingPoly": {"normalizedVertices": [{"x": 0.25, "y": 0.5}, {"x": 0.75}, {"y": 1}]},
}


def test_pixels_only_where_the_size_is_known() -> None:
    (unsized,) = rows("objects", {"localizedObjectAnnotations": [DRESS]})
    assert (unsized["norm_x_min"], unsized["norm_y_min"]) == (0.0, 0.0)
    assert (unsized["norm_x_max"], unsized["norm_y_max"]) == (0.75, 1.0)
    assert unsized["x_min"] is None and unsized["vertices"] is None
    (known,) = rows("objects", sized(200, 100, localizedObjectAnnotations=[DRESS]))
    assert (known["x_min"], known["y_min"], known["x_max"], known["y_max"]) == (0, 0, 150, 100)
    assert known["normalized_vertices"][0] == {"x": 0.25, "y": 0.5}
    assert (known["name"], known["language_code"]) == ("Dress", None)
