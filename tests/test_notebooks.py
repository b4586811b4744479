"""Every notebook in notebooks/ runs top to bottom, in a fresh kernel of this
interpreter, without an error; and the committed notebooks carry the outputs of
such a run (plots included), refreshed with ``python notebooks/execute.py``.

A cell put in front of each notebook checks that the kernel's ``sys.prefix`` is
the test's (``notebooks/execute.py`` says how the kernel is chosen).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PREFIX_CHECK = "import sys\nprint(sys.prefix)"

# Text each notebook must print, beyond running without an error.
EXPECTED_OUTPUT = {
    "quickstart.ipynb": ["rebuilt lines match ocr_lines"],
    "explore-a-batch.ipynb": ["70 answers, 3 with an error", "complete", "images containing"],
    "from-images-to-tables.ipynb": [
        "14 inputs in 2 operation(s)",
        "images 12 inputs  DONE",
        "files   2 inputs  DONE",
        "with a result  14",
        "complete  every shard listed was read and every image of the job has an answer",
    ],
}
# Plots (PNG outputs) each committed notebook must show.
PLOTS = {"explore-a-batch.ipynb": 5}  # four charts and one res.show picture


def load_execute() -> ModuleType:
    spec = importlib.util.spec_from_file_location("execute", ROOT / "notebooks" / "execute.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(
        output.get("text", "")
        for output in cell.get("outputs", ())
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )


def pngs(nb: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in nb.cells
        for output in cell.get("outputs", ())
    )


def test_notebooks_found() -> None:
    assert {p.name for p in NOTEBOOKS} >= set(EXPECTED_OUTPUT)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.cells.insert(0, nbformat.v4.new_code_cell(PREFIX_CHECK))
    load_execute().execute(nb, tmp_path)  # raises CellExecutionError on an error

    assert stdout(nb.cells[0]).strip() == sys.prefix, "the kernel is not this environment's python"
    printed = "".join(stdout(cell) for cell in nb.cells)
    for expected in EXPECTED_OUTPUT.get(path.name, []):
        assert expected in printed, f"{path.name} did not print {expected!r}"
    assert pngs(nb) >= PLOTS.get(path.name, 0)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_shows_its_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: run it with notebooks/execute.py"
    errors = [o for cell in code for o in cell.outputs if o.get("output_type") == "error"]
    assert not errors, f"{path.name} was committed with an error output"
    assert pngs(nb) >= PLOTS.get(path.name, 0), f"{path.name}: its plots are not committed"
    nbformat.validate(nb)


def test_what_the_notebooks_import_comes_with_the_notebook_extra() -> None:
    """A user with ``pip install 'vision-results[notebook]'`` can run them (but for
    the pipeline notebook's stand-ins, which live in tests/)."""
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + project["optional-dependencies"]["notebook"]
    provided = {re.split(r"[<>=\[ ]", name)[0].lower() for name in names}
    provided |= {"pil", "vision_results", "tests"}  # pillow's module; this package
    modules = set()
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                modules |= set(re.findall(r"^\s*(?:from|import) (\w+)", cell.source, re.M))
    third_party = {m.lower() for m in modules if m not in sys.stdlib_module_names}
    assert third_party <= provided, sorted(third_party - provided)
