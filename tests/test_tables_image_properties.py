"""safe_search, colors, crop_hints."""

from __future__ import annotations

from tests.tables_helpers import rows


def test_safe_search_names_and_levels() -> None:
    (row,) = rows("safe_search", {"safeSearchAnnotation": {"adult": "LIKELY", "racy": 2}}, {})
    assert (row["adult"], row["adult_level"], row["racy"], row["racy_level"]) == (
        "LIKELY", 4, "UNLIKELY", 2,
    )  # fmt: skip
    assert (row["spoof"], row["spoof_level"]) == ("UNKNOWN", 0)


def test_colors_hex_and_alpha_null_when_absent() -> None:
    colors = [
        {"color": {"red": 104, "green": 113, "blue": 135}, "score": 0.16, "pixelFraction": 0.04},
        {"color": {"red": 255, "alpha": 0.5}},
        {"color": {"blue": 1, "alpha": {"value": 0.25}}},
    ]
    table = rows("colors", {"imagePropertiesAnnotation": {"dominantColors": {"colors": colors}}})
    assert [(r["rank"], r["hex"], r["alpha"]) for r in table] == [
        (0, "#687187", None),
        (1, "#ff0000", 0.5),
        (2, "#000001", 0.25),
    ]
    assert (table[0]["score"], table[0]["pixel_fraction"], table[1]["score"]) == (0.16, 0.04, 0)


def test_crop_hints_with_origin_vertices() -> None:
    hint = {
        "boundingPoly": {"vertices": [{}, {"x": 3023}, {"x": 3023, "y": 2520}, {"y": 2520}]},
        "confidence": 0.55,
        "importanceFraction": 1,
    }
    (row,) = rows("crop_hints", {"cropHintsAnnotation": {"cropHints": [hint]}})
    assert (row["x_min"], row["y_min"], row["x_max"], row["y_max"]) == (0, 0, 3023, 2520)
    assert (row["confidence"], row["importance_fraction"]) == (0.55, 1.0)
