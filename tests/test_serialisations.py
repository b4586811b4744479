"""Every serialisation of a Vision response gives the rows of the service's own JSON.

Each form is made with the real client library (tests/serialisations.py) from
every shared real sample and from generated data with every annotation kind,
exported, and compared with the export of the service JSON table by table,
value for value.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import vision_results as vr
from tests.serialisations import FORMS, mixed, write
from vision_results.synth import write_sample

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "vision-api-samples"
FRAGMENT = "googleapis__google-cloud-php__face-landmarks.json"  # not a response
REAL = sorted(p for p in SAMPLES.glob("*.json") if p.name != FRAGMENT) if SAMPLES.is_dir() else []
FORM_NAMES = [*FORMS, "mixed"]
Rows = list[dict[str, Any]]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The service JSON: each real sample as a shard of its own, and a generated job."""
    root = tmp_path_factory.mktemp("service")
    for path in REAL:
        target = root / "samples" / path.stem / "output-1-to-1.json"
        target.parent.mkdir(parents=True)
        shutil.copyfile(path, target)
    write_sample(root / "generated", images=60, seed=7)
    return root


def export_rows(source: Path, dest: Path, **options: Any) -> dict[str, Rows]:
    """Every table, with the SOURCE folder in ``uri`` (responses without context)
    written as ``SOURCE``, so exports of two folders compare."""
    vr.export(source, dest, keep_all=True, processes=0, progress=False, **options)
    tables = {}
    for name in options.get("tables") or vr.TABLE_NAMES:
        rows = pq.read_table(dest / name).to_pylist()
        for row in rows:
            row["uri"] = row["uri"].replace(str(source), "SOURCE")
        tables[name] = rows
    return tables


@pytest.fixture(scope="module")
def expected(service: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rows]:
    tables = export_rows(service, tmp_path_factory.mktemp("expected") / "out")
    assert all(tables.values()), [name for name, rows in tables.items() if not rows]
    return tables


def saved_as(form: str, service: Path, folder: Path) -> Path:
    """A copy of the service folder with every shard in ``form``."""
    changed = 0
    for path in sorted(service.rglob("*.json")):
        target = folder / path.relative_to(service)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        target.write_bytes(mixed(data) if form == "mixed" else write(form, data))
        changed += target.read_bytes() != data
    assert changed, f"{form} wrote the service JSON itself: the test would prove nothing"
    return folder


def first_difference(got: Rows, want: Rows) -> str | None:
    if len(got) != len(want):
        return f"{len(got)} rows, expected {len(want)}"
    for number, (row, other) in enumerate(zip(got, want, strict=True)):
        if row != other:
            columns = {k: (row[k], other[k]) for k in row if row[k] != other[k]}
            return f"row {number}: (got, expected) {columns}"
    return None


@pytest.mark.parametrize("form", FORM_NAMES, ids=FORM_NAMES)
def test_every_form_gives_the_tables_of_the_service_json(
    form: str, service: Path, expected: dict[str, Rows], tmp_path: Path
) -> None:
    got = export_rows(saved_as(form, service, tmp_path / "src"), tmp_path / "out")
    problems = {name: first_difference(got[name], rows) for name, rows in expected.items()}
    assert {name: p for name, p in problems.items() if p} == {}


@pytest.mark.parametrize("table", ["images", "labels", "ocr_words", "objects", "faces", "errors"])
def test_a_table_alone_from_proto_field_names_equals_the_full_export(
    table: str, service: Path, expected: dict[str, Rows], tmp_path: Path
) -> None:
    """The parser builds only the fields a table reads, in either naming."""
    source = saved_as("to_dict", service, tmp_path / "src")
    alone = export_rows(source, tmp_path / "out", tables=[table])
    assert first_difference(alone[table], expected[table]) is None
