"""The generator: deterministic, self-consistent, and covering what the parser must handle."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from vision_results.synth import SAMPLE_IMAGES, main, write_sample

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
