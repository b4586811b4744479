"""Run notebooks top to bottom and store their outputs (the committed notebooks are
run this way, and ``tests/test_notebooks.py`` runs them again in CI)::

    python notebooks/execute.py                  # every notebook in this folder, in place
    python notebooks/execute.py explore-a-batch.ipynb

The kernel is this interpreter: a ``python3`` kernelspec naming
``sys.executable`` is written to a temporary folder put first on
``JUPYTER_PATH``, so a ``python3`` kernel of another Python installed for the
user cannot be picked instead. Each notebook runs in a temporary working folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from ipykernel.kernelspec import write_kernel_spec
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
CELL_TIMEOUT = 300  # seconds


def execute(notebook: nbformat.NotebookNode, workdir: Path) -> None:
    """Run ``notebook`` (outputs are replaced) with this interpreter as its kernel.

    Raises nbclient's CellExecutionError, with the cell and traceback, on an error.
    """
    with tempfile.TemporaryDirectory() as jupyter:
        write_kernel_spec(Path(jupyter) / "kernels" / "python3")  # argv[0]: sys.executable
        before = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [jupyter, before]))
        try:
            NotebookClient(
                notebook,
                kernel_name="python3",
                timeout=CELL_TIMEOUT,
                startup_timeout=120,
                resources={"metadata": {"path": str(workdir)}},  # the kernel's cwd
            ).execute()
        finally:
            if before is None:
                del os.environ["JUPYTER_PATH"]
            else:
                os.environ["JUPYTER_PATH"] = before


def main(names: list[str]) -> None:
    paths = [HERE / name for name in names] or sorted(HERE.glob("*.ipynb"))
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory() as workdir:
            execute(notebook, Path(workdir))
        nbformat.write(notebook, path)
        print(f"ran {path.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
