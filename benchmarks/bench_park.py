"""Time a park day-ahead at 15 min: monolithic LP against Dantzig-Wolfe decomposition.

Parks of N sites are made from the demo park's four site files
(``scenarios/park/sites/``), cycled, each copy with its own synthetic-load seed and peak
scaled by 0.8-1.2, on 2026-07-15 at 15 min, with a shared limit of 80 % of the sum of the
sites' import limits and no demand-response event. For each N the whole `run_park` is
timed (inputs, solve, per-site results with bills and baselines) and its solve phase.
Both methods must give the same park cost (relative 1e-6).

Run from the repository root::

    python benchmarks/bench_park.py [--sites 25,50,100,200] [--methods monolithic,decomposed]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from vpp.portfolio.park import Park
from vpp.portfolio.run import run_park
from vpp.scenario.load import load_scenario
from vpp.scenario.park import ParkScenario

ROOT = Path(__file__).resolve().parent.parent
SITES = sorted((ROOT / "scenarios" / "park" / "sites").glob("*.yaml"))


def make_park(n: int, workers: int | None = None) -> Park:
    templates = [load_scenario(p) for p in SITES]
    sites = {}
    limit = 0.0
    for i in range(n):
        base = templates[i % len(templates)]
        scale = 0.8 + 0.4 * ((i * 37) % 11) / 10
        load = base.site.load.synthetic.model_copy(
            update={"seed": 1000 + i, "peak_kw": base.site.load.synthetic.peak_kw * scale}
        )
        site = base.site.model_copy(
            update={"load": base.site.load.model_copy(update={"synthetic": load})}
        )
        name = f"{base.name}-{i:03d}"
        sites[name] = base.model_copy(update={"name": name, "site": site})
        limit += float(site.grid.import_limit_kw)
    spec = ParkScenario.model_validate(
        {
            "name": f"bench-{n}",
            "horizon": {"start": "2026-07-15", "days": 1, "step": "15min"},
            "sites": [{"inline": {"name": "x", "site": {
                "load": {"synthetic": {"peak_kw": 1}},
                "grid": {"energy_price": {"calendar": "jiangsu-2025-industrial"}}}}}],
            "shared_limit_kw": 0.8 * limit,
            "solve": {"workers": workers},
        }
    )  # fmt: skip
    return Park(spec, sites)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", default="25,50,100,200")
    parser.add_argument("--methods", default="monolithic,decomposed")
    parser.add_argument("--workers", type=int, default=None, help="processes reading inputs")
    args = parser.parse_args(argv)
    for n in [int(v) for v in args.sites.split(",")]:
        park = make_park(n, args.workers)
        costs = {}
        for method in args.methods.split(","):
            t0 = time.perf_counter()
            result = run_park(park, method=method)
            total = time.perf_counter() - t0
            costs[method] = result.summary["total_cost_cny"]
            t = result.summary["timings_s"]
            extra = result.summary["solve"]
            its = f"iterations {extra['iterations']}" if "iterations" in extra else ""
            print(f"{n:4d} sites {method:<11} total {total:6.1f} s  inputs {t['inputs']:5.1f}  "
                  f"solve {t['solve']:5.1f}  results {total - t['inputs'] - t['solve']:5.1f}  "
                  f"{its}", flush=True)  # fmt: skip
        if len(costs) == 2:
            a, b = costs.values()
            assert abs(a - b) <= 1e-6 * abs(a), costs
    return 0


if __name__ == "__main__":
    sys.exit(main())
