"""Time the dispatch model: build, compile, HiGHS solve and result extraction.

Three horizons of the demo scenario (``scenarios/xushuguan-factory.yaml``):

- ``day15``: 1 day at 15 min, starting 2026-07-15;
- ``year60``: 365 days at 1 h (the demo as shipped);
- ``year15``: 365 days at 15 min.

For each case the Pyomo path of ``vpp`` (``build_model`` -> ``solve`` -> ``extract``)
is timed phase by phase, and the same LP is built directly with numpy/scipy.sparse
and handed to highspy (the floor any modelling layer can reach); both objectives
must agree within a relative 1e-6. The 1-year hourly case is also solved through
Pyomo's own in-memory HiGHS interface, and ``vpp run`` of the demo is timed end to
end as a subprocess. Every figure is the best of ``--repeat`` runs.

Run from the repository root::

    python benchmarks/bench_dispatch.py [--repeat N] [--cases day15,year60,year15]
        [--json out.json] [--repeat-year15 N] [--no-vpp-run] [--no-pyomo-highs] [--profile]

All imports happen before any clock starts; ``build_model`` runs inside Pyomo's
``PauseGC`` as in :func:`vpp.sim.run.run`, and garbage is collected between repeats,
outside the timed regions.

See ``benchmarks/README.md`` for what each figure means and the recorded results.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import importlib.metadata
import io
import json
import os
import platform
import pstats
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pyomo
import scipy
import scipy.sparse as sp
import yaml
from pyomo.common.gc_manager import PauseGC
from pyomo.contrib.solver.solvers.highs import Highs as PyomoHighs

import vpp.report.figures  # noqa: F401  (write_run imports it lazily; import it before any clock)
from vpp.assets.battery.block import TIE_BREAK_CNY_PER_KWH
from vpp.inputs.site import SiteInputs, build_inputs
from vpp.model import AssetInput, build_model, extract, solve
from vpp.report.files import write_run
from vpp.scenario import Scenario, load_scenario, validate_scenario
from vpp.sim.run import RunResult
from vpp.sim.run import run as vpp_run

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "xushuguan-factory.yaml"
INF = highspy.kHighsInf
#: Relative agreement required between the Pyomo path's and the floor's objective [-].
OBJECTIVE_RTOL = 1e-6

#: Case name -> horizon replacing the demo's.
CASES: dict[str, dict[str, Any]] = {
    "day15": {"start": dt.date(2026, 7, 15), "days": 1, "step": "15min"},
    "year60": {"start": dt.date(2026, 1, 1), "days": 365, "step": "1h"},
    "year15": {"start": dt.date(2026, 1, 1), "days": 365, "step": "15min"},
}


# --------------------------------------------------------------------------- inputs


#: The demo's yearly commercial and carbon terms; the model cases leave them out so that
#: they time the dispatch core (grid with basic charge, load, PV, battery, shiftable
#: load) that the floor reproduces. The full demo is timed end to end as well.
YEARLY_TERMS = ("green_contracts", "renewable_target", "emissions", "carbon_price")


def core_data() -> dict[str, Any]:
    """The demo scenario as a dict, without :data:`YEARLY_TERMS`."""
    data = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    for key in YEARLY_TERMS:
        data["site"].pop(key, None)
    return data


def load_case(case: str) -> Scenario:
    """The demo's dispatch core with the case's horizon."""
    data = core_data()
    data["horizon"] = dict(CASES[case])
    data["name"] = f"{data['name']}-{case}"
    return validate_scenario(data, base_dir=SCENARIO.parent.resolve(), file=str(SCENARIO))


# --------------------------------------------------------------------------- the floor


def _vec(value: Any, size: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (size,))


class _MatrixLP:
    """Columns and coefficient blocks collected as numpy arrays, then one COO -> CSC."""

    def __init__(self) -> None:
        self.n_col = 0
        self.n_row = 0
        self.col_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.row_parts: list[tuple[np.ndarray, np.ndarray]] = []
        self.entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def columns(self, size: int, lower: Any, upper: Any, cost: Any = 0.0) -> np.ndarray:
        """Add ``size`` columns; returns their positions."""
        idx = np.arange(self.n_col, self.n_col + size)
        self.n_col += size
        self.col_parts.append((_vec(lower, size), _vec(upper, size), _vec(cost, size)))
        return idx

    def rows(self, size: int, lower: Any, upper: Any) -> np.ndarray:
        """Add ``size`` rows ``lower <= a x <= upper``; returns their positions."""
        idx = np.arange(self.n_row, self.n_row + size)
        self.n_row += size
        self.row_parts.append((_vec(lower, size), _vec(upper, size)))
        return idx

    def coef(self, rows: Any, cols: Any, values: Any) -> None:
        """Add coefficients ``a[rows, cols] = values`` (broadcast)."""
        r, c, v = np.broadcast_arrays(np.asarray(rows), np.asarray(cols), np.asarray(values, float))
        self.entries.append((r.ravel(), c.ravel(), v.ravel()))

    def to_highs(self) -> highspy.Highs:
        """A HiGHS instance holding this LP (minimise)."""
        lower, upper, cost = (np.concatenate([p[i] for p in self.col_parts]) for i in range(3))
        row_lower, row_upper = (np.concatenate([p[i] for p in self.row_parts]) for i in range(2))
        r, c, v = (np.concatenate([e[i] for e in self.entries]) for i in range(3))
        a = sp.csc_matrix((v, (r, c)), shape=(self.n_row, self.n_col))
        lp = highspy.HighsLp()
        lp.num_col_ = self.n_col
        lp.num_row_ = self.n_row
        lp.col_cost_ = cost
        lp.col_lower_ = lower
        lp.col_upper_ = upper
        lp.row_lower_ = row_lower
        lp.row_upper_ = row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr
        lp.a_matrix_.index_ = a.indices
        lp.a_matrix_.value_ = a.data
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        if highs.passModel(lp) == highspy.HighsStatus.kError:
            raise RuntimeError("HiGHS refused the floor LP")
        return highs


def floor_lp(assets: Sequence[AssetInput], horizon: Any) -> tuple[highspy.Highs, dict[str, int]]:
    """The site LP of :func:`vpp.model.build_model`, built with numpy/scipy.sparse.

    Same variables, bounds, rows and objective as the Pyomo blocks (battery tie-break
    and throughput cost included); ``soc[0]`` is a column fixed by its bounds. The
    only Python loop is over the handful of assets, never over steps.

    Returns the loaded HiGHS instance and the LP's size.
    """
    n = horizon.n
    dt_h = horizon.step_h
    t = np.arange(n)
    lp = _MatrixLP()
    # The bus balance: sum of the blocks' net power = 0, constants moved to the rhs.
    bus_rhs = np.zeros(n)
    bus_terms: list[tuple[np.ndarray, float]] = []  # (columns per step, sign)
    for a in assets:
        spec, series = a.spec, a.series
        if a.kind == "grid":
            imp_ub = INF if spec.import_limit_kw is None else float(spec.import_limit_kw)
            imp = lp.columns(n, 0.0, imp_ub, series["price_cny_per_kwh"] * dt_h)
            exp = lp.columns(
                n, 0.0, float(spec.export_limit_kw), -series["export_price_cny_per_kwh"] * dt_h
            )
            bus_terms += [(imp, 1.0), (exp, -1.0)]
            # the demo bills by actual maximum demand: one rate for every month
            rate = float(series["demand_rate_cny_per_kw_month"][0])
            if rate > 0.0:
                month = horizon.month_index
                n_months = int(month.max()) + 1
                floor = series.get("peak_floor_kw", np.zeros(n_months))
                peak = lp.columns(n_months, floor, imp_ub, rate)
                rows = lp.rows(n, -INF, 0.0)
                lp.coef(rows, imp, 1.0)
                lp.coef(rows, peak[month], -1.0)
        elif a.kind == "load":
            bus_rhs += series["load_kw"]
        elif a.kind == "pv":
            bus_terms.append((lp.columns(n, 0.0, series["available_kw"]), 1.0))
        elif a.kind == "battery":
            e_kwh = float(spec.energy_kwh)
            s_init = float(series.get("soc_initial_kwh", [spec.soc_initial_fraction * e_kwh])[0])
            ch = lp.columns(n, 0.0, float(spec.charge_power_kw), TIE_BREAK_CNY_PER_KWH * dt_h)
            dis = lp.columns(
                n,
                0.0,
                float(spec.discharge_power_kw),
                spec.throughput_cost_cny_per_kwh * dt_h,
            )
            soc_lb = np.full(n + 1, spec.soc_min_fraction * e_kwh)
            soc_ub = np.full(n + 1, spec.soc_max_fraction * e_kwh)
            soc_lb[0] = soc_ub[0] = s_init
            soc = lp.columns(n + 1, soc_lb, soc_ub)
            keep = (1.0 - spec.self_discharge_fraction_per_h) ** dt_h
            rows = lp.rows(n, 0.0, 0.0)
            lp.coef(rows, soc[t + 1], 1.0)
            lp.coef(rows, soc[t], -keep)
            lp.coef(rows, ch, -spec.charge_efficiency * dt_h)
            lp.coef(rows, dis, dt_h / spec.discharge_efficiency)
            if spec.final_soc in ("at_least_initial", "equal_initial"):
                upper = INF if spec.final_soc == "at_least_initial" else s_init
                lp.coef(lp.rows(1, s_init, upper), soc[n], 1.0)
            bus_terms += [(dis, 1.0), (ch, -1.0)]
        elif a.kind == "shiftable":
            window_id = series["window_id"].astype(int)
            energy = series["window_energy_kwh"]
            p = lp.columns(n, 0.0, np.where(window_id >= 0, float(spec.max_power_kw), 0.0))
            rows = lp.rows(len(energy), energy, energy)
            inside = np.flatnonzero(window_id >= 0)
            lp.coef(rows[window_id[inside]], p[inside], dt_h)
            bus_terms.append((p, -1.0))
        elif a.kind == "curtailable":
            power = series["power_kw"]
            shed = lp.columns(
                n, 0.0, spec.max_shed_fraction * power, spec.shed_cost_cny_per_kwh * dt_h
            )
            bus_rhs += power
            bus_terms.append((shed, 1.0))
        else:
            raise ValueError(f"the floor LP does not know asset kind '{a.kind}'")
    bus = lp.rows(n, bus_rhs, bus_rhs)
    for cols, sign in bus_terms:
        lp.coef(bus, cols, sign)
    nnz = sum(e[0].size for e in lp.entries)
    return lp.to_highs(), {"columns": lp.n_col, "rows": lp.n_row, "nonzeros": nnz}


# --------------------------------------------------------------------------- timing


def _clean() -> None:
    """Collect garbage left by the previous repeat, outside every timed region."""
    gc.collect()


def time_pyomo_path(inputs: SiteInputs) -> dict[str, Any]:
    """One run of build -> compile + solve -> extract, as :func:`vpp.sim.run.run` does."""
    _clean()
    horizon = inputs.horizon
    t0 = time.perf_counter()
    with PauseGC():
        model = build_model(inputs.assets, horizon)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = solve(model)
    t_solve_call = time.perf_counter() - t0
    if result.status != "Optimal":
        raise RuntimeError(f"Pyomo path: HiGHS status {result.status}")
    t0 = time.perf_counter()
    solved = extract(model, result, horizon)
    t_extract = time.perf_counter() - t0
    lp = result.lp
    out = {
        "build": t_build,
        "compile": result.timings_s["compile"],
        "solve": result.timings_s["solve"],
        "extract": t_extract,
        # Wall time of solve() not in its own timings: mostly freeing the compiler's
        # temporaries when compile_lp returns (after it stopped its clock), plus the
        # readback of status, solution and objective (a few ms).
        "remainder": t_solve_call - result.timings_s["compile"] - result.timings_s["solve"],
        "objective_cny": solved.objective_cny,
        "size": {
            "columns": len(lp.columns),
            "rows": len(lp.rows),
            "nonzeros": int(lp.highs.getLp().a_matrix_.start_[-1]),
        },
    }
    del model, result, solved, lp
    return out


def time_floor(inputs: SiteInputs) -> dict[str, Any]:
    """One run of the numpy/scipy.sparse LP: matrix build (incl. passModel), solve, readback.

    The readback (status, solution vector, objective) is what :func:`vpp.model.solve`
    does after ``Highs.run``; any modelling layer pays it.
    """
    _clean()
    t0 = time.perf_counter()
    highs, size = floor_lp(inputs.assets, inputs.horizon)
    t_matrix = time.perf_counter() - t0
    t0 = time.perf_counter()
    highs.run()
    t_solve = time.perf_counter() - t0
    t0 = time.perf_counter()
    status = highs.modelStatusToString(highs.getModelStatus())
    if status != "Optimal":
        raise RuntimeError(f"floor LP: HiGHS status {status}")
    x = np.asarray(highs.getSolution().col_value, dtype=float)
    objective = float(highs.getInfo().objective_function_value)
    t_read = time.perf_counter() - t0
    assert x.size == size["columns"]
    return {
        "matrix": t_matrix,
        "solve": t_solve,
        "readback": t_read,
        "objective_cny": objective,
        "size": size,
    }


def time_pyomo_highs(inputs: SiteInputs) -> dict[str, Any]:
    """One solve through ``pyomo.contrib.solver.solvers.highs.Highs`` (solution loaded)."""
    _clean()
    t0 = time.perf_counter()
    with PauseGC():
        model = build_model(inputs.assets, inputs.horizon)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = PyomoHighs().solve(model)
    t_solve = time.perf_counter() - t0
    out = {
        "build": t_build,
        "solve_call": t_solve,
        "objective_cny": float(res.incumbent_objective),
        "termination": str(res.termination_condition),
    }
    del model, res
    return out


def vpp_command() -> tuple[list[str], str]:
    """How ``vpp run`` is started: the console script of this interpreter, else ``-m``."""
    script = Path(sys.executable).parent / "vpp"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)], f"{script} run"
    return [sys.executable, "-m", "vpp.cli"], f"{sys.executable} -m vpp.cli run"


_PROGRESS = re.compile(r"^\[\s*([\d.]+) s\] (.*)$")


def time_vpp_run(scenario: Path = SCENARIO) -> dict[str, Any]:
    """One ``vpp run`` of a scenario as a subprocess: process start to files written."""
    cmd, _ = vpp_command()
    with tempfile.TemporaryDirectory(prefix="vpp-bench-") as tmp:
        out = Path(tmp) / "run"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [*cmd, "run", str(scenario), "--out", str(out)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"vpp run failed ({proc.returncode}):\n{proc.stderr}")
        if not (out / "summary.json").is_file():
            raise RuntimeError("vpp run wrote no summary.json")
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    marks = {}
    for line in proc.stderr.splitlines():
        match = _PROGRESS.match(line)
        if match:
            marks[match.group(2).split(" (")[0].split(" /")[0]] = float(match.group(1))
    writing = next((v for k, v in marks.items() if k.startswith("writing")), float("nan"))
    return {
        "wall": wall,
        # cmd_run's clock starts after interpreter start-up and the CLI's imports.
        "in_process_until_writing": writing,
        "run_total": summary["timings_s"]["total"],
        "run_timings": summary["timings_s"],
    }


#: What ``vpp run`` imports before and while it runs (cmd_run, write_run's figure).
_IMPORT_PROBE = (
    "import time; t0 = time.perf_counter(); "
    "import vpp.cli, vpp, vpp.report.files, vpp.report.text, vpp.report.figures; "
    "print(time.perf_counter() - t0)"
)


def time_startup() -> dict[str, float]:
    """Interpreter start-up alone, and the imports of ``vpp run`` in a fresh process."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare = time.perf_counter() - t0
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE], capture_output=True, text=True, check=True
    )
    return {"interpreter": bare, "imports": float(proc.stdout.strip().splitlines()[-1])}


