"""Time the daily job (`vpp schedule`) of the demo park and of a generated 200-site park.

Cases (issue 14, "Speed"):

``demo``
    The demo park (``scenarios/park/xushuguan-park.yaml``, 4 sites) with the shipped
    forecasts, telemetry and notices, date 2026-07-16 (``now`` defaults to 15:00 the day
    before): the job in-process (imports outside the clock; the first run of the process
    and the best of ``--repeat``), the whole command as a new process (``vpp schedule``,
    Python start-up and imports included), and the intraday re-plan at
    2026-07-15T16:00 after the day-ahead run, in-process.
``park<N>``
    A park of N sites generated into a temporary folder (:func:`make_park_folder`): the
    demo's four site files cloned in turn, each clone with its own name, load seed and a
    size scale of 0.8-1.2 (load peak, PV, battery, import and export limits), its
    telemetry files the template's scaled the same way, the shared limit and the
    notice's requested power scaled by the sum of the scales. Timed in-process.

Every in-process run is broken into phases by wrapping the job's functions where they
are called (nested phases are indented; a phase counts every call). The yardstick is a
fixed pure-Python loop timed in the same process: figures divided by it ("floor
units") move less with the shared host's speed than seconds do.

Run from the repository root::

    python benchmarks/bench_job.py [--cases demo,park200] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
PARK = ROOT / "scenarios" / "park" / "xushuguan-park.yaml"
SITES = ROOT / "scenarios" / "park" / "sites"
FORECASTS = ROOT / "forecasts"
DATE = "2026-07-16"
INTRADAY_NOW = "2026-07-15T16:00"

#: (module, attribute, label, depth): the phases, wrapped where the job calls them.
PHASES = [
    ("vpp.jobs.day", "read_sites", "read sites (telemetry, forecasts, inputs, states)", 0),
    ("vpp.jobs.day", "read_telemetry", "telemetry files", 1),
    ("vpp.jobs.inputs", "read_forecasts", "weather-forecast files", 1),
    ("vpp.inputs.site", "build_inputs", "site inputs (build_inputs, pvlib)", 1),
    ("vpp.jobs.inputs", "load_forecast", "load forecasts", 1),
    ("vpp.jobs.inputs", "pv_forecast", "PV forecasts", 1),
    ("vpp.jobs.day", "site_states", "states at now", 1),
    ("vpp.jobs.day", "window_inputs", "window block inputs", 0),
    ("vpp.jobs.day", "plan_park_window", "plan the window (all cases)", 0),
    ("vpp.operation.park_window", "event_inputs", "event baselines", 1),
    ("vpp.portfolio.run", "metered_history_kw", "site histories", 2),
    ("vpp.portfolio.run", "build_park_model", "park model build", 1),
    ("vpp.portfolio.run", "solve", "compile + HiGHS", 1),
    ("vpp.model.solve", "compile_lp", "compile (Pyomo standard form, passModel)", 2),
    ("vpp.portfolio.decompose", "solve_decomposed", "decomposed solve", 1),
    ("vpp.jobs.day", "window_schedules", "window schedules", 0),
    ("vpp.jobs.day", "carried_state", "carried state", 0),
    ("vpp.jobs.outputs.DayOutputs", "write", "write outputs", 0),
    ("vpp.report.job_html", "job_report_html", "report.html", 1),
]


def yardstick_s(repeat: int = 5) -> float:
    """Best time of a fixed pure-Python loop [s] (the floor unit)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i % 7
        best = min(best, time.perf_counter() - t0)
    return best


def _resolve(path: str) -> tuple[Any, str]:
    module, _, attr = path.rpartition(".")
    try:
        return importlib.import_module(path), ""
    except ImportError:
        owner = importlib.import_module(module)
        return getattr(owner, attr), attr


