"""The generator: deterministic, self-consistent, and covering what the parser must handle."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vision_results.parse import RESPONSE_FIELDS
from vision_results.synth import SAMPLE_IMAGES, _scene, main, write_sample

SEPARATOR = {"SPACE": " ", "SURE_SPACE": " ", "EOL_SURE_SPACE": "\n", "LINE_BREAK": "\n"}
SEPARATOR["HYPHEN"] = "-\n"


def responses(folder: Path) -> list[dict[str, Any]]:
    return [
        r for p in sorted(folder.rglob("*.json")) for r in json.loads(p.read_bytes())["responses"]
    ]


def symbols(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for page in response["fullTextAnnotation"]["pages"]
        for b in page["blocks"]
        for p in b["paragraphs"]
        for w in p["words"]
        for s in w["symbols"]
    ]


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = write_sample(tmp_path / "a", images=25, seed=4, documents=1, pdf_pages=2)
    b = write_sample(tmp_path / "b", images=25, seed=4, documents=1, pdf_pages=2)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert [p.relative_to(tmp_path / "a") for p in a] == [p.relative_to(tmp_path / "b") for p in b]
    assert [p.relative_to(tmp_path / "a").as_posix() for p in a] == [
        "images/output-1-to-20.json",
        "images/output-21-to-25.json",
        "files/doc-1/output-1-to-2.json",
    ]


def test_text_is_the_symbols_and_their_breaks(tmp_path: Path) -> None:
    write_sample(tmp_path, images=80, seed=1, documents=1, pdf_pages=3)
    breaks: Counter[str] = Counter()
    languages: set[str] = set()
    for response in responses(tmp_path):
        if "fullTextAnnotation" not in response:
            continue
        text = []
        for s in symbols(response):
            kind = s.get("property", {}).get("detectedBreak", {}).get("type")
            breaks[kind] += 1
            text.append(s["text"] + SEPARATOR.get(kind, ""))
        assert "".join(text) == response["fullTextAnnotation"]["text"]
        page = response["fullTextAnnotation"]["pages"][0]
        languages.update(lang["languageCode"] for lang in page["property"]["detectedLanguages"])
    assert set(SEPARATOR) <= set(breaks)
    assert {"en", "fr", "iw", "ja"} <= languages


def test_service_form_omits_zeros_and_defaults_form_has_them(tmp_path: Path) -> None:
    write_sample(tmp_path / "plain", images=40, seed=2, documents=0)
    write_sample(tmp_path / "full", images=40, seed=2, documents=0, defaults=True)
    plain, full = responses(tmp_path / "plain"), responses(tmp_path / "full")
    assert len(plain) == len(full) == 40
    vertices = [
        v
        for r in plain
        for t in r.get("textAnnotations", [])
        for v in t["boundingPoly"]["vertices"]
    ]
    assert any("x" not in v for v in vertices)
    assert any(r.get("error") for r in plain) and any(set(r) == {"context"} for r in plain)
    label = next(r for r in full if r.get("labelAnnotations"))["labelAnnotations"][0]
    assert label["locale"] == "" and label["locations"] == [] and label["confidence"] == 0.0
    kinds = {
        type(s["property"]["detectedBreak"]["type"])
        for r in full
        if "fullTextAnnotation" in r
        for s in symbols(r)
        if "property" in s and "detectedBreak" in s["property"]
    }
    assert kinds == {int}


def test_sample_command(tmp_path: Path) -> None:
    assert main(["--sample", str(tmp_path)]) == 0
    images = responses(tmp_path / "images")
    assert len(images) == SAMPLE_IMAGES
    pdf = responses(tmp_path / "files")
    assert {r["context"]["pageNumber"] for r in pdf} == {1, 2, 3, 4, 5}


# --- the kinds besides text --------------------------------------------------------------

KINDS = tuple(sorted(RESPONSE_FIELDS - {"context", "error"}))
# The v1 enums, by number, written out here from the protos rather than taken from
# the generator, so that a wrong number there shows.
LIKELIHOOD = ("UNKNOWN", "VERY_UNLIKELY", "UNLIKELY", "POSSIBLE", "LIKELY", "VERY_LIKELY")
LANDMARK_TYPE = (
    *("UNKNOWN_LANDMARK", "LEFT_EYE", "RIGHT_EYE", "LEFT_OF_LEFT_EYEBROW"),
    *("RIGHT_OF_LEFT_EYEBROW", "LEFT_OF_RIGHT_EYEBROW", "RIGHT_OF_RIGHT_EYEBROW"),
    *("MIDPOINT_BETWEEN_EYES", "NOSE_TIP", "UPPER_LIP", "LOWER_LIP", "MOUTH_LEFT", "MOUTH_RIGHT"),
    *("MOUTH_CENTER", "NOSE_BOTTOM_RIGHT", "NOSE_BOTTOM_LEFT", "NOSE_BOTTOM_CENTER"),
    *("LEFT_EYE_TOP_BOUNDARY", "LEFT_EYE_RIGHT_CORNER", "LEFT_EYE_BOTTOM_BOUNDARY"),
    *("LEFT_EYE_LEFT_CORNER", "RIGHT_EYE_TOP_BOUNDARY", "RIGHT_EYE_RIGHT_CORNER"),
    *("RIGHT_EYE_BOTTOM_BOUNDARY", "RIGHT_EYE_LEFT_CORNER", "LEFT_EYEBROW_UPPER_MIDPOINT"),
    *("RIGHT_EYEBROW_UPPER_MIDPOINT", "LEFT_EAR_TRAGION", "RIGHT_EAR_TRAGION", "LEFT_EYE_PUPIL"),
    *("RIGHT_EYE_PUPIL", "FOREHEAD_GLABELLA", "CHIN_GNATHION", "CHIN_LEFT_GONION"),
    *("CHIN_RIGHT_GONION", "LEFT_CHEEK_CENTER", "RIGHT_CHEEK_CENTER"),
)
FACE_LIKELIHOODS = tuple(
    f"{n}Likelihood"
    for n in ("joy", "sorrow", "anger", "surprise", "underExposed", "blurred", "headwear")
)
# (the field holding the message, the enum field) -> names by number
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("detectedBreak", "type"): (
        "UNKNOWN",
        "SPACE",
        "SURE_SPACE",
        "EOL_SURE_SPACE",
        "HYPHEN",
        "LINE_BREAK",
    ),
    ("blocks", "blockType"): ("UNKNOWN", "TEXT", "TABLE", "PICTURE", "RULER", "BARCODE"),
    ("landmarks", "type"): LANDMARK_TYPE,
    **{("faceAnnotations", key): LIKELIHOOD for key in FACE_LIKELIHOODS},
    **{
        ("safeSearchAnnotation", key): LIKELIHOOD
        for key in ("adult", "spoof", "medical", "violence", "racy")
    },
}
INT64 = {"uint64Value"}  # int64/uint64 are JSON strings, "0" the default
WRAPPERS = {"alpha", "indexTime"}  # messages written as scalars: absent when unset


def is_default(key: str, value: Any) -> bool:
    if isinstance(value, bool | list | str) and not value:
        return True
    return (isinstance(value, int | float) and value == 0) or (key in INT64 and value == "0")


def service_form(value: Any, name: str = "") -> Any:
    """A defaults-form value with its defaults dropped and its enum numbers named."""
    if isinstance(value, list):
        return [service_form(v, name) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, v in value.items():
        if (name, key) in ENUMS:
            assert isinstance(v, int), (name, key, v)
            if v:
                out[key] = ENUMS[name, key][v]
        elif not is_default(key, v):
            out[key] = service_form(v, key)
    return out


def defaults_left(value: Any, name: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every default value (enum UNKNOWN included) in a plain-form document."""
    if isinstance(value, list):
        for v in value:
            yield from defaults_left(v, name)
    elif isinstance(value, dict):
        for key, v in value.items():
            if is_default(key, v) or ((name, key) in ENUMS and v == ENUMS[name, key][0]):
                yield name, key, v
            yield from defaults_left(v, key)