def time_write(result: RunResult) -> dict[str, float]:
    """``write_run`` once, unprofiled (warm process)."""
    with tempfile.TemporaryDirectory(prefix="vpp-bench-") as tmp:
        t0 = time.perf_counter()
        write_run(result, Path(tmp) / "run")
        return {"write_run": time.perf_counter() - t0}


#: Functions whose cumulative time splits ``write_run`` (whatever it calls today).
_WRITE_PARTS = {"to_parquet": "parquet", "to_csv": "csv", "dispatch_figure": "png"}


def write_shares(result: RunResult) -> dict[str, float]:
    """Share of ``write_run`` spent in parquet, CSV and the figure, from one cProfile."""
    prof = cProfile.Profile()
    with tempfile.TemporaryDirectory(prefix="vpp-bench-") as tmp:
        prof.runcall(write_run, result, Path(tmp) / "run")
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = max(ct for (_, _, _, ct, _) in stats.values())
    parts = dict.fromkeys(_WRITE_PARTS.values(), 0.0)
    for (_, _, name), (_, _, _, ct, _) in stats.items():
        if name in _WRITE_PARTS:
            key = _WRITE_PARTS[name]
            parts[key] = max(parts[key], ct / total)
    return parts


def best_of(runs: list[dict[str, Any]], keys: Sequence[str]) -> dict[str, float]:
    return {k: min(r[k] for r in runs) for k in keys}


