"""Every notebook in ``notebooks/`` runs from top to bottom without an error.

Each notebook is executed with nbclient in a ``python3`` kernel of this interpreter, with
the notebook's folder as working directory (notebooks read ``../scenarios/``). A cell
that raises fails the test with the cell and its traceback. Notebooks are stored
without outputs, so that the repository stays small and the outputs come from here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: Longest a single cell may run [s].
CELL_TIMEOUT_S = 300
KERNEL = "python3"


@pytest.fixture(autouse=True)
def _this_interpreter_kernel(tmp_path_factory, monkeypatch):
    """Make the ``python3`` kernel this interpreter, whatever kernels the machine has."""
    jupyter = tmp_path_factory.mktemp("jupyter")
    spec = jupyter / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)


def execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    """Run every cell of ``nb`` in a fresh kernel with ``cwd`` as working directory.

    Raises
    ------
    CellExecutionError
        A cell raised (the message holds the cell's source and traceback).
    """
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name=KERNEL, resources={"metadata": {"path": str(cwd)}}
    )
    return client.execute()


def _outputs(nb: nbformat.NotebookNode, output_type: str | None = None) -> list:
    return [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if output_type is None or out.get("output_type") == output_type
    ]


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path):
    nb = execute(nbformat.read(path, as_version=4), path.parent)
    if any("plt." in cell.source for cell in nb.cells if cell.cell_type == "code"):
        # figures must show inline (a library switching the backend to Agg hides them)
        images = [out for out in _outputs(nb) if "image/png" in out.get("data", {})]
        assert images, f"{path.name} draws figures but shows none"


def test_runner_reports_a_failing_cell(tmp_path):
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"),
            nbformat.v4.new_code_cell("raise ValueError('broken cell')"),
            nbformat.v4.new_code_cell("print('not reached')"),
        ]
    )
    with pytest.raises(CellExecutionError, match="broken cell") as info:
        execute(nb, tmp_path)
    assert "ValueError" in str(info.value)
    # the kernel is this interpreter, and execution stopped at the failing cell
    assert _outputs(nb, "stream")[0]["text"].strip() == sys.executable
    assert not nb.cells[2].outputs
