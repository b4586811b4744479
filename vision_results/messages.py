"""The Vision messages as the tables read them, as Arrow types.

These are the types of a shard's responses as the flatteners read them: what
``pyarrow.json`` decodes into (the fast path of :mod:`vision_results.decode`,
which reads enums as numbers and ``details`` as a list where it must, then
converts) and what the exact decoder's responses are converted to
(:mod:`vision_results.canonical`): camelCase names, enums as their names (field
metadata ``enum`` names the table of :data:`ENUMS`), 64-bit integers as text,
``Status.details`` as JSON text. Fields no table reads are
left out: pyarrow skips them unbuilt (the symbols' boxes above all, most of the
bytes). ``tests/test_messages_types.py`` checks every field against the real
client's message descriptors. Each table module declares which fields it reads,
as these types (:mod:`vision_results.tables`).
"""

from __future__ import annotations

import pyarrow as pa

ENUMS: dict[str, tuple[str, ...]] = {
    "Likelihood": ("UNKNOWN", "VERY_UNLIKELY", "UNLIKELY", "POSSIBLE", "LIKELY", "VERY_LIKELY"),
    "BreakType": ("UNKNOWN", "SPACE", "SURE_SPACE", "EOL_SURE_SPACE", "HYPHEN", "LINE_BREAK"),
    "BlockType": ("UNKNOWN", "TEXT", "TABLE", "PICTURE", "RULER", "BARCODE"),
    "LandmarkType": (
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
    ),
}  # fmt: skip
"""Each enum's names by number (the defaults-present form writes numbers)."""

STRING, FLOAT, INT, BOOL = pa.string(), pa.float64(), pa.int32(), pa.bool_()


def enum(name: str, table: str) -> pa.Field:
    """A field holding an enum of ``ENUMS[table]``, as its name."""
    return pa.field(name, STRING, metadata={"enum": table})


def struct(*fields: pa.Field | tuple[str, pa.DataType]) -> pa.StructType:
    return pa.struct([f if isinstance(f, pa.Field) else pa.field(*f) for f in fields])


def floats(*names: str) -> list[pa.Field]:
    return [pa.field(name, FLOAT) for name in names]


def strings(*names: str) -> list[pa.Field]:
    return [pa.field(name, STRING) for name in names]


VERTEX = struct(("x", INT), ("y", INT))
NORMALIZED_VERTEX = struct(("x", FLOAT), ("y", FLOAT))
BOUNDING_POLY = struct(
    ("vertices", pa.list_(VERTEX)), ("normalizedVertices", pa.list_(NORMALIZED_VERTEX))
)

DETECTED_LANGUAGE = struct(("languageCode", STRING), ("confidence", FLOAT))
DETECTED_BREAK = struct(enum("type", "BreakType"), ("isPrefix", BOOL))
LANGUAGES_PROPERTY = struct(("detectedLanguages", pa.list_(DETECTED_LANGUAGE)))
SYMBOL = struct(("property", struct(("detectedBreak", DETECTED_BREAK))), ("text", STRING))
WORD = struct(
    ("property", LANGUAGES_PROPERTY),
    ("boundingBox", BOUNDING_POLY),
    ("symbols", pa.list_(SYMBOL)),
    ("confidence", FLOAT),
)
PARAGRAPH = struct(
    ("property", LANGUAGES_PROPERTY),
    ("boundingBox", BOUNDING_POLY),
    ("words", pa.list_(WORD)),
    ("confidence", FLOAT),
)
BLOCK = struct(
    ("property", LANGUAGES_PROPERTY),
    ("boundingBox", BOUNDING_POLY),
    ("paragraphs", pa.list_(PARAGRAPH)),
    enum("blockType", "BlockType"),
    ("confidence", FLOAT),
)
PAGE = struct(
    ("property", LANGUAGES_PROPERTY),
    ("width", INT),
    ("height", INT),
    ("blocks", pa.list_(BLOCK)),
    ("confidence", FLOAT),
)
TEXT_ANNOTATION = struct(("pages", pa.list_(PAGE)), ("text", STRING))
PAGE_SIZES = struct(("pages", pa.list_(struct(("width", INT), ("height", INT)))))
"""``fullTextAnnotation`` as the tables with boxes need it: each page's size."""

PROPERTY = struct(
    *strings("name", "value"),
    pa.field("uint64Value", STRING, metadata={"int64": "text"}),  # proto3 JSON writes int64 as text
)
LAT_LNG = struct(*floats("latitude", "longitude"))
ENTITY_ANNOTATION = struct(
    *strings("mid", "locale", "description"),
    *floats("score", "topicality"),
    ("boundingPoly", BOUNDING_POLY),
    ("locations", pa.list_(struct(("latLng", LAT_LNG)))),
    ("properties", pa.list_(PROPERTY)),
)

