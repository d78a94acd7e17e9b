"""Time sizing on typical days (issue 16: a year at 15 min under 15 s, a 6-point
frontier under 60 s, bill error under 2 %).

The demo planning study (``scenarios/xushuguan-factory-planning.yaml``) at 15 min on
``--days`` typical days plus each month's peak day. Its shiftable load, green contract,
renewable target and carbon price are dropped: typical days do not size sites with rows
that span days yet (:mod:`vpp.planning.typical`). In-process, imports and scenario load
outside the clock, best of ``--repeat``. Printed: the sizing's own time (build and
solve: the 15 s bar), the total with the full-year sized run and the as-is run (wall
and CPU time of all threads), the bill error against the full-year sized run, and with
``--frontier N`` one run with N frontier points: its frontier part (least emissions and
N points) and the whole call (the 60 s bar). ``--record`` writes the figures into
``results.json`` (key ``typical``) and ``results.txt`` (section ``typical``).

Run from the repository root::

    python benchmarks/bench_typical.py [--days N] [--repeat N] [--frontier N] [--compare-full]
                                       [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

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


def one_run(scenario: Any, frontier_points: int = 0) -> dict[str, Any]:
    """Wall clock, CPU time and phases of one :func:`size` call."""
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    result = size(scenario, frontier_points=frontier_points)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = result.summary
    t = s["timings_s"]
    rp = s["representative_periods"]
    out = {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "sizing_s": round(t["build"] + t["solve"], 3),
        "phases_s": t,
        "sizing_solver": {k: s["solver"][k] for k in ("strategy", "iterations", "seconds")},
        "typical_days": rp["typical_days"],
        "bill_error_fraction": rp["bill_error_fraction"],
        "size_error": rp["size_error"],
    }
    if frontier_points:
        out["frontier_s"] = round(wall - t["build"] - t["solve"] - t["runs"], 3)
        out["frontier_strategies"] = sorted(set(result.frontier["strategy"].dropna()))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare-full", action="store_true")
    parser.add_argument("--frontier", type=int, default=0, help="points (target: 6 in < 60 s)")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "typical.yaml"
        path.write_text(
            VARIANT.format(study=STUDY, days=args.days, compare=str(args.compare_full).lower())
        )
        scenario = vpp.load_scenario(path, allow_outside=True)
    runs = [one_run(scenario) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["sizing_s"])
    lines = [
        f"typical days ({args.days} + peak days = {best['typical_days']}, year at 15 min): "
        f"sizing best {best['sizing_s']:.2f} s (runs "
        + ", ".join(str(round(r["sizing_s"], 2)) for r in runs)
        + f"; target < 15 s), {best['wall_s']:.1f} s with the full-year runs "
        f"(CPU {best['cpu_s']:.1f} s); bill error {100 * best['bill_error_fraction']:+.2f} % "
        "(target < 2 %)",
        "  phases [s]: " + ", ".join(f"{k} {v:.2f}" for k, v in best["phases_s"].items()),
        "  sizing solver: " + ", ".join(f"{k} {v}" for k, v in best["sizing_solver"].items()),
    ]
    if best["size_error"]:
        lines.append(f"  size errors against sizing on every step: {best['size_error']}")
    report: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip(),
        "load_average": os.getloadavg()[0],
        "days": args.days,
        "best": best,
        "runs": runs,
    }
    if args.frontier:
        front = one_run(scenario, frontier_points=args.frontier)
        report["frontier"] = {"points": args.frontier, **front}
        lines.append(
            f"  with a {args.frontier}-point frontier: {front['wall_s']:.1f} s in all (target "
            f"< 60 s), of which the frontier {front['frontier_s']:.1f} s "
            f"({', '.join(front['frontier_strategies'])}); CPU {front['cpu_s']:.1f} s"
        )
    lines.append(f"  (load average {report['load_average']:.1f} at the start)")
    print("\n".join(lines))
    if args.record:
        from record import record

        record("typical", report, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
