"""Time sizing on typical days (issue 16 item 2: a year at 15 min under 15 s, bill
error under 2 %).

The demo planning study (``scenarios/xushuguan-factory-planning.yaml``) at 15 min on
``--days`` typical days plus each month's peak day. Its shiftable load, green contract,
renewable target and carbon price are dropped: typical days do not size sites with rows
that span days yet (:mod:`vpp.planning.typical`). Printed: the sizing's own time (build
and solve, the target) and the total with the full-year sized run and the as-is run,
and the bill error against the full-year sized run.

Run from the repository root::

    python benchmarks/bench_typical.py [--days N] [--compare-full] [--frontier N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import vpp
from vpp.planning.size import size

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "scenarios" / "xushuguan-factory-planning.yaml"
VARIANT = """extends: {study}
name: demo-typical
horizon: {{start: 2026-01-01, days: 365, step: 15min}}
planning:
  representative_periods: {{days: {days}, compare_full: {compare}}}
overrides:
  site.flexible_loads: []
  site.green_contracts: []
  site.renewable_target: null
  site.carbon_price: null
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=12)
    parser.add_argument("--compare-full", action="store_true")
    parser.add_argument("--frontier", type=int, default=0, help="points (target: 6 in < 60 s)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "typical.yaml"
        path.write_text(
            VARIANT.format(study=STUDY, days=args.days, compare=str(args.compare_full).lower())
        )
        scenario = vpp.load_scenario(path, allow_outside=True)
    t0 = time.perf_counter()
    result = size(scenario, frontier_points=args.frontier)
    total = time.perf_counter() - t0
    s = result.summary
    rp = s["representative_periods"]
    sizing = s["timings_s"]["build"] + s["timings_s"]["solve"]
    print(
        f"typical days ({rp['days']} + {len(rp['extreme_days'])} peak days, year at 15 min): "
        f"sizing {sizing:.1f} s (target < 15 s), {total:.1f} s with the full-year runs; "
        f"bill error {100 * rp['bill_error_fraction']:+.2f} % (target < 2 %)"
    )
    if args.frontier:
        print(f"  with a {args.frontier}-point frontier: {s['timings_s']['total']:.1f} s in all")
    if rp["size_error"]:
        print(f"  size errors against sizing on every step: {rp['size_error']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