LANDMARK = struct(enum("type", "LandmarkType"), ("position", struct(*floats("x", "y", "z"))))
FEELINGS = ("joy", "sorrow", "anger", "surprise", "underExposed", "blurred", "headwear")
FACE_ANNOTATION = struct(
    ("boundingPoly", BOUNDING_POLY),
    ("fdBoundingPoly", BOUNDING_POLY),
    ("landmarks", pa.list_(LANDMARK)),
    *floats("rollAngle", "panAngle", "tiltAngle", "detectionConfidence", "landmarkingConfidence"),
    *(enum(f"{feeling}Likelihood", "Likelihood") for feeling in FEELINGS),
)
OBJECT_ANNOTATION = struct(*strings("mid", "languageCode", "name"), ("score", FLOAT))
LOCALIZED_OBJECT_ANNOTATION = struct(*OBJECT_ANNOTATION, ("boundingPoly", BOUNDING_POLY))
SAFE_SEARCH_FIELDS = ("adult", "spoof", "medical", "violence", "racy")
SAFE_SEARCH_ANNOTATION = struct(*(enum(name, "Likelihood") for name in SAFE_SEARCH_FIELDS))
COLOR = struct(
    *floats("red", "green", "blue"),
    # A google.protobuf.FloatValue: absent is "fully opaque", not 0.
    pa.field("alpha", FLOAT, metadata={"wrapper": "value"}),
)
IMAGE_PROPERTIES = struct(
    (
        "dominantColors",
        struct(("colors", pa.list_(struct(("color", COLOR), *floats("score", "pixelFraction"))))),
    )
)
CROP_HINTS_ANNOTATION = struct(
    (
        "cropHints",
        pa.list_(
            struct(("boundingPoly", BOUNDING_POLY), *floats("confidence", "importanceFraction"))
        ),
    )
)
WEB_IMAGES = pa.list_(struct(("url", STRING), ("score", FLOAT)))
WEB_DETECTION = struct(
    (
        "webEntities",
        pa.list_(struct(("entityId", STRING), ("score", FLOAT), ("description", STRING))),
    ),
    ("fullMatchingImages", WEB_IMAGES),
    ("partialMatchingImages", WEB_IMAGES),
    (
        "pagesWithMatchingImages",
        pa.list_(
            struct(
                ("url", STRING),
                ("score", FLOAT),
                ("pageTitle", STRING),
                ("fullMatchingImages", WEB_IMAGES),
                ("partialMatchingImages", WEB_IMAGES),
            )
        ),
    ),
    ("visuallySimilarImages", WEB_IMAGES),
    ("bestGuessLabels", pa.list_(struct(*strings("label", "languageCode")))),
)
PRODUCT = struct(
    *strings("name", "displayName", "description", "productCategory"),
    ("productLabels", pa.list_(struct(*strings("key", "value")))),
)
RESULTS = pa.list_(struct(("product", PRODUCT), ("score", FLOAT), ("image", STRING)))
PRODUCT_SEARCH_RESULTS = struct(
    ("indexTime", STRING),  # a google.protobuf.Timestamp, as RFC 3339 text
    ("results", RESULTS),
    (
        "productGroupedResults",
        pa.list_(
            struct(
                ("boundingPoly", BOUNDING_POLY),
                ("results", RESULTS),
                ("objectAnnotations", pa.list_(OBJECT_ANNOTATION)),
            )
        ),
    ),
)
STATUS = struct(
    ("code", INT),
    ("message", STRING),
    # repeated google.protobuf.Any: kept as JSON text (the exact decoder writes it so).
    pa.field("details", STRING, metadata={"json": "text"}),
)

ENTITIES = pa.list_(ENTITY_ANNOTATION)
RESPONSE: dict[str, pa.DataType] = {
    "faceAnnotations": pa.list_(FACE_ANNOTATION),
    "landmarkAnnotations": ENTITIES,
    "logoAnnotations": ENTITIES,
    "labelAnnotations": ENTITIES,
    "localizedObjectAnnotations": pa.list_(LOCALIZED_OBJECT_ANNOTATION),
    "textAnnotations": ENTITIES,
    "fullTextAnnotation": TEXT_ANNOTATION,
    "safeSearchAnnotation": SAFE_SEARCH_ANNOTATION,
    "imagePropertiesAnnotation": IMAGE_PROPERTIES,
    "cropHintsAnnotation": CROP_HINTS_ANNOTATION,
    "webDetection": WEB_DETECTION,
    "productSearchResults": PRODUCT_SEARCH_RESULTS,
    "error": STATUS,
}
"""Each AnnotateImageResponse field the tables read, whole (``context`` is read by
the exact decoder's first pass, which gives every response its key): what
``images`` reads, and what :meth:`~vision_results.batch.Batch.field` gives for a
field not decoded. Which fields a table reads, so what a shard is decoded into,
each table declares (:mod:`vision_results.tables`); ``tests/test_registry.py``
checks that together they read exactly these."""
PAGE_SIZE = "fullTextAnnotation.pages.size"
"""A pseudo-field: of ``fullTextAnnotation``, only each page's width and height
(the tables with boxes scale normalized vertices by the page size)."""
