"""faces and face_landmarks."""

from __future__ import annotations

from tests.tables_helpers import rows

FACE = {
    "boundingPoly": {"vertices": [{"x": 10, "y": 20}, {"x": 50, "y": 90}]},
    "fdBoundingPoly": {"vertices": [{"x": 12}, {"x": 48, "y": 80}]},
    "landmarks": [
        {"type": "LEFT_EYE", "position": {"x": 20.5, "y": 40.25, "z": -0.1}},
        {"type": "CHIN_GNATHION", "position": {"x": 30}},
    ],
    "rollAngle": -4.5,
    "panAngle": 2.0,
    "detectionConfidence": 0.9,
    "joyLikelihood": "VERY_LIKELY",
    "headwearLikelihood": "POSSIBLE",
}


def test_face_row_has_both_boxes_angles_and_likelihood_levels() -> None:
    (face,) = rows("faces", {"faceAnnotations": [FACE]})
    assert (face["x_min"], face["y_min"], face["x_max"], face["y_max"]) == (10, 20, 50, 90)
    assert (face["fd_x_min"], face["fd_y_min"], face["fd_x_max"], face["fd_y_max"]) == (
        12, 0, 48, 80,
    )  # fmt: skip
    assert (face["roll_angle"], face["pan_angle"], face["tilt_angle"]) == (-4.5, 2.0, 0.0)
    assert (face["joy"], face["joy_level"]) == ("VERY_LIKELY", 5)
    assert (face["headwear"], face["headwear_level"]) == ("POSSIBLE", 3)
    assert (face["sorrow"], face["sorrow_level"]) == ("UNKNOWN", 0)  # omitted = 0


def test_numeric_enums_give_the_same_rows() -> None:
    numbered = {**FACE, "joyLikelihood": 5, "headwearLikelihood": 3}
    numbered["landmarks"] = [
        {**FACE["landmarks"][0], "type": 1},
        {**FACE["landmarks"][1], "type": 32},
    ]
    for table in ("faces", "face_landmarks"):
        assert rows(table, {"faceAnnotations": [FACE]}) == rows(
            table, {"faceAnnotations": [numbered]}
        )


def test_landmarks_keep_their_face_and_position() -> None:
    landmarks = rows("face_landmarks", {"faceAnnotations": [{}, FACE]})
    assert [(r["face_index"], r["type"], r["x"], r["y"], r["z"]) for r in landmarks] == [
        (1, "LEFT_EYE", 20.5, 40.25, -0.1),
        (1, "CHIN_GNATHION", 30, 0.0, 0.0),
    ]
