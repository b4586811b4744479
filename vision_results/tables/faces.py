"""``faces`` and ``face_landmarks``: ``faceAnnotations``, one row per face / landmark."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from vision_results.batch import Batch
from vision_results.messages import FACE_ANNOTATION, PAGE_SIZE, PAGE_SIZES
from vision_results.tables import _arrow
from vision_results.tables._boxes import box_fields, boxes
from vision_results.tables._common import (
    likelihood_fields,
    table_schema,
)
from vision_results.tables._registry import Declaration

# FaceAnnotation.Landmark.Type, by number (the defaults form writes numbers).
LANDMARK_TYPES = (
    "UNKNOWN_LANDMARK", "LEFT_EYE", "RIGHT_EYE", "LEFT_OF_LEFT_EYEBROW",
    "RIGHT_OF_LEFT_EYEBROW", "LEFT_OF_RIGHT_EYEBROW", "RIGHT_OF_RIGHT_EYEBROW",
    "MIDPOINT_BETWEEN_EYES", "NOSE_TIP", "UPPER_LIP", "LOWER_LIP", "MOUTH_LEFT",
    "MOUTH_RIGHT", "MOUTH_CENTER", "NOSE_BOTTOM_RIGHT", "NOSE_BOTTOM_LEFT",
    "NOSE_BOTTOM_CENTER", "LEFT_EYE_TOP_BOUNDARY", "LEFT_EYE_RIGHT_CORNER",
    "LEFT_EYE_BOTTOM_BOUNDARY", "LEFT_EYE_LEFT_CORNER", "RIGHT_EYE_TOP_BOUNDARY",
    "RIGHT_EYE_RIGHT_CORNER", "RIGHT_EYE_BOTTOM_BOUNDARY", "RIGHT_EYE_LEFT_CORNER",
    "LEFT_EYEBROW_UPPER_MIDPOINT", "RIGHT_EYEBROW_UPPER_MIDPOINT", "LEFT_EAR_TRAGION",
    "RIGHT_EAR_TRAGION", "LEFT_EYE_PUPIL", "RIGHT_EYE_PUPIL", "FOREHEAD_GLABELLA",
    "CHIN_GNATHION", "CHIN_LEFT_GONION", "CHIN_RIGHT_GONION", "LEFT_CHEEK_CENTER",
    "RIGHT_CHEEK_CENTER",
)  # fmt: skip
FEELINGS = {
    "joy": "joyLikelihood",
    "sorrow": "sorrowLikelihood",
    "anger": "angerLikelihood",
    "surprise": "surpriseLikelihood",
    "under_exposed": "underExposedLikelihood",
    "blurred": "blurredLikelihood",
    "headwear": "headwearLikelihood",
}

FACES = table_schema(
    pa.field("face_index", pa.int32(), nullable=False),
    *box_fields(),
    *box_fields("fd_"),
    pa.field("roll_angle", pa.float64()),
    pa.field("pan_angle", pa.float64()),
    pa.field("tilt_angle", pa.float64()),
    pa.field("detection_confidence", pa.float64()),
    pa.field("landmarking_confidence", pa.float64()),
    *likelihood_fields(*FEELINGS),
)
LANDMARKS = table_schema(
    pa.field("face_index", pa.int32(), nullable=False),
    pa.field("type", pa.string()),
    pa.field("x", pa.float64()),
    pa.field("y", pa.float64()),
    pa.field("z", pa.float64()),
)


def flatten(batch: Batch) -> dict[str, pa.Table]:
    level = _arrow.explode(batch.field("faceAnnotations"))
    items = level.values
    width, height = batch.page_sizes
    width, height = width[level.parents], height[level.parents]
    columns: dict[str, Any] = {
        **batch.keys(level.parents),
        "face_index": level.positions,
        **boxes(_arrow.field(items, "boundingPoly"), width, height),
        **boxes(_arrow.field(items, "fdBoundingPoly"), width, height, prefix="fd_"),
        "roll_angle": _arrow.number(_arrow.field(items, "rollAngle")),
        "pan_angle": _arrow.number(_arrow.field(items, "panAngle")),
        "tilt_angle": _arrow.number(_arrow.field(items, "tiltAngle")),
        "detection_confidence": _arrow.number(_arrow.field(items, "detectionConfidence")),
        "landmarking_confidence": _arrow.number(_arrow.field(items, "landmarkingConfidence")),
    }
    for column, source in FEELINGS.items():
        columns[column], columns[f"{column}_level"] = _arrow.likelihood(_arrow.field(items, source))
    marks = _arrow.explode(_arrow.field(items, "landmarks"))
    position = _arrow.field(marks.values, "position")
    landmarks = {
        **batch.keys(level.parents[marks.parents]),
        "face_index": level.positions[marks.parents],
        "type": _arrow.enum_names(_arrow.field(marks.values, "type"), "LandmarkType"),
        **{axis: _arrow.number(_arrow.field(position, axis)) for axis in ("x", "y", "z")},
    }
    return {
        "faces": pa.Table.from_pydict(columns, schema=FACES),
        "face_landmarks": pa.Table.from_pydict(landmarks, schema=LANDMARKS),
    }


DECLARATION = Declaration(
    tables={"faces": FACES, "face_landmarks": LANDMARKS},
    reads={"faceAnnotations": pa.list_(FACE_ANNOTATION), PAGE_SIZE: PAGE_SIZES},
    flatten=flatten,
    position=50,
)
