"""Fuzz: sweep files. Any sweep file runs or exits 2 with a ``vpp:`` message.

Each example mutates ``tests/data/fuzz/sweep.yaml`` (two runs of the small site) and
runs ``vpp sweep --workers 1`` in-process (the runs themselves go to one spawned worker).
Values set by a sweep are validated before anything runs, so a bad value exits 2; exit 1
is what the sweep documents for runs that failed (infeasible, solver), and then it must
say so. The property of :func:`fuzz_harness.check` holds otherwise.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from fuzz_harness import NASTY_VALUES, data_files, dump_yaml, examples, mutated, run_in_sandbox
from hypothesis import given, settings
from hypothesis import strategies as st

FOLDER = Path(__file__).parent / "data" / "fuzz"
ARGV = ["sweep", "{root}/in/sweep.yaml", "--workers", "1", "--out", "{root}/work/out"]
OUTS = ["{root}/work/out"]


def sweep_files(tree: dict | None = None) -> dict[str, bytes | str]:
    files: dict[str, bytes | str] = dict(data_files(FOLDER, ("sweep.yaml", "small-site.yaml")))
    if tree is not None:
        files["in/sweep.yaml"] = dump_yaml(tree)
    return files


def run_sweep(files: dict) -> None:
    outcome = run_in_sandbox(files, ARGV, OUTS, allowed=(0, 1, 2, 3, 4))
    if outcome.code == 1:
        assert "runs failed" in outcome.stderr, outcome.describe()
    return outcome


@settings(max_examples=examples(6), deadline=120_000)
@given(st.data())
def test_mutated_sweep_runs_or_exits_with_a_message(data: st.DataObject) -> None:
    tree = yaml.safe_load((FOLDER / "sweep.yaml").read_text(encoding="utf-8"))
    run_sweep(sweep_files(data.draw(mutated(tree))))


@settings(max_examples=examples(10), deadline=120_000)
@given(
    st.sampled_from(
        (
            "site.batteries[0].energy_kwh",
            "site.grid.export_price_cny_per_kwh",
            "horizon.days",
            "site.load.synthetic.peak_kw",
            "site.batteries[5].energy_kwh",
            "site..grid",
            "",
            "site.batteries[-1].energy_kwh",
            "site.batteries[99999999999999999999].energy_kwh",
        )
    ),
    st.lists(st.sampled_from(NASTY_VALUES), min_size=1, max_size=3),
)
def test_swept_values_are_validated_before_running(key: str, values: list) -> None:
    tree = yaml.safe_load((FOLDER / "sweep.yaml").read_text(encoding="utf-8"))
    tree["parameters"] = {key: values}
    outcome = run_sweep(sweep_files(tree))
    assert outcome.code != 1, outcome.describe()


@pytest.mark.parametrize("value", [math.nan, math.inf], ids=["nan", "inf"])
def test_a_non_finite_swept_value_is_refused(value: float) -> None:
    tree = yaml.safe_load((FOLDER / "sweep.yaml").read_text(encoding="utf-8"))
    tree["parameters"] = {"site.grid.export_price_cny_per_kwh": [value]}
    outcome = run_sweep(sweep_files(tree))
    assert outcome.code == 2, outcome.describe()
