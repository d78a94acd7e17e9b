"""Time the new model terms of issue 15 against today's path: a year at 15 min.

Two variants of the demo's dispatch core (``scenarios/xushuguan-factory.yaml`` without
its yearly commercial and carbon terms, as in ``bench_dispatch.py``), 365 days at
15 min from 2026-01-01:

- ``today``: the demo core as shipped (monthly basic charge, scalar import and export
  limits);
- ``terms``: the same, plus a demand charge on the import inside the TOU ``peak``
  periods of each month (``demand_charges``), and import and export limits given as
  15-minute series (``import_limit_kw``/``export_limit_kw`` from a CSV file: the
  scalar limits lowered to 90 % on weekday afternoons, so the series bind somewhere).

Each repeat times :func:`vpp.sim.run.run` end to end in this process (inputs, build,
compile, HiGHS, extraction, bill, baselines and KPIs), the two variants interleaved so
that a busy machine slows both alike. The figure the issue asks for is the ratio of the
best ``terms`` time to the best ``today`` time (target: at most 1.1).

Run from the repository root::

    python benchmarks/bench_terms.py [--repeat N] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from vpp.scenario import Scenario, validate_scenario
from vpp.sim.run import run as vpp_run

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "xushuguan-factory.yaml"
#: The demo's yearly commercial and carbon terms, left out as in ``bench_dispatch.py``.
YEARLY_TERMS = ("green_contracts", "renewable_target", "emissions", "carbon_price")
HORIZON = {"start": dt.date(2026, 1, 1), "days": 365, "step": "15min"}
#: Largest ratio of the ``terms`` path to today's path allowed by issue 15 [-].
TARGET_RATIO = 1.1
#: Share of the scalar limit the series keep on weekday afternoons [-].
AFTERNOON_SHARE = 0.9


def core_data() -> dict[str, Any]:
    """The demo scenario as a dict at 15 min for a year, without the yearly terms."""
    data = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    for key in YEARLY_TERMS:
        data["site"].pop(key, None)
    data["horizon"] = dict(HORIZON)
    return data


def limit_file(folder: Path, import_kw: float, export_kw: float) -> Path:
    """A CSV of 15-minute import and export limits over the horizon [kW]."""
    index = pd.date_range("2026-01-01", periods=365 * 96, freq="15min", tz="Asia/Shanghai")
    afternoon = (index.hour >= 13) & (index.hour < 17) & (index.day_of_week < 5)
    share = np.where(afternoon, AFTERNOON_SHARE, 1.0)
    frame = pd.DataFrame(
        {"import_kw": import_kw * share, "export_kw": export_kw * share}, index=index
    )
    path = folder / "limits.csv"
    frame.to_csv(path, index_label="timestamp")
    return path


def scenarios(folder: Path) -> dict[str, Scenario]:
    """The two variants, validated."""
    base = core_data()
    grid = base["site"]["grid"]
    path = limit_file(folder, float(grid["import_limit_kw"]), float(grid["export_limit_kw"]))
    terms = yaml.safe_load(yaml.safe_dump(base))
    terms["name"] = f"{base['name']}-terms"
    terms["site"]["grid"]["import_limit_kw"] = {"file": str(path), "column": "import_kw"}
    terms["site"]["grid"]["export_limit_kw"] = {"file": str(path), "column": "export_kw"}
    terms["site"]["demand_charges"] = [
        {
            "name": "peak_window",
            "rate_cny_per_kw": 20.0,
            "on": "import",
            "per": "month",
            "periods": ["peak"],
        }
    ]
    base["name"] = f"{base['name']}-today"
    kw = {"base_dir": SCENARIO.parent.resolve(), "file": str(SCENARIO)}
    return {"today": validate_scenario(base, **kw), "terms": validate_scenario(terms, **kw)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {"today": [], "terms": []}
    objectives: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cases = scenarios(Path(tmp))
        for k in range(args.repeat):
            for name, scenario in cases.items():
                gc.collect()
                t0 = time.perf_counter()
                result = vpp_run(scenario)
                times[name].append(time.perf_counter() - t0)
                objectives[name] = float(result.summary["total_cost_cny"])
                print(f"repeat {k + 1}: {name:5s} {times[name][-1]:6.1f} s", flush=True)
    best = {name: min(values) for name, values in times.items()}
    ratio = best["terms"] / best["today"]
    print(f"best: today {best['today']:.1f} s, terms {best['terms']:.1f} s")
    print(f"ratio terms / today: {ratio:.3f} (target <= {TARGET_RATIO})")
    print(f"total cost: today {objectives['today']:,.0f}, terms {objectives['terms']:,.0f} CNY")
    if args.json is not None:
        record = {
            "times_s": times,
            "best_s": best,
            "ratio": ratio,
            "target": TARGET_RATIO,
            "total_cost_cny": objectives,
            "date": dt.date.today().isoformat(),
        }
        args.json.write_text(json.dumps(record, indent=2), encoding="utf-8")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
