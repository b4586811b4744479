"""The benchmark runner, run small, so that it cannot rot unnoticed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = [
    "read bytes (floor)",
    "orjson.loads, GC on (floor)",
    "orjson.loads, GC off (floor)",
    "naive pandas -> Parquet",
    "DuckDB read_json+unnest -> Parquet",
    "export, processes=0 (1 process)",
    "export, processes=None (auto)",
]


def test_benchmark_runs_every_method_on_a_small_set(tmp_path: Path) -> None:
    script = ROOT / "benchmarks" / "run.py"
    result = subprocess.run(
        [sys.executable, str(script), "--images", "20", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 7 and cells[0] == "20":
            rows[cells[1]] = float(cells[3])  # MB/s
    assert sorted(rows) == sorted(METHODS), result.stdout
    assert all(speed > 0 for speed in rows.values()), result.stdout
    assert "x orjson.loads (GC on)" in result.stdout
    assert (tmp_path / "20img" / ".complete").exists()
