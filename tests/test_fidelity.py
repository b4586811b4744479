"""No part of a Vision response is left behind.

Every leaf value of every response, in the shared real samples and in generated
data covering every kind (both serialisations), must land in some table, in a
row of the same response, with the same value. A leaf whose path is not mapped
below fails the test, so a field the API adds later shows up here, not as
silent loss. OCR symbols are left out by design (docs/tables.md says so).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import vision_results as vr
from vision_results.synth import write_sample
from vision_results.tables.faces import LANDMARK_TYPES
from vision_results.tables.ocr import BLOCK_TYPES

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "vision-api-samples"
FRAGMENT = "googleapis__google-cloud-php__face-landmarks.json"
LIKELIHOODS = ("UNKNOWN", "VERY_UNLIKELY", "UNLIKELY", "POSSIBLE", "LIKELY", "VERY_LIKELY")


def name_of(names: tuple[str, ...]) -> Callable[[Any], Any]:
    return lambda v: names[v] if isinstance(v, int) else v


SAME: Callable[[Any], Any] = lambda v: v  # noqa: E731
LIKELIHOOD = name_of(LIKELIHOODS)


def box(prefix: str, table: str, column: str = "") -> dict[str, tuple[str, str, Any]]:
    """The leaves of a BoundingPoly at ``prefix`` and where they land."""
    return {
        f"{prefix}.{kind}[].{axis}": (table, f"{column}{name}.{axis}", SAME)
        for kind, name in (("vertices", "vertices"), ("normalizedVertices", "normalized_vertices"))
        for axis in ("x", "y")
    }


def entity(prefix: str, table: str, fields: tuple[str, ...]) -> dict[str, tuple[str, str, Any]]:
    mapped = {f"{prefix}.{field}": (table, snake(field), SAME) for field in fields}
    for part in ("name", "value"):
        mapped[f"{prefix}.properties[].{part}"] = (table, f"properties.{part}", SAME)
    mapped[f"{prefix}.properties[].uint64Value"] = (table, "properties.uint64_value", int)
    return mapped


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def languages(prefix: str, table: str) -> dict[str, tuple[str, str, Any]]:
    return {
        f"{prefix}.property.detectedLanguages[].languageCode": (
            table,
            "languages.language_code",
            SAME,
        ),
        f"{prefix}.property.detectedLanguages[].confidence": (table, "languages.confidence", SAME),
        f"{prefix}.confidence": (table, "confidence", SAME),
    }


def hex_of(value: str) -> str:
    return f"#{value.lower()}"


PAGE = "fullTextAnnotation.pages[]"
BLOCK = f"{PAGE}.blocks[]"
PARAGRAPH = f"{BLOCK}.paragraphs[]"
WORD = f"{PARAGRAPH}.words[]"
FACE = "faceAnnotations[]"
WEB = "webDetection"
PRODUCTS = "productSearchResults"
RESULT_FIELDS = {
    "product.name": "product",
    "product.displayName": "display_name",
    "product.description": "description",
    "product.productCategory": "category",
    "product.productLabels[].key": "labels.key",
    "product.productLabels[].value": "labels.value",
    "score": "score",
    "image": "image",
}

# JSON path of a leaf inside a response -> (table, column[.struct field], value transform)
WHERE: dict[str, tuple[str, str, Any]] = {
    "context.uri": ("images", "uri", SAME),
    "context.pageNumber": ("images", "page_number", SAME),
    "error.code": ("errors", "code", SAME),
    "error.message": ("errors", "message", SAME),
    **entity("labelAnnotations[]", "labels", ("mid", "description", "score", "topicality")),
    "textAnnotations[].description": ("text_annotations", "description", SAME),
    "textAnnotations[].locale": ("text_annotations", "locale", SAME),
    **box("textAnnotations[].boundingPoly", "text_annotations"),
    "fullTextAnnotation.text": ("images", "text", SAME),
    f"{PAGE}.width": ("ocr_pages", "width", SAME),
    f"{PAGE}.height": ("ocr_pages", "height", SAME),
    **languages(PAGE, "ocr_pages"),
    f"{BLOCK}.blockType": ("ocr_blocks", "block_type", name_of(BLOCK_TYPES)),
    **languages(BLOCK, "ocr_blocks"),
    **box(f"{BLOCK}.boundingBox", "ocr_blocks"),
    **languages(PARAGRAPH, "ocr_paragraphs"),
    **box(f"{PARAGRAPH}.boundingBox", "ocr_paragraphs"),
    **languages(WORD, "ocr_words"),
    **box(f"{WORD}.boundingBox", "ocr_words"),
    **box(f"{FACE}.boundingPoly", "faces"),
    **box(f"{FACE}.fdBoundingPoly", "faces", "fd_"),
    **{
        f"{FACE}.{field}": ("faces", snake(field), SAME)
        for field in (
            "rollAngle",
            "panAngle",
            "tiltAngle",
            "detectionConfidence",
            "landmarkingConfidence",
        )
    },
    **{
        f"{FACE}.{field}Likelihood": ("faces", snake(field), LIKELIHOOD)
        for field in ("joy", "sorrow", "anger", "surprise", "underExposed", "blurred", "headwear")
    },
    f"{FACE}.landmarks[].type": ("face_landmarks", "type", name_of(LANDMARK_TYPES)),
    **{
        f"{FACE}.landmarks[].position.{axis}": ("face_landmarks", axis, SAME)
        for axis in ("x", "y", "z")
    },
    **entity("landmarkAnnotations[]", "landmarks", ("mid", "description", "score")),
    "landmarkAnnotations[].locations[].latLng.latitude": ("landmarks", "latitude", SAME),
    "landmarkAnnotations[].locations[].latLng.longitude": ("landmarks", "longitude", SAME),
    **box("landmarkAnnotations[].boundingPoly", "landmarks"),
    **entity("logoAnnotations[]", "logos", ("mid", "description", "score")),
    **box("logoAnnotations[].boundingPoly", "logos"),
    **{
        f"localizedObjectAnnotations[].{field}": ("objects", snake(field), SAME)
        for field in ("mid", "name", "languageCode", "score")
    },
    **box("localizedObjectAnnotations[].boundingPoly", "objects"),
    **{
        f"safeSearchAnnotation.{field}": ("safe_search", field, LIKELIHOOD)
        for field in ("adult", "spoof", "medical", "violence", "racy")
    },
    **{
        f"imagePropertiesAnnotation.dominantColors.colors[].color.{c}": ("colors", c, SAME)
        for c in ("red", "green", "blue", "alpha")
    },
    "imagePropertiesAnnotation.dominantColors.colors[].score": ("colors", "score", SAME),
    "imagePropertiesAnnotation.dominantColors.colors[].pixelFraction": (
        "colors",
        "pixel_fraction",
        SAME,
    ),
    **box("cropHintsAnnotation.cropHints[].boundingPoly", "crop_hints"),
    "cropHintsAnnotation.cropHints[].confidence": ("crop_hints", "confidence", SAME),
    "cropHintsAnnotation.cropHints[].importanceFraction": (
        "crop_hints",
        "importance_fraction",
        SAME,
    ),
    f"{WEB}.webEntities[].entityId": ("web_entities", "entity_id", SAME),
    f"{WEB}.webEntities[].description": ("web_entities", "description", SAME),
    f"{WEB}.webEntities[].score": ("web_entities", "score", SAME),
    **{
        f"{WEB}.{parent}{kind}[].{field}": ("web_images", field, SAME)
        for parent in ("", "pagesWithMatchingImages[].")
        for kind in ("fullMatchingImages", "partialMatchingImages", "visuallySimilarImages")
        for field in ("url", "score")
    },
    **{
        f"{WEB}.pagesWithMatchingImages[].{field}": ("web_pages", snake(field), SAME)
        for field in ("url", "score", "pageTitle")
    },
    f"{WEB}.bestGuessLabels[].label": ("web_labels", "label", SAME),
    f"{WEB}.bestGuessLabels[].languageCode": ("web_labels", "language_code", SAME),
    f"{PRODUCTS}.indexTime": ("products", "index_time", SAME),
    **{
        f"{PRODUCTS}.{parent}results[].{field}": ("products", column, SAME)
        for parent in ("", "productGroupedResults[].")
        for field, column in RESULT_FIELDS.items()
    },
    **box(f"{PRODUCTS}.productGroupedResults[].boundingPoly", "products"),
    **{
        f"{PRODUCTS}.productGroupedResults[].objectAnnotations[].{field}": (
            "product_objects",
            snake(field),
            SAME,
        )
        for field in ("mid", "name", "languageCode", "score")
    },
}
# Leaves of the shard around the responses of a file job.
SHARD_WHERE = {
    "inputConfig.gcsSource.uri": ("images", "uri", SAME),
    "inputConfig.mimeType": ("images", "mime_type", SAME),
    "totalPages": ("images", "total_pages", SAME),
}
LEFT_OUT = (f"{WORD}.symbols[]",)  # by design: their text is in ocr_words.text
# Not Vision API fields: Google's web demo adds them to its JSON, and one shared
# sample was saved from it. The crop hints it repeats are cropHintsAnnotation's.
DEMO_ONLY = {
    "imagePropertiesAnnotation.dominantColors.colors[].hex": ("colors", "hex", hex_of),
    "imagePropertiesAnnotation.dominantColors.colors[].percent": None,
    "imagePropertiesAnnotation.dominantColors.colors[].percentRounded": None,
    "imagePropertiesAnnotation.dominantColors.colors[].rgb": None,
    **{
        path.replace("cropHintsAnnotation", "imagePropertiesAnnotation", 1): where
        for path, where in WHERE.items()
        if path.startswith("cropHintsAnnotation")
    },
}


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path with [] for list positions, value) of every leaf."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item, f"{path}[]")
    else:
        yield path, value


def column_values(rows: list[dict[str, Any]], column: str) -> set[Any]:
    name, _, field = column.partition(".")
    values: set[Any] = set()
    for row in rows:
        value = row[name]
        if field:
            values.update(item[field] for item in value or ())
        else:
            values.add(value)
    return values


def raw_responses(document: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(response, file response or None) in the order the export numbers them,
    from the JSON as ``json.loads`` gives it: the parser's own decoder skips
    what it does not know, so it cannot be the reference."""
    found: list[tuple[dict[str, Any], dict[str, Any] | None]] = []

    def file_response(node: dict[str, Any]) -> None:
        file = node if "inputConfig" in node or "totalPages" in node else None
        if not node.get("responses") and node.get("error"):
            found.append(({"error": node["error"]}, file))
        for item in node.get("responses") or ():
            if "responses" in item or "inputConfig" in item:
                file_response(item)
            else:
                found.append((item, file))

    if "responses" in document or "inputConfig" in document:
        file_response(document)
    else:
        found.append((document, None))
    return found


