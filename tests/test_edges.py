"""Edge sites a user builds every day: no load, no emissions (issue 15, item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import vpp.cli
from vpp.report.html_parts import percent

SCENARIO = """name: arbitrage
horizon: {start: 2026-07-15, days: 2, step: 1h}
site:
  name: arb
  load: {series: {file: zero.csv, column: load_kw, timezone: Asia/Shanghai}}
  batteries:
    - {name: bess, energy_kwh: 1000, charge_power_kw: 500, discharge_power_kw: 500}
  grid:
    import_limit_kw: 1000
    export_limit_kw: 1000
    energy_price: {calendar: jiangsu-2025-industrial}
    export_price_cny_per_kwh: 0.391
"""


def test_a_site_without_load_writes_every_output(tmp_path: Path) -> None:
    """A battery alone behind the meter: no load, so no emissions in the baseline and no
    reduction fraction (null); the report is written, not a crash on the fraction."""
    index = pd.date_range("2026-07-15", periods=48, freq="1h")
    frame = pd.DataFrame({"timestamp": index.strftime("%Y-%m-%dT%H:%M:%S"), "load_kw": 0.0})
    frame.to_csv(tmp_path / "zero.csv", index=False)
    (tmp_path / "s.yaml").write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "out"
    argv = ["run", str(tmp_path / "s.yaml"), "--out", str(out), "--allow-outside"]
    assert vpp.cli.main(argv) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["carbon"]["reduction_vs_baseline"]["market_based_fraction"] is None
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "market-based reduction (n/a)" in page
    assert (out / "figures" / "emissions_waterfall.png").stat().st_size > 0


def test_percent_says_what_it_cannot_show() -> None:
    assert percent(0.1234) == "12.3 %"
    assert percent(None) == "n/a"
    assert percent(float("nan")) == "n/a"
    assert percent(True) == "n/a"
