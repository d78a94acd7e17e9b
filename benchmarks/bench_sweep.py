"""Time a 100-run sweep of the demo site with 1 and with 2 local worker processes.

The sweep (written to a temporary file next to nothing else) varies the demo scenario
(``scenarios/xushuguan-factory.yaml``) over a week at 1 h:

- ``site.batteries[0].energy_kwh``: 500, 1000, 2000, 3000, 4000 kWh;
- the battery's charge and discharge power together: 250, 500, 1000, 1500, 2000 kW;
- ``site.grid.energy_price.calendar``: jiangsu-2025-industrial, jiangsu-2023-industrial;
- ``horizon.start``: 2026-01-05 (winter week), 2026-07-06 (summer week).

5 x 5 x 2 x 2 = 100 runs through :func:`vpp.planning.sweep.run_sweep` (the path of
``vpp sweep``), timed end to end with ``time.perf_counter``: worker start-up (spawn,
imports) included, loading and validating the sweep and writing outputs excluded. The
speed-up is wall(1 worker) / wall(2 workers); the target on 2 cores is close to 2. Both
runs must give the same metrics (checked). The CPU time of the worker processes
(``getrusage(RUSAGE_CHILDREN)``) divided by the wall time tells how many CPUs the sweep
really got: on a shared machine another process can hold one of the two.

Run from the repository root::

    python benchmarks/bench_sweep.py [--workers 1,2] [--days 7] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vpp.planning.sweep import run_sweep
from vpp.planning.sweep_definition import load_sweep

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "scenarios" / "xushuguan-factory.yaml"

SWEEP = """\
scenario: {scenario}
mode: run
parameters:
  site.batteries[0].energy_kwh: [500, 1000, 2000, 3000, 4000]
  site.batteries[0].charge_power_kw, site.batteries[0].discharge_power_kw:
    [250, 500, 1000, 1500, 2000]
  site.grid.energy_price.calendar: [jiangsu-2025-industrial, jiangsu-2023-industrial]
  horizon.start: ["2026-01-05", "2026-07-06"]
  horizon.days: [{days}]
metrics: [total_cost_cny, savings_cny, peak_shaving_max_kw]
"""

#: Relative agreement required between the metrics of the runs with different workers [-].
AGREEMENT_RTOL = 1e-9


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() + (" (uncommitted changes)" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--days", type=int, default=7, help="horizon of each run [days]")
    parser.add_argument("--json", help="write the figures to this JSON file")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench-sweep.yaml"
        path.write_text(SWEEP.format(scenario=DEMO, days=args.days), encoding="utf-8")
        sweep = load_sweep(path)
    print(f"{sweep.runs} runs of {args.days} days at 1 h; cpu_count = {os.cpu_count()}")

    figures: dict[str, dict[str, float]] = {}
    tables = {}
    for n in counts:
        load = os.getloadavg()[0]
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = run_sweep(sweep, workers=n)
        wall = time.perf_counter() - start
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the pool's workers, reaped
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        if result.failed:
            print(result.table.loc[result.table["status"] != "ok", "error"].iloc[0])
            raise SystemExit(f"{result.failed} runs failed with {n} worker(s)")
        busy = float(result.table["seconds"].sum())
        figures[str(n)] = {
            "wall_s": round(wall, 2),
            "runs_busy_s": round(busy, 2),
            "per_run_wall_s": round(wall / sweep.runs, 3),
            "busy_fraction": round(busy / (wall * n), 3),
            "workers_cpu_s": round(cpu, 2),
            "cpus_used": round(cpu / wall, 2),
            "load_avg_1min_before": round(load, 2),
        }
        tables[n] = result.table
        print(
            f"{n} worker(s): wall {wall:6.1f} s, sum of run times {busy:6.1f} s, "
            f"{wall / sweep.runs:.3f} s per run, workers busy {busy / (wall * n):.0%}, "
            f"worker CPU {cpu:.1f} s = {cpu / wall:.2f} CPUs (1-min load before: {load:.2f})",
            flush=True,
        )
    metrics = ["total_cost_cny", "savings_cny", "peak_shaving_max_kw"]
    first = tables[counts[0]][metrics].to_numpy(dtype=float)
    for n in counts[1:]:
        other = tables[n][metrics].to_numpy(dtype=float)
        if not np.allclose(first, other, rtol=AGREEMENT_RTOL, atol=0.0):
            raise SystemExit(f"metrics differ between {counts[0]} and {n} workers")
    if "1" in figures and "2" in figures:
        ratio = figures["1"]["wall_s"] / figures["2"]["wall_s"]
        print(f"speed-up 1 -> 2 workers: {ratio:.2f}x (target: close to 2x)")
        figures["speedup_1_to_2"] = {"ratio": round(ratio, 3)}
    info = {
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "commit": _commit(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "runs": sweep.runs,
        "days": args.days,
        "figures": figures,
    }
    print(json.dumps(info, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