@contextlib.contextmanager
def phases() -> Iterator[dict[str, list[float]]]:
    """Wrap every phase's function; yields {label: [seconds, calls]}."""
    found: dict[str, list[float]] = {}
    undo: list[tuple[Any, str, Any]] = []
    for module, attr, label, _depth in PHASES:
        owner, _ = _resolve(module)
        original = getattr(owner, attr, None)
        if original is None:
            continue
        found[label] = [0.0, 0]

        def wrapped(*a: Any, __f: Callable = original, __l: str = label, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                value = __f(*a, **k)
                if __l == "decomposed solve":  # (per_site, offers, info)
                    found.setdefault("iterations", []).append(value[2].get("iterations"))
                return value
            finally:
                found[__l][0] += time.perf_counter() - t0
                found[__l][1] += 1

        setattr(owner, attr, wrapped)
        undo.append((owner, attr, original))
    try:
        yield found
    finally:
        for owner, attr, original in reversed(undo):
            setattr(owner, attr, original)


def print_phases(found: dict[str, list[float]], total: float, unit: float) -> None:
    depth = {label: d for _m, _a, label, d in PHASES}
    if "iterations" in found:
        print(f"    decomposition iterations per case: {found['iterations']}")
    for label, entry in found.items():
        if label == "iterations":
            continue
        seconds, calls = entry
        if calls:
            name = "  " * depth[label] + label
            print(
                f"    {name:<52} {seconds:7.3f} s {seconds / unit:7.1f} u  "
                f"{100 * seconds / total:5.1f} %  ({calls} call(s))"
            )


def timed_job(label: str, unit: float, **kwargs: Any) -> tuple[float, Any, dict]:
    """One in-process job run with its phases; prints and returns (seconds, outcome, phases)."""
    from vpp.jobs.schedule import run_schedule

    gc.collect()
    with phases() as found:
        t0 = time.perf_counter()
        outcome = run_schedule(**kwargs)
        seconds = time.perf_counter() - t0
    print(
        f"  {label:<58} {seconds:7.3f} s {seconds / unit:7.1f} u  status {outcome.status}",
        flush=True,
    )
    return seconds, outcome, found


def demo_case(repeat: int, unit: float, out: Path, report: dict) -> None:
    common = dict(
        park_path=str(PARK),
        forecasts_dir=str(FORECASTS),
        telemetry_dir=str(FORECASTS / "telemetry"),
        notices_dir=str(FORECASTS / "notices"),
    )
    print("demo park (4 sites), in-process:")
    runs, intraday, shown = [], [], None
    for k in range(repeat):
        folder = out / f"demo-{k}"
        shutil.rmtree(folder, ignore_errors=True)
        s, o, found = timed_job(
            "day-ahead" + (" (first run of the process)" if k == 0 else ""),
            unit,
            date=DATE,
            out_dir=str(folder),
            **common,
        )
        assert o.status == "ok", o.summary.get("failure")
        runs.append(s)
        if k == repeat - 1:
            print_phases(found, s, unit)
        s, o, found = timed_job(
            f"intraday at {INTRADAY_NOW}",
            unit,
            date=INTRADAY_NOW[:10],
            out_dir=str(folder),
            now=INTRADAY_NOW,
            intraday=True,
            **common,
        )
        assert o.status == "ok", o.summary.get("failure")
        intraday.append(s)
        shown = (found, s)
    print("  intraday phases (last run):")
    print_phases(*shown, unit)
    vpp = shutil.which("vpp") or ""
    cmd = [vpp] if vpp else [sys.executable, "-m", "vpp.cli"]
    cli, cli_intraday = [], []
    for k in range(repeat):
        folder = out / f"cli-{k}"
        shutil.rmtree(folder, ignore_errors=True)
        argv = [*cmd, "schedule", str(PARK), "--date", DATE, "--telemetry"]
        argv += [common["telemetry_dir"], "--notices", common["notices_dir"]]
        argv += ["--forecasts", common["forecasts_dir"], "--out", str(folder)]
        t0 = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        cli.append(time.perf_counter() - t0)
        assert done.returncode == 0, done.stderr[-2000:]
        at = argv.index("--date")
        argv[at : at + 2] = ["--date", INTRADAY_NOW[:10], "--now", INTRADAY_NOW, "--intraday"]
        t0 = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        cli_intraday.append(time.perf_counter() - t0)
        assert done.returncode == 0, done.stderr[-2000:]
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import vpp.cli"], check=True)
    start = time.perf_counter() - t0
    print(
        f"  CLI `vpp schedule` (new process), best of {repeat}: {min(cli):.3f} s "
        f"({min(cli) / unit:.1f} u); runs {', '.join(f'{v:.2f}' for v in cli)}; "
        f"`python -c 'import vpp.cli'` {start:.3f} s"
    )
    print(
        f"  CLI `vpp schedule --intraday` (new process), best of {repeat}: "
        f"{min(cli_intraday):.3f} s ({min(cli_intraday) / unit:.1f} u)"
    )
    report["demo"] = {
        "day_ahead_first_s": runs[0],
        "day_ahead_best_s": min(runs),
        "day_ahead_runs_s": runs,
        "intraday_best_s": min(intraday),
        "intraday_runs_s": intraday,
        "cli_best_s": min(cli),
        "cli_runs_s": cli,
        "cli_intraday_runs_s": cli_intraday,
        "python_import_cli_s": start,
    }


def _scaled_site(template: dict, name: str, seed: int, scale: float) -> dict:
    data = json.loads(json.dumps(template, default=str))
    data["name"] = name
    site = data["site"]
    site["name"] = name
    synth = site["load"]["synthetic"]
    synth.update(seed=seed, peak_kw=round(synth["peak_kw"] * scale, 1))
    for pv in site.get("pv", []):
        pv["dc_capacity_kw"] = round(pv["dc_capacity_kw"] * scale, 1)
    for b in site.get("batteries", []):
        for key in ("energy_kwh", "charge_power_kw", "discharge_power_kw"):
            b[key] = round(b[key] * scale, 1)
    for f in site.get("flexible_loads", []):
        for key in ("energy_kwh", "max_power_kw", "power_kw"):
            if key in f:
                f[key] = round(f[key] * scale, 1)
    grid = site["grid"]
    for key in ("import_limit_kw", "export_limit_kw"):
        if isinstance(grid.get(key), (int, float)):
            grid[key] = round(grid[key] * scale, 1)
    return data


def make_park_folder(n: int, folder: Path) -> tuple[Path, Path, Path]:
    """Write a park of ``n`` sites into ``folder`` (module docstring).

    Returns the park file, the telemetry folder and the notices folder.
    """
    park_data = yaml.safe_load(PARK.read_text(encoding="utf-8"))
    templates = {}
    for ref in park_data["sites"]:
        path = PARK.parent / ref["file"]
        templates[path.stem] = yaml.safe_load(path.read_text(encoding="utf-8"))
    (folder / "park" / "sites").mkdir(parents=True)
    shutil.copy(SITES / "truck-sessions.csv", folder / "park" / "sites" / "truck-sessions.csv")
    telemetry = folder / "telemetry"
    telemetry.mkdir()
    notices = folder / "notices"
    notices.mkdir()
    source = FORECASTS / "telemetry"
    soc = pd.read_csv(source / "soc.csv", dtype={"soc_kwh": float})
    soc_rows = []
    kinds = ("load", "pv", "grid")
    frames = {
        (k, t): pd.read_csv(source / f"{k}-{t}.csv", dtype=str) for k in kinds for t in templates
    }
    refs, total_scale = [], 0.0
    names = list(templates)
    for i in range(n):
        base = names[i % len(names)]
        scale = 0.8 + 0.4 * ((i * 37) % 11) / 10
        total_scale += scale
        name = f"{base}-{i:03d}"
        data = _scaled_site(templates[base], name, 1000 + i, scale)
        path = folder / "park" / "sites" / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        refs.append({"file": f"sites/{name}.yaml"})
        for kind in kinds:
            frame = frames[(kind, base)].copy()
            for col in frame.columns[1:]:
                frame[col] = (frame[col].astype(float) * scale).round(2)
            frame.to_csv(telemetry / f"{kind}-{name}.csv", index=False)
        rows = soc[soc["site"] == base].copy()
        rows["site"] = name
        rows["soc_kwh"] = (rows["soc_kwh"] * scale).round(1)
        soc_rows.append(rows)
    pd.concat(soc_rows).to_csv(telemetry / "soc.csv", index=False)
    factor = total_scale / len(names)
    park_data["name"] = f"bench-park-{n}"
    park_data["sites"] = refs
    park_data["shared_limit_kw"] = round(park_data["shared_limit_kw"] * factor, 1)
    for event in park_data.get("demand_response", []):
        event["requested_kw"] = round(event["requested_kw"] * factor, 1)
    park_file = folder / "park" / f"bench-park-{n}.yaml"
    park_file.write_text(yaml.safe_dump(park_data, sort_keys=False, default_flow_style=None))
    for notice in (FORECASTS / "notices").glob("*.yaml"):
        events = yaml.safe_load(notice.read_text(encoding="utf-8"))
        for event in events:
            event["requested_kw"] = round(event["requested_kw"] * factor, 1)
        (notices / notice.name).write_text(yaml.safe_dump(events, sort_keys=False))
    return park_file, telemetry, notices


def park_case(n: int, unit: float, out: Path, report: dict, method: str | None) -> None:
    folder = out / f"park{n}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    park_file, telemetry, notices = make_park_folder(n, folder)
    print(f"park of {n} sites (generated in {time.perf_counter() - t0:.1f} s), in-process:")
    if method:
        data = yaml.safe_load(park_file.read_text(encoding="utf-8"))
        data["solve"] = {**data.get("solve", {}), "method": method}
        park_file.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=None))
    s, o, found = timed_job(
        f"day-ahead ({method or 'park file method'})",
        unit,
        park_path=str(park_file),
        date=DATE,
        out_dir=str(folder / "out"),
        forecasts_dir=str(FORECASTS),
        telemetry_dir=str(telemetry),
        notices_dir=str(notices),
    )
    print_phases(found, s, unit)
    if o.status != "ok":
        print(f"    failure: {o.summary.get('failure')}")
    page = o.out_dir / "report.html"
    size = page.stat().st_size if page.is_file() else 0
    print(f"    report.html {size / 1e6:.2f} MB; {len(o.summary.get('flags', []))} flag(s)")
    report[f"park{n}"] = {
        "seconds": s,
        "status": o.status,
        "method": method,
        "objective_cny": o.summary.get("window", {}).get("objective_cny"),
        "report_html_bytes": size,
        "phases_s": {k: v[0] for k, v in found.items() if k != "iterations" and v[1]},
        "iterations": found.get("iterations"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="demo,park200")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--method", default=None, help="monolithic or decomposed (parks)")
    parser.add_argument("--keep", default=None, help="folder for the outputs (kept)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    import vpp.cli
    import vpp.jobs.schedule
    import vpp.portfolio.decompose
    import vpp.report.job_html  # noqa: F401

    out = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-job-"))
    out.mkdir(parents=True, exist_ok=True)
    unit = yardstick_s()
    print(f"yardstick (1e6-step pure-Python loop): {unit:.4f} s = 1 u; nproc {os.cpu_count()}")
    report: dict[str, Any] = {"yardstick_s": unit}
    try:
        for case in args.cases.split(","):
            if case == "demo":
                demo_case(args.repeat, unit, out, report)
            elif case.startswith("park"):
                park_case(int(case[4:]), unit, out, report, args.method)
            else:
                parser.error(f"unknown case {case}")
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
