"""A binary variable's schedule column holds exactly 0 or 1 (session 8).

A MIP answer holds binaries to HiGHS's integrality tolerance: on the reviewer's kiln case
over two days the deferrable loads' ``on``/``start`` columns came out as
``2.549846891675877e-14`` and ``0.9999999999999745`` (and, in text rounded for reading,
``-0.0``). :func:`vpp.model.results.extract` rounds binaries, so the CSV text is ``0`` or
``1``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from helpers import write_scenario
from test_deferrable import kiln_site

import vpp.cli

#: How close the power of a load is to its on flag times its bounds [kW] (unchanged by
#: the rounding: only the flags are rounded).
POWER_TOL_KW = 1e-6


def test_deferrable_flags_are_written_as_exact_zeros_and_ones(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, kiln_site(2, {}))
    out = tmp_path / "out"
    assert vpp.cli.main(["-q", "run", str(path), "--out", str(out)]) == 0
    with open(out / "schedule.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    flags = [c for c in rows[0] if c.endswith(("_on", "_start"))]
    assert sorted(flags) == ["kiln_on", "kiln_start", "press_on", "press_start"]
    texts = {row[c] for row in rows for c in flags}
    assert texts == {"0", "1"}, sorted(texts)
    for row in rows:  # the press draws its power exactly when it is on
        on, power = float(row["press_on"]), float(row["press_power_kw"])
        assert abs(power - 250.0 * on) <= POWER_TOL_KW, row