def repeat(func: Callable[[], dict[str, Any]], n: int) -> list[dict[str, Any]]:
    return [func() for _ in range(n)]


# --------------------------------------------------------------------------- cases


def bench_case(case: str, n: int, say: Callable[[str], None]) -> dict[str, Any]:
    scenario = load_case(case)
    _clean()
    t0 = time.perf_counter()
    inputs = build_inputs(scenario)
    t_inputs = time.perf_counter() - t0
    say(f"{case}: {inputs.horizon.n} steps of {inputs.horizon.step_h:g} h")
    pyomo_runs = []
    floor_runs = []
    for i in range(n):
        pyomo_runs.append(time_pyomo_path(inputs))
        floor_runs.append(time_floor(inputs))
        say(
            f"  repeat {i + 1}/{n}: pyomo "
            f"{sum(pyomo_runs[-1][k] for k in ('build', 'compile', 'solve', 'extract')):.2f} s, "
            f"floor {floor_runs[-1]['matrix'] + floor_runs[-1]['solve']:.2f} s"
        )
    obj = pyomo_runs[0]["objective_cny"]
    floor_obj = floor_runs[0]["objective_cny"]
    rel = abs(obj - floor_obj) / max(1.0, abs(obj))
    assert rel <= OBJECTIVE_RTOL, (
        f"{case}: Pyomo path objective {obj:.6f} CNY != floor objective {floor_obj:.6f} CNY "
        f"(relative {rel:.2e})"
    )
    p = best_of(pyomo_runs, ("build", "compile", "solve", "remainder", "extract"))
    f = best_of(floor_runs, ("matrix", "solve", "readback"))
    outside = p["build"] + p["compile"] + p["extract"]
    pyomo_total = outside + p["solve"] + p["remainder"]
    floor_total = f["matrix"] + f["solve"] + f["readback"]
    return {
        "steps": inputs.horizon.n,
        "step_h": inputs.horizon.step_h,
        "repeat": n,
        "inputs_s": t_inputs,
        "pyomo_lp_size": pyomo_runs[0]["size"],
        "floor_lp_size": floor_runs[0]["size"],
        "build_s": p["build"],
        "compile_s": p["compile"],
        "solve_s": p["solve"],
        "solve_remainder_s": p["remainder"],
        "extract_s": p["extract"],
        "outside_highs_s": outside,
        "outside_over_inside": outside / p["solve"],
        "outside_incl_remainder_s": outside + p["remainder"],
        "outside_incl_remainder_over_inside": (outside + p["remainder"]) / p["solve"],
        "pyomo_total_s": pyomo_total,
        "floor_matrix_s": f["matrix"],
        "floor_solve_s": f["solve"],
        "floor_readback_s": f["readback"],
        "floor_total_s": floor_total,
        "pyomo_over_floor": pyomo_total / floor_total,
        "pyomo_outside_over_floor_outside": (outside + p["remainder"])
        / (f["matrix"] + f["readback"]),
        "objective_cny": obj,
        "floor_objective_cny": floor_obj,
        "objective_rel_diff": rel,
        "runs": {"pyomo": pyomo_runs, "floor": floor_runs},
    }


