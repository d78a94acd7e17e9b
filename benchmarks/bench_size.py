"""Time `vpp size` on the demo planning study (issue 16's bar: under 30 s end to end).

``scenarios/xushuguan-factory-planning.yaml``: rooftop PV (up to 2,880 kWp), carport PV (up
to 800 kWp) and a battery (up to 20 MWh / 8 MW) sized against a full year of hourly
dispatch with the demo's tariff, green contract, renewable target and carbon price.

In-process (imports and scenario load outside the clock), best of ``--repeat``: the
wall clock and the process's CPU time (all threads) of :func:`vpp.planning.size.size`,
its phases (``timings_s``: ``build`` inputs and the sized model, ``solve`` compile and
HiGHS, ``runs`` the sized site's run and the wait for the site as it is, ``as_is`` that
run's own time in its thread beside the sizing's solve), HiGHS's own seconds per solve
and what is left for vpp (wall minus the sizing's and the sized run's HiGHS time).
``--cli N`` also times ``vpp size`` as a new process (start-up, imports, outputs and
report written: the README's command), best of N. HiGHS's share is the host-independent
figure: this host's speed swings about 2x with other work.

``--frontier N`` also times N frontier points (one run). ``--stall-after N`` makes the
first strategy (interior point) stop after N iterations, as when it stalls, to time the
fallback (:mod:`vpp.model.strategies`). ``--record`` writes the figures into
``results.json`` (key ``size``) and ``results.txt`` (section ``size``).

Run from the repository root::

    python benchmarks/bench_size.py [--repeat N] [--cli N] [--frontier N] [--stall-after N]
                                    [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import vpp
from vpp.model import strategies
from vpp.planning import sizing_model
from vpp.planning.size import size

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "scenarios" / "xushuguan-factory-planning.yaml"


def one_run(scenario: Any, frontier_points: int = 0) -> dict[str, Any]:
    """Wall clock, CPU time, phases and HiGHS seconds of one :func:`size` call."""
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    result = size(scenario, frontier_points=frontier_points)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = result.summary
    highs = {
        "sizing": s["solver"]["seconds"],
        "sized_run": result.dispatch.summary["solver"]["seconds"],
        "as_is": result.as_is.summary["solver"]["seconds"],
    }
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "phases_s": s["timings_s"],
        "highs_s": highs,
        "vpp_s": round(wall - highs["sizing"] - highs["sized_run"], 3),
        "highs_share": round((highs["sizing"] + highs["sized_run"]) / wall, 3),
        "sizes": {
            k: {f: v.get(f) for f in ("capacity_kw", "energy_kwh", "power_kw")}
            for k, v in s["sizes"].items()
        },
        "solver": {k: s["solver"][k] for k in ("strategy", "status", "iterations", "gap")},
    }


def cli_run() -> float:
    """Wall clock of ``vpp size`` as a new process, outputs written [s]."""
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "vpp.cli", "size", str(STUDY), "--out", f"{folder}/out"],
            check=True,
            capture_output=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(Path(vpp.__file__).parent.parent)},
        )
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cli", type=int, default=0, metavar="N")
    parser.add_argument("--frontier", type=int, default=0)
    parser.add_argument("--stall-after", type=int, metavar="N")
    parser.add_argument("--json")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args(argv)
    if args.stall_after is not None:
        first = strategies.INTERIOR_POINT.with_options(ipm_iteration_limit=args.stall_after)
        sizing_model.INTERIOR_FIRST = (first, *strategies.INTERIOR_FIRST[1:])
    scenario = vpp.load_scenario(STUDY)
    runs = [one_run(scenario) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["wall_s"])
    lines = [
        f"vpp size (demo planning, year at 1 h), in-process: best {best['wall_s']:.2f} s "
        f"(runs {', '.join(str(round(r['wall_s'], 1)) for r in runs)}); CPU {best['cpu_s']:.1f} s",
        "  phases [s]: " + ", ".join(f"{k} {v:.2f}" for k, v in best["phases_s"].items()),
        "  HiGHS [s]: "
        + ", ".join(f"{k} {v:.2f}" for k, v in best["highs_s"].items())
        + f" (as-is beside the sizing); HiGHS share of the wall clock {best['highs_share']:.2f}",
        f"  vpp's own (wall - sizing and sized-run HiGHS): {best['vpp_s']:.2f} s",
        "  sizing solver: " + ", ".join(f"{k} {v}" for k, v in best["solver"].items()),
    ]
    report: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip(),
        "load_average": os.getloadavg()[0],
        "best": best,
        "runs": runs,
    }
    if args.cli:
        walls = [round(cli_run(), 3) for _ in range(args.cli)]
        report["cli_wall_s"] = walls
        lines.append(
            f"  vpp size as a new process (README command, outputs written): best "
            f"{min(walls):.2f} s (runs {', '.join(str(round(w, 1)) for w in walls)}); target < 30 s"
        )
    if args.frontier:
        front = one_run(scenario, frontier_points=args.frontier)
        report["frontier"] = {"points": args.frontier, **front}
        lines.append(f"  with a {args.frontier}-point frontier: {front['wall_s']:.1f} s")
    lines.append(f"  (load average {report['load_average']:.1f} at the start)")
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    if args.record:
        from record import record

        record("size", report, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