def missing_leaves(path: Path, tables: dict[str, list[dict[str, Any]]]) -> list[str]:
    """What of the shard at ``path`` is not in ``tables`` (an export of it alone)."""
    responses = raw_responses(json.loads(path.read_bytes()))
    problems = []

    seen: dict[tuple[str, str, int | None], set[Any]] = {}

    def check(table: str, column: str, value: Any, index: int | None) -> bool:
        key = (table, column, index)
        if key not in seen:
            rows = [r for r in tables[table] if index is None or r["response_index"] == index]
            seen[key] = column_values(rows, column)
        return value in seen[key]

    for file in {id(f): f for _, f in responses if f is not None}.values():
        for leaf, value in leaves({k: v for k, v in file.items() if k != "responses"}):
            where = SHARD_WHERE.get(leaf)
            if value in ("", 0, None, False):
                continue
            if where is None or not check(where[0], where[1], where[2](value), None):
                problems.append(f"{path.name}: {leaf} = {value!r}")
    for index, (response, _) in enumerate(responses):
        for leaf, value in leaves(response):
            if value in ("", 0, None, False) or leaf.startswith(LEFT_OUT):
                continue
            if leaf in DEMO_ONLY:
                where = DEMO_ONLY[leaf]
                if where is None:  # a presentation value the demo derives
                    continue
            else:
                where = WHERE.get(leaf)
            if where is None:
                problems.append(f"{path.name}[{index}]: {leaf} = {value!r} has no table")
            elif not check(where[0], where[1], where[2](value), index):
                problems.append(f"{path.name}[{index}]: {leaf} = {value!r} not in {where[:2]}")
    return problems


def export_tables(source: Path, dest: Path) -> dict[str, list[dict[str, Any]]]:
    vr.export(source, dest)
    return {name: pq.read_table(dest / name).to_pylist() for name in vr.TABLE_NAMES}


REAL = sorted(p for p in SAMPLES.glob("*.json") if p.name != FRAGMENT) if SAMPLES.is_dir() else []


@pytest.mark.skipif(not REAL, reason=f"real samples not found at {SAMPLES}")
@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_every_leaf_of_the_real_samples_lands_in_a_table(path: Path, tmp_path: Path) -> None:
    assert missing_leaves(path, export_tables(path, tmp_path / "out")) == []


@pytest.mark.parametrize("defaults", [False, True], ids=["service-json", "defaults-present"])
def test_every_leaf_of_generated_data_lands_in_a_table(defaults: bool, tmp_path: Path) -> None:
    shards = write_sample(tmp_path / "src", images=60, seed=7, defaults=defaults)
    problems = []
    for number, shard in enumerate(shards):
        problems += missing_leaves(shard, export_tables(shard, tmp_path / f"out-{number}"))
    assert problems == []