def messages(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every JSON object with the keys that lead to it (list positions left out)."""
    if isinstance(value, list):
        for v in value:
            yield from messages(v, path)
    elif isinstance(value, dict):
        yield path, value
        for key, v in value.items():
            yield from messages(v, (*path, key))


def colors_of(images: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        c["color"]
        for r in images
        for c in r.get("imagePropertiesAnnotation", {}).get("dominantColors", {}).get("colors", [])
    ]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    assert main(["--sample", str(folder / "plain")]) == 0
    assert main(["--sample", "--defaults", str(folder / "full")]) == 0
    return folder


def test_sample_has_every_kind_several_times_with_its_edge_cases(sample: Path) -> None:
    images = responses(sample / "plain" / "images")
    seen = Counter(key for r in images for key in r)
    assert all(seen[kind] >= 5 for kind in KINDS), seen
    faces = [f for r in images for f in r.get("faceAnnotations", [])]
    landmarks = [e for r in images for e in r.get("landmarkAnnotations", [])]
    labels = [e for r in images for e in r.get("labelAnnotations", [])]
    colors = colors_of(images)
    web = [r["webDetection"] for r in images if "webDetection" in r]
    products = [r["productSearchResults"] for r in images if "productSearchResults" in r]
    landmark_types = {m["type"] for f in faces for m in f["landmarks"]}
    assert landmark_types == set(LANDMARK_TYPE[1:])  # 34 a face: pupils or cheeks
    assert all(len(f["landmarks"]) == 34 for f in faces)
    assert any(f["rollAngle"] < 0 for f in faces) and any(f["rollAngle"] > 0 for f in faces)
    assert {len(e.get("locations", [])) for e in landmarks} == {0, 1, 2}
    for entities in (landmarks, labels):
        numbers = [p.get("uint64Value") for e in entities for p in e.get("properties", [])]
        assert None in numbers  # a property with a value and no number
        assert all(isinstance(v, str) and v.isdigit() for v in numbers if v is not None)
        assert any(v and int(v) > 2**53 for v in numbers)  # beyond a double's integers
    assert any("alpha" in c for c in colors) and any("alpha" not in c for c in colors)
    assert any(len(set(c) - {"alpha"}) < 3 for c in colors)  # a 0 component left out
    assert any("description" not in e for w in web for e in w["webEntities"])
    assert sum(bool(p.get("productGroupedResults")) for p in products) >= 3
    hints = [h for r in images for h in r.get("cropHintsAnnotation", {}).get("cropHints", [])]
    assert {} in [v for h in hints for v in h["boundingPoly"]["vertices"]]


def test_defaults_form_is_the_plain_form_with_every_default(sample: Path) -> None:
    for path in sorted((sample / "plain").rglob("*.json")):
        plain = json.loads(path.read_bytes())
        full = json.loads((sample / "full" / path.relative_to(sample / "plain")).read_bytes())
        assert list(defaults_left(plain)) == [], path
        assert service_form(full) == plain, path
    # Defaults are all there: a key that some objects at a place have and others lack
    # is a sub-message (unset: absent), never a scalar or a list.
    for job in ("images", "files"):
        shapes: dict[tuple[str, ...], list[Any]] = {}
        for path in (sample / "full" / job).rglob("*.json"):
            for where, obj in messages(json.loads(path.read_bytes())):
                shapes.setdefault(where, []).append(obj)
        for where, objs in shapes.items():
            every = set().union(*objs)
            for key in every - set.intersection(*(set(o) for o in objs)):
                held = [o[key] for o in objs if key in o]
                assert key in WRAPPERS or all(isinstance(v, dict) for v in held), (where, key)


def test_defaults_form_of_the_new_kinds(sample: Path) -> None:
    images = responses(sample / "full" / "images")
    face = next(f for r in images for f in r["faceAnnotations"])
    assert set(FACE_LIKELIHOODS) < set(face) and all(type(face[k]) is int for k in FACE_LIKELIHOODS)
    landmark = face["landmarks"][0]
    assert type(landmark["type"]) is int and set(landmark["position"]) == {"x", "y", "z"}
    safe = next(r["safeSearchAnnotation"] for r in images if "safeSearchAnnotation" in r)
    assert list(safe) == ["adult", "spoof", "medical", "violence", "racy"]
    lonely = next(e for r in images for e in r["landmarkAnnotations"] if not e["locations"])
    assert lonely["locale"] == "" and lonely["topicality"] == 0.0
    properties = [p for r in images for e in r["labelAnnotations"] for p in e["properties"]]
    assert {"0"} < {p["uint64Value"] for p in properties}
    colors = colors_of(images)
    assert all({"red", "green", "blue"} <= set(c) for c in colors)
    assert {0.0} < {c["red"] for c in colors} and any("alpha" not in c for c in colors)
    product = next(r["productSearchResults"] for r in images if "productSearchResults" in r)
    assert isinstance(product["indexTime"], str) and product["indexTime"].endswith("Z")
    assert all(r["faceAnnotations"] == [] for r in images if "fullTextAnnotation" not in r)


def test_the_other_kinds_leave_the_text_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They come from a random stream of their own: without them, the same text."""
    write_sample(tmp_path / "all", images=30, seed=3, documents=1, pdf_pages=2)
    monkeypatch.setattr(_scene, "CHANCE", dict.fromkeys(_scene.CHANCE, 0.0))
    write_sample(tmp_path / "text", images=30, seed=3, documents=1, pdf_pages=2)
    stripped = responses(tmp_path / "all")
    for r in stripped:
        for kind in set(KINDS) - {"labelAnnotations", "textAnnotations", "fullTextAnnotation"}:
            r.pop(kind, None)
        for label in r.get("labelAnnotations", []):
            label.pop("properties", None)
    assert stripped == responses(tmp_path / "text")
