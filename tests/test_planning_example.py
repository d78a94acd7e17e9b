"""The README's planning example, over its full year, as a new user runs it.

``vpp size scenarios/xushuguan-factory-planning.yaml`` must solve: it once ended with
HiGHS status ``Unknown`` (exit 4) when the interior point stalled on the badly scaled
year. The model is now scaled (HiGHS gives no scaling warning), and a stalled strategy
falls back to the next (:mod:`vpp.model.strategies`). About 20-40 s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import vpp.cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "xushuguan-factory-planning.yaml"
#: The sized dispatch's bill vs the operating part of the sizing objective [-]
#: (vpp.planning.size.SIZE_CHECK_RTOL; the run raises beyond it).
SELF_CHECK_RTOL = 1e-6


@pytest.mark.slow
def test_the_readme_planning_example_solves_over_its_full_year(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "sizing"
    code = vpp.cli.main(["size", str(EXAMPLE), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["horizon_years"] == pytest.approx(1.0)
    solver = summary["solver"]
    assert solver["status"] == "Optimal"
    assert solver["strategy"] in ("interior point", "interior point with crossover", "dual simplex")
    assert solver["warnings"] == []  # no scaling warning from HiGHS
    assert solver["attempts"][-1]["strategy"] == solver["strategy"]
    check = summary["check"]
    tol = SELF_CHECK_RTOL * max(1.0, abs(check["sized_bill_cny"]))
    assert abs(check["gap_cny"]) <= tol
    assert "HiGHS interior point:" in err or solver["seconds"] < 5.0  # progress while solving
