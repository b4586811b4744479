"""ruff and mypy are part of the suite, so CI holds the code to them too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKS = {
    "ruff check": ["ruff", "check", "vision_results", "tests", "benchmarks"],
    "ruff format": ["ruff", "format", "--check", "vision_results", "tests", "benchmarks"],
    "mypy": ["mypy"],
}


@pytest.mark.parametrize("name", CHECKS)
def test_code_is_clean(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *CHECKS[name]], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}{result.stderr}"
