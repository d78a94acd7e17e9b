"""Fuzz: series files (CSV bytes). Any series runs or exits 2 with a ``vpp:`` message.

Each example takes the small site of ``tests/data/fuzz/series-site.yaml`` (measured load
and a price series, one day at 1 h) and damages one of its CSV files the way real
meters, spreadsheets and exports do: cells ``nan``/``inf``/``n/a``/empty/huge/``1,5``,
timestamps that do not parse or lie outside the horizon, duplicate, missing, swapped or
blank rows, semicolons or tabs as delimiter, a BOM, CRLF, UTF-16 or Latin-1 bytes,
garbage before the header. Then ``vpp run`` in-process, and the property of
:func:`fuzz_harness.check`. The series options (``scale``, ``resample``, ``timezone``,
``timestamp_column``) are fuzzed the same way.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from fuzz_harness import (
    NASTY_VALUES,
    damaged_csv,
    data_files,
    dump_yaml,
    examples,
    run_in_sandbox,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st

FOLDER = Path(__file__).parent / "data" / "fuzz"
FILES = ("series-site.yaml", "load.csv", "price.csv")
ARGV = ["run", "{root}/in/series-site.yaml", "--out", "{root}/work/out"]
OUTS = ["{root}/work/out"]


def test_the_base_series_site_runs() -> None:
    outcome = run_in_sandbox(data_files(FOLDER, FILES), ARGV, OUTS)
    assert outcome.code == 0, outcome.describe()


@settings(max_examples=examples(30), deadline=30_000)
@given(st.sampled_from(("load.csv", "price.csv")), st.data())
def test_damaged_series_file_runs_or_exits_2(name: str, data: st.DataObject) -> None:
    files = data_files(FOLDER, FILES)
    text = (FOLDER / name).read_text(encoding="utf-8")
    files["in/" + name] = data.draw(damaged_csv(text))
    outcome = run_in_sandbox(files, ARGV, OUTS)
    assert outcome.code in (0, 2), outcome.describe()


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf", "n/a", "", "1e999", "abc"])
def test_a_bad_load_cell_is_refused_with_its_row(cell: str) -> None:
    """One bad cell at 10:00: exit 2, and the message names the file, column and time."""
    files = data_files(FOLDER, FILES)
    lines = (FOLDER / "load.csv").read_text(encoding="utf-8").splitlines()
    stamp = lines[11].split(",")[0]
    lines[11] = f"{stamp},{cell}"
    files["in/load.csv"] = "\n".join(lines) + "\n"
    outcome = run_in_sandbox(files, ARGV, OUTS)
    assert outcome.code == 2, outcome.describe()
    assert "load.csv" in outcome.stderr and "load_kw" in outcome.stderr, outcome.describe()


def test_a_semicolon_file_names_the_delimiter() -> None:
    """A semicolon-separated file: the header as read, and the delimiter suggested."""
    files = data_files(FOLDER, FILES)
    files["in/load.csv"] = (FOLDER / "load.csv").read_text(encoding="utf-8").replace(",", ";")
    outcome = run_in_sandbox(files, ARGV, OUTS)
    assert outcome.code == 2, outcome.describe()
    assert "timestamp;load_kw" in outcome.stderr, outcome.describe()
    assert "delimiter" in outcome.stderr or "semicolon" in outcome.stderr, outcome.describe()


SERIES_OPTIONS = {
    "scale": (math.nan, math.inf, -math.inf, -1.0, 0.0, 1e300, "x", None, [1]),
    "resample": ("mean", "hold", "sum", "", None, 1),
    "timezone": ("UTC", "Mars/Olympus", "", "../../etc/localtime", None, 8),
    "timestamp_column": ("load_kw", "nope", "", None, 0),
    "column": ("timestamp", "nope", "", None, 1.5, "load_kw "),
    "file": ("", ".", "..", "/dev/null", "/", "load.csv/x", "missing.csv", "price.csv", None),
}


@settings(max_examples=examples(20), deadline=30_000)
@given(
    st.sampled_from(("load", "price")),
    st.sampled_from(sorted(SERIES_OPTIONS)).flatmap(
        lambda key: st.tuples(st.just(key), st.sampled_from(SERIES_OPTIONS[key] + NASTY_VALUES))
    ),
)
@example("load", ("timezone", "x" * 3000))  # found by the long fuzz: exit 1, value echoed
def test_series_options_run_or_exit_2(which: str, option: tuple) -> None:
    key, value = option
    files = data_files(FOLDER, FILES)
    tree = yaml.safe_load(files["in/series-site.yaml"])
    spec = (
        tree["site"]["load"]["series"]
        if which == "load"
        else tree["site"]["grid"]["energy_price"]["series"]
    )
    spec[key] = value
    files["in/series-site.yaml"] = dump_yaml(tree)
    outcome = run_in_sandbox(files, ARGV, OUTS)
    assert outcome.code in (0, 2), outcome.describe()


@pytest.mark.parametrize("scale", [math.nan, math.inf, 1e300], ids=["nan", "inf", "huge"])
def test_a_non_finite_or_huge_scale_is_refused(scale: float) -> None:
    """``scale: .nan`` gave a Pyomo traceback, ``.inf`` a solver error (exit 4)."""
    files = data_files(FOLDER, FILES)
    tree = yaml.safe_load(files["in/series-site.yaml"])
    tree["site"]["load"]["series"]["scale"] = scale
    files["in/series-site.yaml"] = dump_yaml(tree)
    outcome = run_in_sandbox(files, ARGV, OUTS)
    assert outcome.code == 2, outcome.describe()
    assert "scale" in outcome.stderr, outcome.describe()
