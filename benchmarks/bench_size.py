"""Time `vpp size` on the demo planning study (issue 6's speed target: under 30 s).

``scenarios/xushuguan-factory-planning.yaml``: rooftop PV (up to 2,880 kWp), carport PV (up
to 800 kWp) and a battery (up to 8 MWh / 4 MW) sized against a full year of hourly
dispatch with the demo's tariff, green contract, renewable target and carbon price.
Timed in-process (imports and scenario load outside the clock), best of ``--repeat``;
the phases come from the best run's summary: ``build`` (inputs and the sized model),
``solve`` (compile and HiGHS), ``runs`` (the sized site and the site as it is, each a
full perfect-foresight run with baselines). ``--frontier N`` also times N frontier points
(one run). ``--stall-after N`` makes the first strategy (interior point) stop after N
iterations, as when it stalls, to time the fallback (:mod:`vpp.model.strategies`).

Run from the repository root::

    python benchmarks/bench_size.py [--repeat N] [--frontier N] [--stall-after N] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

import vpp
from vpp.model import strategies
from vpp.planning import sizing_model
from vpp.planning.size import size

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "scenarios" / "xushuguan-factory-planning.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--frontier", type=int, default=0)
    parser.add_argument("--stall-after", type=int, metavar="N")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if args.stall_after is not None:
        first = strategies.INTERIOR_POINT.with_options(ipm_iteration_limit=args.stall_after)
        sizing_model.INTERIOR_FIRST = (first, *strategies.INTERIOR_FIRST[1:])
    scenario = vpp.load_scenario(STUDY)
    best, summary = float("inf"), {}
    for _ in range(args.repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = size(scenario)
        elapsed = time.perf_counter() - t0
        if elapsed < best:
            best, summary = elapsed, result.summary
    sizes = ", ".join(
        f"{k} {v.get('capacity_kw', v.get('energy_kwh')):,.0f}" for k, v in summary["sizes"].items()
    )
    print(f"vpp size (demo planning, year at 1 h): {best:.2f} s (target < 30 s); sizes {sizes}")
    print("  phases [s]: " + ", ".join(f"{k} {v:.2f}" for k, v in summary["timings_s"].items()))
    tried = [
        f"{a['strategy']} {a['status']} {a['seconds']:.1f} s ({a['iterations']} it.)"
        for a in summary["solver"]["attempts"]
    ]
    print("  HiGHS: " + "; ".join(tried))
    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip(),  # fmt: skip
        "size_s": round(best, 3),
        "phases_s": summary["timings_s"],
        "sizes": summary["sizes"],
        "solver": summary["solver"],
    }
    if args.frontier:
        t0 = time.perf_counter()
        size(scenario, frontier_points=args.frontier)
        report["size_with_frontier_s"] = round(time.perf_counter() - t0, 3)
        print(f"  with a {args.frontier}-point frontier: {report['size_with_frontier_s']:.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