def profile_build_compile(case: str, top: int = 25) -> str:
    """cProfile of one build + compile (+ solve, which is one C call) of ``case``."""
    inputs = build_inputs(load_case(case))
    _clean()
    prof = cProfile.Profile()
    prof.enable()
    with PauseGC():
        model = build_model(inputs.assets, inputs.horizon)
    solve(model)
    prof.disable()
    text = io.StringIO()
    stats = pstats.Stats(prof, stream=text).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return text.getvalue()


def machine() -> dict[str, Any]:
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "pyomo": pyomo.version.version,
        "highspy": importlib.metadata.version("highspy"),
        **_git(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def _git() -> dict[str, Any]:
    """The commit measured, and whether vpp/ differs from it (read-only git calls)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "vpp"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return {}
    return {"commit": head, "vpp_modified": bool(dirty)}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


# --------------------------------------------------------------------------- report


def print_table(results: dict[str, Any]) -> None:
    cases = results["cases"]
    names = list(cases)
    rows = [
        ("steps", "steps", "{:.0f}"),
        ("LP columns x rows (Pyomo)", None, None),
        ("inputs (not in totals) [s]", "inputs_s", "{:.3f}"),
        ("build [s]", "build_s", "{:.3f}"),
        ("compile + passModel [s]", "compile_s", "{:.3f}"),
        ("HiGHS solve [s]", "solve_s", "{:.3f}"),
        ("solve() remainder [s]", "solve_remainder_s", "{:.3f}"),
        ("extract [s]", "extract_s", "{:.3f}"),
        ("outside HiGHS (b+c+e) [s]", "outside_highs_s", "{:.3f}"),
        ("outside / inside", "outside_over_inside", "{:.2f}"),
        ("  same, incl. remainder", "outside_incl_remainder_over_inside", "{:.2f}"),
        ("Pyomo path total [s]", "pyomo_total_s", "{:.3f}"),
        ("floor matrix + passModel [s]", "floor_matrix_s", "{:.3f}"),
        ("floor HiGHS solve [s]", "floor_solve_s", "{:.3f}"),
        ("floor readback [s]", "floor_readback_s", "{:.3f}"),
        ("floor total [s]", "floor_total_s", "{:.3f}"),
        ("Pyomo path / floor", "pyomo_over_floor", "{:.2f}"),
        ("outside: Pyomo / floor", "pyomo_outside_over_floor_outside", "{:.1f}"),
        ("objective [CNY]", "objective_cny", "{:,.2f}"),
        ("objective rel. diff vs floor", "objective_rel_diff", "{:.1e}"),
        ("repeats (best of)", "repeat", "{:.0f}"),
    ]
    width = 30
    print(f"\n{'':<{width}}" + "".join(f"{n:>16}" for n in names))
    for label, key, fmt in rows:
        if key is None:
            cells = [
                f"{c['pyomo_lp_size']['columns']}x{c['pyomo_lp_size']['rows']}"
                for c in cases.values()
            ]
        else:
            cells = [fmt.format(c[key]) for c in cases.values()]
        print(f"{label:<{width}}" + "".join(f"{s:>16}" for s in cells))
    ph = results.get("pyomo_highs")
    if ph:
        print(
            f"\nPyomo's HiGHS interface, year60: build {ph['build_s']:.3f} s + solve() "
            f"{ph['solve_call_s']:.3f} s = {ph['total_s']:.3f} s "
            f"(vpp path build+compile+solve {ph['vpp_same_phases_s']:.3f} s); "
            f"objective {ph['objective_cny']:,.2f} CNY, matches: {ph['objective_matches']}"
        )
    core = results.get("vpp_run_core")
    if core:
        print(
            f"\n`vpp run` of the demo's dispatch core (no green power, certificates or "
            f"carbon terms), end to end: {core['wall_s']:.3f} s (best of {core['repeat']}, "
            f"median {core['wall_median_s']:.3f} s; in-process run() {core['run_total_s']:.3f} s)"
        )
    run = results.get("vpp_run")
    if run:
        print(
            f"\n`{run['command']}` demo, end to end: {run['wall_s']:.3f} s "
            f"(best of {run['repeat']}, median {run['wall_median_s']:.3f} s; "
            f"in-process run() {run['run_total_s']:.3f} s, "
            f"cmd_run clock at 'writing' {run['in_process_until_writing_s']:.3f} s)"
        )
        b = run.get("breakdown_s")
        if b:
            print(
                f"  breakdown (best of each): interpreter {b['interpreter']:.3f} s, imports "
                f"{b['imports']:.3f} s, run() {b['run']:.3f} s, write_run {b['write_run']:.3f} s "
                "(warm; "
                + ", ".join(f"{k} {v:.0%}" for k, v in b["write_run_shares"].items())
                + " of it)"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N (default 3)")
    parser.add_argument(
        "--cases", default="day15,year60,year15", help="comma-separated: day15,year60,year15"
    )
    parser.add_argument(
        "--repeat-year15", type=int, default=None, help="repeats for year15 (default --repeat)"
    )
    parser.add_argument("--json", help="write the figures to this JSON file")
    parser.add_argument("--no-vpp-run", action="store_true", help="skip the end-to-end vpp run")
    parser.add_argument(
        "--no-pyomo-highs", action="store_true", help="skip Pyomo's own HiGHS interface"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of year60 build + compile + solve"
    )
    args = parser.parse_args(argv)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {unknown}; known: {sorted(CASES)}")

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    results: dict[str, Any] = {"machine": machine(), "cases": {}}
    for case in cases:
        n = args.repeat_year15 if case == "year15" and args.repeat_year15 else args.repeat
        results["cases"][case] = bench_case(case, n, say)

    if not args.no_pyomo_highs and "year60" in cases:
        say("Pyomo's HiGHS interface on year60")
        inputs = build_inputs(load_case("year60"))
        runs = repeat(lambda: time_pyomo_highs(inputs), args.repeat)
        best = best_of(runs, ("build", "solve_call"))
        ref = results["cases"]["year60"]
        obj = runs[0]["objective_cny"]
        results["pyomo_highs"] = {
            "interface": "pyomo.contrib.solver.solvers.highs.Highs",
            "repeat": args.repeat,
            "build_s": best["build"],
            "solve_call_s": best["solve_call"],
            "total_s": best["build"] + best["solve_call"],
            "vpp_same_phases_s": ref["build_s"] + ref["compile_s"] + ref["solve_s"],
            "objective_cny": obj,
            "termination": runs[0]["termination"],
            "objective_matches": bool(
                abs(obj - ref["objective_cny"]) <= OBJECTIVE_RTOL * max(1.0, abs(obj))
            ),
        }

    if not args.no_vpp_run:
        _, shown = vpp_command()
        with tempfile.TemporaryDirectory(prefix="vpp-core-") as tmp:
            core_path = Path(tmp) / "xushuguan-factory-core.yaml"
            core_path.write_text(yaml.safe_dump(core_data(), allow_unicode=True), encoding="utf-8")
            say(f"{shown} <demo dispatch core> (end to end)")
            core_runs = repeat(lambda: time_vpp_run(core_path), args.repeat)
        core_best = best_of(core_runs, ("wall", "run_total"))
        results["vpp_run_core"] = {
            "repeat": args.repeat,
            "wall_s": core_best["wall"],
            "wall_median_s": float(np.median([r["wall"] for r in core_runs])),
            "run_total_s": core_best["run_total"],
            "runs": core_runs,
        }
        say(f"{shown} {SCENARIO.relative_to(ROOT)} (end to end)")
        runs = repeat(time_vpp_run, args.repeat)
        best = best_of(runs, ("wall", "in_process_until_writing", "run_total"))
        results["vpp_run"] = {
            "command": f"{shown} {SCENARIO.relative_to(ROOT)} --out <tmp>",
            "repeat": args.repeat,
            "wall_s": best["wall"],
            "wall_median_s": float(np.median([r["wall"] for r in runs])),
            "in_process_until_writing_s": best["in_process_until_writing"],
            "run_total_s": best["run_total"],
            "runs": runs,
        }
        say("end-to-end breakdown: start-up, imports, run(), writing")
        startup = best_of(repeat(time_startup, args.repeat), ("interpreter", "imports"))
        result = vpp_run(load_scenario(SCENARIO))
        writing = best_of(repeat(lambda: time_write(result), args.repeat), ("write_run",))
        shares = write_shares(result)
        del result
        results["vpp_run"]["breakdown_s"] = {
            "interpreter": startup["interpreter"],
            "imports": startup["imports"],
            "run": best["run_total"],
            **writing,
            "write_run_shares": shares,
        }

    print_table(results)
    if args.profile:
        print("\ncProfile of year60 build + compile + solve:\n")
        print(profile_build_compile("year60"))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        say(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
