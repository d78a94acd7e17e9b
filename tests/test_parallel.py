"""vpp.parallel: local processes and a local Dask cluster give the same outcomes."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest

from vpp.parallel import Outcome, progress_bar, run_many

ITEMS = list(range(7))
#: The item whose call raises.
BAD = 3


class Refused(Exception):
    """A toy error with an exit code, as vpp's errors have."""

    exit_code = 3


def square(x: int) -> int:
    """The toy run: top level, so that worker processes can import it."""
    if x == BAD:
        raise Refused(f"item {x} is refused")
    return x * x


def _check(outcomes: list[Outcome]) -> None:
    assert [o.index for o in outcomes] == list(range(len(ITEMS)))
    assert [o.item for o in outcomes] == ITEMS
    for o in outcomes:
        assert o.seconds >= 0.0
        if o.item == BAD:
            assert not o.ok
            assert o.value is None
            assert o.error == f"Refused: item {BAD} is refused"
            assert o.exit_code == 3
        else:
            assert o.ok, o.error
            assert o.value == o.item**2
            assert o.exit_code is None


def _key(outcomes: list[Outcome]) -> list[tuple]:
    return [(o.index, o.item, o.value, o.error, o.exit_code) for o in outcomes]


@pytest.fixture(scope="module")
def local_outcomes() -> list[Outcome]:
    return run_many(square, ITEMS, workers=2)


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster


def test_local_processes_in_order_with_one_failure(local_outcomes):
    _check(local_outcomes)


def test_progress_is_called_after_each_completion():
    calls = []
    run_many(square, [0, 1, 2], workers=2, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_dask_cluster_same_outcomes_as_local(dask_cluster, local_outcomes):
    calls = []
    outcomes = run_many(
        square,
        ITEMS,
        scheduler=dask_cluster.scheduler_address,
        progress=lambda d, t: calls.append(d),
    )
    _check(outcomes)
    assert _key(outcomes) == _key(local_outcomes)
    assert calls == list(range(1, len(ITEMS) + 1))


def test_empty_and_bad_workers():
    assert run_many(square, [], workers=2) == []
    with pytest.raises(ValueError, match="workers"):
        run_many(square, ITEMS, workers=0)


def test_progress_bar_text():
    out = io.StringIO()  # not a terminal: one line per tenth, and the last
    show = progress_bar(out, width=10)
    for done in range(1, 21):
        show(done, 20)
    lines = out.getvalue().splitlines()
    assert len(lines) == 11  # at 0/10 (the first), 1/10, ..., 10/10
    assert lines[-1].startswith("[##########] 20/20 runs")
    assert "left" in lines[0]


def test_parallel_imports_nothing_of_vpp():
    """DESIGN.md: vpp/parallel.py imports nothing of vpp."""
    import vpp.parallel

    tree = ast.parse(Path(vpp.parallel.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not any(a.name.split(".")[0] == "vpp" for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] != "vpp"
