"""The Arrow flatteners give the tables of the Python flatteners, value for value.

Run over every shared real sample and generated data with every kind, in the
service's form and the client's defaults-present form, each through the fast
decoder and the exact one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from vision_results.decode import decode_shard
from vision_results.parse import parse_shard
from vision_results.synth import write_sample
from vision_results.tables import (
    FLATTENERS,
    fields_for,
    flatten_shard,
)

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "vision-api-samples"
FRAGMENT = "googleapis__google-cloud-php__face-landmarks.json"
REAL = sorted(p for p in SAMPLES.glob("*.json") if p.name != FRAGMENT) if SAMPLES.is_dir() else []
GROUPS = {"+".join(sorted(names)): (names, flattener) for names, flattener, _ in FLATTENERS}


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("arrow")
    generated = write_sample(root / "service", images=60, seed=7)
    generated += write_sample(root / "defaults", images=60, seed=7, defaults=True)
    return [*REAL, *generated]


def first_difference(got: pa.Table, want: pa.Table) -> str | None:
    if got.schema != want.schema:
        return f"schema {got.schema} != {want.schema}"
    if got.num_rows != want.num_rows:
        return f"{got.num_rows} rows, expected {want.num_rows}"
    for number, (row, other) in enumerate(zip(got.to_pylist(), want.to_pylist(), strict=True)):
        if row != other:
            columns = {k: (row[k], other[k]) for k in row if row[k] != other[k]}
            return f"row {number}: (arrow, python) {columns}"
    return None if got.equals(want) else "equal rows, unequal tables"


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "exact"])
@pytest.mark.parametrize("group", GROUPS)
def test_arrow_tables_equal_the_python_tables(group: str, fast: bool, shards: list[Path]) -> None:
    names, flattener = GROUPS[group]
    module = __import__(flattener.__module__, fromlist=["flatten_arrow"])
    arrow: Any = getattr(module, "flatten_arrow", None)
    if arrow is None:
        pytest.skip(f"{group}: not ported yet")
    fields = fields_for(frozenset(names))
    problems = {}
    for path in shards:
        data = path.read_bytes()
        parsed = parse_shard(data, path.name, str(path), fields=fields)
        want = flatten_shard(parsed, names)
        batch = decode_shard(data, path.name, str(path), fields=fields, fast=fast).batch
        got = arrow(batch)
        for name in names:
            problem = first_difference(got[name], want[name])
            if problem:
                problems[f"{path.parent.name}/{path.name}:{name}"] = problem
    assert problems == {}
