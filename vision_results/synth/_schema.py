"""The second serialisation: every default present and enums as numbers.

A client library's ``to_json`` writes a response so; ``with_defaults`` derives that
form from the service's (enum names, zero values left out) with a table of the
message types: per type, its fields in proto order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Json = dict[str, Any]


class _Msg(str):
    """A message type in _SCHEMA: ``_Msg("Page")`` a singular field, ``[_Msg("Page")]`` a list."""


class _Wrapped:
    """A well-known type written as a JSON scalar (FloatValue, Timestamp): a message all
    the same, so absent when unset, in both forms."""

    def __init__(self, convert: Callable[[Any], Any]) -> None:
        self.convert = convert


# fmt: off
LIKELIHOOD = ("UNKNOWN", "VERY_UNLIKELY", "UNLIKELY", "POSSIBLE", "LIKELY", "VERY_LIKELY")
# FaceAnnotation.Landmark.Type, by number
LANDMARK_TYPES = (
    "UNKNOWN_LANDMARK", "LEFT_EYE", "RIGHT_EYE", "LEFT_OF_LEFT_EYEBROW", "RIGHT_OF_LEFT_EYEBROW",
    "LEFT_OF_RIGHT_EYEBROW", "RIGHT_OF_RIGHT_EYEBROW", "MIDPOINT_BETWEEN_EYES", "NOSE_TIP",
    "UPPER_LIP", "LOWER_LIP", "MOUTH_LEFT", "MOUTH_RIGHT", "MOUTH_CENTER", "NOSE_BOTTOM_RIGHT",
    "NOSE_BOTTOM_LEFT", "NOSE_BOTTOM_CENTER", "LEFT_EYE_TOP_BOUNDARY", "LEFT_EYE_RIGHT_CORNER",
    "LEFT_EYE_BOTTOM_BOUNDARY", "LEFT_EYE_LEFT_CORNER", "RIGHT_EYE_TOP_BOUNDARY",
    "RIGHT_EYE_RIGHT_CORNER", "RIGHT_EYE_BOTTOM_BOUNDARY", "RIGHT_EYE_LEFT_CORNER",
    "LEFT_EYEBROW_UPPER_MIDPOINT", "RIGHT_EYEBROW_UPPER_MIDPOINT", "LEFT_EAR_TRAGION",
    "RIGHT_EAR_TRAGION", "LEFT_EYE_PUPIL", "RIGHT_EYE_PUPIL", "FOREHEAD_GLABELLA", "CHIN_GNATHION",
    "CHIN_LEFT_GONION", "CHIN_RIGHT_GONION", "LEFT_CHEEK_CENTER", "RIGHT_CHEEK_CENTER",
)
# fmt: on

# Per message type, its fields in proto order: a scalar's default (float fields get
# floats, int64 fields the string "0"), an enum's names by number, a message type, or
# a _Wrapped scalar.
_PROPERTY, _BOX, _ENTITIES = _Msg("TextProperty"), _Msg("BoundingPoly"), [_Msg("EntityAnnotation")]
_FLOAT_VALUE, _TIMESTAMP = _Wrapped(float), _Wrapped(str)
_RESULTS, _IMAGES = [_Msg("Result")], [_Msg("WebImage")]
_Kind = _Msg | list[_Msg] | tuple[str, ...] | _Wrapped | int | float | str
# fmt: off
_SCHEMA: dict[str, dict[str, _Kind]] = {
    "BatchAnnotateImagesResponse": {"responses": [_Msg("AnnotateImageResponse")]},
    "AnnotateFileResponse": {"inputConfig": _Msg("InputConfig"),
        "responses": [_Msg("AnnotateImageResponse")], "totalPages": 0, "error": _Msg("Status")},
    "InputConfig": {"gcsSource": _Msg("GcsSource"), "content": "", "mimeType": ""},
    "GcsSource": {"uri": ""},
    "AnnotateImageResponse": {"faceAnnotations": [_Msg("FaceAnnotation")],
        "landmarkAnnotations": _ENTITIES, "logoAnnotations": _ENTITIES,
        "labelAnnotations": _ENTITIES,
        "localizedObjectAnnotations": [_Msg("LocalizedObjectAnnotation")],
        "textAnnotations": _ENTITIES, "fullTextAnnotation": _Msg("TextAnnotation"),
        "safeSearchAnnotation": _Msg("SafeSearchAnnotation"),
        "imagePropertiesAnnotation": _Msg("ImageProperties"),
        "cropHintsAnnotation": _Msg("CropHintsAnnotation"), "webDetection": _Msg("WebDetection"),
        "productSearchResults": _Msg("ProductSearchResults"),
        "error": _Msg("Status"), "context": _Msg("ImageAnnotationContext")},
    "Status": {"code": 0, "message": "", "details": [_Msg("Any")]},
    "ImageAnnotationContext": {"uri": "", "pageNumber": 0},
    "FaceAnnotation": {"boundingPoly": _BOX, "fdBoundingPoly": _BOX,
        "landmarks": [_Msg("Landmark")], "rollAngle": 0.0, "panAngle": 0.0, "tiltAngle": 0.0,
        "detectionConfidence": 0.0, "landmarkingConfidence": 0.0,
        "joyLikelihood": LIKELIHOOD, "sorrowLikelihood": LIKELIHOOD,
        "angerLikelihood": LIKELIHOOD, "surpriseLikelihood": LIKELIHOOD,
        "underExposedLikelihood": LIKELIHOOD, "blurredLikelihood": LIKELIHOOD,
        "headwearLikelihood": LIKELIHOOD},
    "Landmark": {"type": LANDMARK_TYPES, "position": _Msg("Position")},
    "Position": {"x": 0.0, "y": 0.0, "z": 0.0},
    "EntityAnnotation": {"mid": "", "locale": "", "description": "", "score": 0.0,
        "confidence": 0.0, "topicality": 0.0, "boundingPoly": _BOX,
        "locations": [_Msg("LocationInfo")], "properties": [_Msg("Property")]},
    "LocationInfo": {"latLng": _Msg("LatLng")},
    "LatLng": {"latitude": 0.0, "longitude": 0.0},
    "Property": {"name": "", "value": "", "uint64Value": "0"},
    "LocalizedObjectAnnotation": {"mid": "", "languageCode": "", "name": "", "score": 0.0,
                                  "boundingPoly": _BOX},
    "SafeSearchAnnotation": {"adult": LIKELIHOOD, "spoof": LIKELIHOOD, "medical": LIKELIHOOD,
                             "violence": LIKELIHOOD, "racy": LIKELIHOOD},
    "ImageProperties": {"dominantColors": _Msg("DominantColorsAnnotation")},
    "DominantColorsAnnotation": {"colors": [_Msg("ColorInfo")]},
    "ColorInfo": {"color": _Msg("Color"), "score": 0.0, "pixelFraction": 0.0},
    "Color": {"red": 0.0, "green": 0.0, "blue": 0.0, "alpha": _FLOAT_VALUE},
    "CropHintsAnnotation": {"cropHints": [_Msg("CropHint")]},
    "CropHint": {"boundingPoly": _BOX, "confidence": 0.0, "importanceFraction": 0.0},
    "WebDetection": {"webEntities": [_Msg("WebEntity")], "fullMatchingImages": _IMAGES,
        "partialMatchingImages": _IMAGES, "pagesWithMatchingImages": [_Msg("WebPage")],
        "visuallySimilarImages": _IMAGES, "bestGuessLabels": [_Msg("WebLabel")]},
    "WebEntity": {"entityId": "", "score": 0.0, "description": ""},
    "WebImage": {"url": "", "score": 0.0},
    "WebPage": {"url": "", "score": 0.0, "pageTitle": "", "fullMatchingImages": _IMAGES,
                "partialMatchingImages": _IMAGES},
    "WebLabel": {"label": "", "languageCode": ""},
    "ProductSearchResults": {"indexTime": _TIMESTAMP, "results": _RESULTS,
                             "productGroupedResults": [_Msg("GroupedResult")]},
    "Result": {"product": _Msg("Product"), "score": 0.0, "image": ""},
    "Product": {"name": "", "displayName": "", "description": "", "productCategory": "",
                "productLabels": [_Msg("KeyValue")]},
    "KeyValue": {"key": "", "value": ""},
    "GroupedResult": {"boundingPoly": _BOX, "results": _RESULTS,
                      "objectAnnotations": [_Msg("ObjectAnnotation")]},
    "ObjectAnnotation": {"mid": "", "languageCode": "", "name": "", "score": 0.0},
    "BoundingPoly": {"vertices": [_Msg("Vertex")],
                     "normalizedVertices": [_Msg("NormalizedVertex")]},
    "Vertex": {"x": 0, "y": 0},
    "NormalizedVertex": {"x": 0.0, "y": 0.0},
    "TextAnnotation": {"pages": [_Msg("Page")], "text": ""},
    "Page": {"property": _PROPERTY, "width": 0, "height": 0, "blocks": [_Msg("Block")],
             "confidence": 0.0},
    "Block": {"property": _PROPERTY, "boundingBox": _BOX, "paragraphs": [_Msg("Paragraph")],
              "blockType": ("UNKNOWN", "TEXT", "TABLE", "PICTURE", "RULER", "BARCODE"),
              "confidence": 0.0},
    "Paragraph": {"property": _PROPERTY, "boundingBox": _BOX, "words": [_Msg("Word")],
                  "confidence": 0.0},
    "Word": {"property": _PROPERTY, "boundingBox": _BOX, "symbols": [_Msg("Symbol")],
             "confidence": 0.0},
    "Symbol": {"property": _PROPERTY, "boundingBox": _BOX, "text": "", "confidence": 0.0},
    "TextProperty": {"detectedLanguages": [_Msg("DetectedLanguage")],
                     "detectedBreak": _Msg("DetectedBreak")},
    "DetectedLanguage": {"languageCode": "", "confidence": 0.0},
    "DetectedBreak": {"type": ("UNKNOWN", "SPACE", "SURE_SPACE", "EOL_SURE_SPACE", "HYPHEN",
                               "LINE_BREAK"), "isPrefix": False},
}
# fmt: on


def with_defaults(message: Json, type_name: str) -> Json:
    """`message` as a client library re-serialises it: every default present, enums as ints.

    Unset singular messages (wrappers and Timestamps included) stay absent, as in
    proto3 JSON with defaults included.
    """
    out: Json = {}
    for key, kind in _SCHEMA[type_name].items():
        value = message.get(key)
        if isinstance(kind, list):
            out[key] = [with_defaults(m, kind[0]) for m in value or ()]
        elif isinstance(kind, _Msg):
            if value is not None:
                out[key] = with_defaults(value, kind)
        elif isinstance(kind, tuple):
            out[key] = 0 if value is None else kind.index(value)
        elif value is None:
            if not isinstance(kind, _Wrapped):
                out[key] = kind
        elif isinstance(kind, float):
            out[key] = float(value)
        else:
            out[key] = kind.convert(value) if isinstance(kind, _Wrapped) else value
    return out
