"""Every notebook in notebooks/ runs top to bottom, in a fresh kernel, without an error.

The kernel is ``python3``, and it must be the interpreter running the tests (the
venv with the package installed). ipykernel's own kernelspec under ``sys.prefix``
would do, but a ``python3`` kernelspec in the user's Jupyter folder takes
precedence and may name another Python; so each test writes a ``python3``
kernelspec whose argv is ``sys.executable`` into a folder of its own and puts it
first on ``JUPYTER_PATH``. A cell put in front of each notebook checks that the
kernel's ``sys.prefix`` is the test's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds, per cell
PREFIX_CHECK = "import sys\nprint(sys.prefix)"

# Text each notebook must print, beyond running without an error.
EXPECTED_OUTPUT = {
    "quickstart.ipynb": "rebuilt lines match ocr_lines",
}


def stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(
        output.get("text", "")
        for output in cell.get("outputs", ())
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )


def test_notebooks_found() -> None:
    assert NOTEBOOKS, "no notebooks in notebooks/"


@pytest.fixture
def this_python_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The name of a kernel that runs ``sys.executable``, found before any other."""
    jupyter = tmp_path / "jupyter"
    write_kernel_spec(jupyter / "kernels" / "python3")  # argv[0] is sys.executable
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))
    return "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, tmp_path: Path, this_python_kernel: str) -> None:
    nb = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), (
        f"{path.name} has stored outputs: clear them before committing"
    )
    nb.cells.insert(0, nbformat.v4.new_code_cell(PREFIX_CHECK))
    workdir = tmp_path / "work"
    workdir.mkdir()
    client = NotebookClient(
        nb,
        kernel_name=this_python_kernel,
        timeout=CELL_TIMEOUT,
        startup_timeout=120,
        resources={"metadata": {"path": str(workdir)}},  # the kernel's working directory
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on an error

    assert stdout(nb.cells[0]).strip() == sys.prefix, "the kernel is not this environment's python"
    for cell in nb.cells:
        for output in cell.get("outputs", ()):
            assert output.get("output_type") != "error", f"{path.name}: {output.get('ename')}"
    expected = EXPECTED_OUTPUT.get(path.name)
    if expected is not None:
        printed = "".join(stdout(cell) for cell in nb.cells)
        assert expected in printed, f"{path.name} did not print {expected!r}"
