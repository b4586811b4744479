"""The benchmark scripts, run small, so that they cannot rot unnoticed."""

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
    "export, all tables (default: threads)",
    "export, all tables, processes=2",
    "export, labels only",
]
GCS_METHODS = [
    "download_as_bytes, checksum='auto' (floor)",
    "download_as_bytes, checksum=None (floor)",
    "GcsSource.read, no parse (export's download step)",
    "export, all tables (default settings)",
    "export, tables=['errors']",
    "local copy: export, all tables (no download)",
    "local copy: export, tables=['errors'] (no download)",
]


def run_small(script: str, data: Path, methods: list[str]) -> str:
    """Run ``benchmarks/<script> --images 20``; check it timed every method; its output."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--images", "20", "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) >= 6 and cells[0] == "20":
            rows[cells[1]] = float(cells[3])  # MB/s
    assert sorted(rows) == sorted(methods), result.stdout
    assert all(speed > 0 for speed in rows.values()), result.stdout
    assert (data / "20img" / ".complete").exists()
    return result.stdout


def test_benchmark_runs_every_method_on_a_small_set(tmp_path: Path) -> None:
    assert "x orjson.loads (GC on)" in run_small("run.py", tmp_path, METHODS)


def test_gcs_benchmark_runs_every_method_on_a_small_set(tmp_path: Path) -> None:
    """gcs.py starts its own fake-gcs-server (with tests/gcs_server.py, as the gcs_server
    fixture does); it fails, as the emulator tests do, when the emulator is missing."""
    out = run_small("gcs.py", tmp_path, GCS_METHODS)
    assert "x the floor (checksum='auto')" in out
    assert "x the same export from the local copy" in out
