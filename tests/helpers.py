"""Shared helpers of the dispatch tests: tiny scenarios written to disk, and invariants.

``scenario_dict`` writes the series of a small scenario as CSV files (ISO timestamps
with their +08:00 offset) into a folder and returns the scenario as a dict whose
series paths are relative to that folder; ``solve_case`` writes the dict as YAML,
loads it with :func:`vpp.load_scenario`, runs :func:`vpp.run` and applies
:func:`check_invariants` to the result. Every solved case in the tests goes
through ``check_invariants``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import vpp
import vpp.emissions
from vpp.assets.grid.limits import limit_on_index
from vpp.scenario.schema import CurtailableLoad, Scenario, ShiftableLoad, step_minutes

#: Bus balance must close to this at every step [kW].
BALANCE_TOL_KW = 1e-6
#: State of charge: bounds, dynamics and final rule [kWh].
SOC_TOL_KWH = 1e-6
#: Charge and discharge above this at the same step count as simultaneous [kW].
SIMULTANEOUS_TOL_KW = 1e-6
#: A power "is zero" below this [kW].
ZERO_TOL_KW = 1e-6
#: Bill recomputed here vs the summary: same schedule, only summation order differs [-].
BILL_RTOL = 1e-9
#: Absolute floor of the bill comparison [CNY].
BILL_ATOL_CNY = 1e-7
#: Hand-computed optimum vs solver result [-] and [CNY].
COST_RTOL = 1e-6
COST_ATOL_CNY = 1e-5
#: Hand-computed powers vs solver result [kW].
POWER_TOL_KW = 1e-5

TZ = "Asia/Shanghai"
#: A Monday, far from month ends (so that nothing here depends on a second month).
START = "2026-01-05T00:00:00"

COST_KEYS = (
    "total_cost_cny",
    "energy_cost_cny",
    "export_revenue_cny",
    "demand_charge_cny",
    "battery_cost_cny",
    "curtailment_cost_cny",
    "green_contracts_cny",
    "certificates_cny",
    "carbon_cny",
)


# ------------------------------------------------------------------ building cases


def index(n: int, *, start: str = START, step_min: int = 60) -> pd.DatetimeIndex:
    """``n`` interval-start labels in Asia/Shanghai."""
    return pd.date_range(pd.Timestamp(start, tz=TZ), periods=n, freq=f"{step_min}min")


def write_csv(path: Path, stamps: pd.DatetimeIndex, **columns: Sequence[float]) -> Path:
    """A CSV file with a ``timestamp`` column (ISO 8601, +08:00) and the given columns."""
    frame = pd.DataFrame({"timestamp": [t.isoformat() for t in stamps]})
    for name, values in columns.items():
        assert len(values) == len(stamps), name
        frame[name] = list(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def flat_calendar(price: float) -> dict[str, Any]:
    """An inline TOU calendar with one all-day period, and its price."""
    return {
        "calendar": {
            "seasons": [
                {
                    "name": "all",
                    "months": list(range(1, 13)),
                    "periods": [{"period": "flat", "start": "00:00", "end": "24:00"}],
                }
            ]
        },
        "prices_cny_per_kwh": {"flat": float(price)},
    }


def battery(
    name: str = "bess",
    *,
    energy_kwh: float,
    power_kw: float,
    eta_c: float = 1.0,
    eta_d: float = 1.0,
    **extra: Any,
) -> dict[str, Any]:
    """A battery entry; by default lossless, soc 0..1 starting empty, final free, no wear."""
    entry = {
        "name": name,
        "energy_kwh": energy_kwh,
        "charge_power_kw": power_kw,
        "discharge_power_kw": power_kw,
        "charge_efficiency": eta_c,
        "discharge_efficiency": eta_d,
        "soc_min_fraction": 0.0,
        "soc_max_fraction": 1.0,
        "soc_initial_fraction": 0.0,
        "final_soc": "free",
        "throughput_cost_cny_per_kwh": 0.0,
    }
    entry.update(extra)
    return entry


def scenario_dict(
    folder: Path,
    load_kw: Sequence[float],
    *,
    price: float | Sequence[float] | Mapping[str, Any] = 0.5,
    export_price: float | Sequence[float] = 0.0,
    pv_kw: Sequence[float] | None = None,
    curtailable_kw: Sequence[float] | None = None,
    batteries: Sequence[Mapping[str, Any]] = (),
    flexible_loads: Sequence[Mapping[str, Any]] = (),
    grid: Mapping[str, Any] | None = None,
    start: str = START,
    series_step_min: int = 60,
    step: str | None = None,
    resample: str = "none",
    name: str = "case",
) -> dict[str, Any]:
    """Write the series of a small scenario into ``folder`` and return the scenario dict.

    ``load_kw``, list-valued ``price``/``export_price``, ``pv_kw`` and ``curtailable_kw``
    are series at ``series_step_min``; the horizon spans them exactly, at ``step``
    (default: the series step). ``price`` may be a float (an inline one-period TOU
    calendar), a list (a price series file) or a mapping (the ``energy_price`` entry
    as is). ``curtailable_kw`` adds a curtailable load ``shed`` to the end of
    ``flexible_loads`` only if given as a series here (a dict entry may be given too).
    """
    folder = Path(folder)
    n = len(load_kw)
    stamps = index(n, start=start, step_min=series_step_min)

    def spec(file: str, column: str) -> dict[str, Any]:
        s: dict[str, Any] = {"file": file, "column": column}
        if resample != "none":
            s["resample"] = resample
        return s

    write_csv(folder / "load.csv", stamps, load_kw=load_kw)
    if isinstance(price, Mapping):
        energy_price: dict[str, Any] = dict(price)
    elif isinstance(price, (int, float)):
        energy_price = flat_calendar(price)
    else:
        write_csv(folder / "price.csv", stamps, price_cny_per_kwh=price)
        energy_price = {"series": spec("price.csv", "price_cny_per_kwh")}
    grid_entry: dict[str, Any] = {"energy_price": energy_price}
    if isinstance(export_price, (int, float)):
        grid_entry["export_price_cny_per_kwh"] = float(export_price)
    else:
        write_csv(folder / "export.csv", stamps, export_price_cny_per_kwh=export_price)
        grid_entry["export_price_cny_per_kwh"] = spec("export.csv", "export_price_cny_per_kwh")
    grid_entry.update(grid or {})
    site: dict[str, Any] = {
        "name": "site",
        "load": {"series": spec("load.csv", "load_kw")},
        "grid": grid_entry,
    }
    if pv_kw is not None:
        write_csv(folder / "pv.csv", stamps, pv_kw=pv_kw)
        site["pv"] = [{"kind": "profile", "name": "roof", "series": spec("pv.csv", "pv_kw")}]
    if batteries:
        site["batteries"] = [dict(b) for b in batteries]
    flex = [dict(f) for f in flexible_loads]
    if curtailable_kw is not None:
        write_csv(folder / "curtailable.csv", stamps, power_kw=curtailable_kw)
        flex.append(
            {
                "kind": "curtailable",
                "name": "shed",
                "power_kw": spec("curtailable.csv", "power_kw"),
                "max_shed_fraction": 1.0,
                "shed_cost_cny_per_kwh": 1.0,
            }
        )
    if flex:
        site["flexible_loads"] = flex
    end = pd.Timestamp(start) + pd.Timedelta(minutes=series_step_min * n)
    return {
        "name": name,
        "timezone": TZ,
        "horizon": {
            "start": pd.Timestamp(start).isoformat(),
            "end": end.isoformat(),
            "step": step or (f"{series_step_min}min" if series_step_min < 60 else "1h"),
        },
        "site": site,
    }


def write_scenario(folder: Path, data: Mapping[str, Any], filename: str = "scenario.yaml") -> Path:
    """Write ``data`` as a YAML scenario file in ``folder``."""
    path = Path(folder) / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(dict(data), sort_keys=False), encoding="utf-8")
    return path


def solve_case(folder: Path, data: Mapping[str, Any]) -> vpp.sim.RunResult:
    """Write, load (``vpp.load_scenario``), run (``vpp.run``) and check the invariants."""
    scenario = vpp.load_scenario(write_scenario(folder, data))
    result = vpp.run(scenario)
    check_invariants(result)
    return result


# ------------------------------------------------------------------ invariants


def step_h_of(scenario: Scenario) -> float:
    """The scenario's step [h]."""
    return step_minutes(scenario.horizon.step) / 60.0


def check_invariants(result: Any) -> None:
    """Properties every solved case must have (see module docstring of the tests).

    ``result`` is a :class:`vpp.sim.RunResult` (or anything with ``scenario``,
    ``schedule``, ``summary`` and optionally ``baseline``).
    """
    scenario, schedule, summary = result.scenario, result.schedule, result.summary
    check_schedule(scenario, schedule, summary)
    baseline = getattr(result, "baseline", None)
    if baseline is not None:
        assert baseline.index.equals(schedule.index)
        check_balance(scenario, baseline, with_batteries=False)
        check_bill(scenario, baseline, summary["baseline"])


def check_schedule(scenario: Scenario, schedule: pd.DataFrame, summary: Mapping[str, Any]) -> None:
    """Invariants of an optimized schedule and its summary."""
    dt_h = step_h_of(scenario)
    idx = schedule.index
    assert isinstance(idx, pd.DatetimeIndex) and idx.tz is not None
    assert str(idx.tz) == scenario.timezone
    assert idx.is_monotonic_increasing and idx.is_unique
    assert len(idx) == summary["horizon"]["steps"]
    if len(idx) > 1:
        assert (np.diff(idx.asi8) == round(dt_h * 3.6e12)).all()
    assert summary["status"] == "Optimal"
    check_balance(scenario, schedule, with_batteries=True)
    check_batteries(scenario, schedule, summary)
    check_flexible(scenario, schedule)
    check_green(scenario, schedule)
    check_bill(scenario, schedule, summary)
    savings = summary["baseline"]["total_cost_cny"] - summary["total_cost_cny"]
    assert math.isclose(summary["savings_cny"], savings, rel_tol=BILL_RTOL, abs_tol=BILL_ATOL_CNY)


def check_balance(scenario: Scenario, s: pd.DataFrame, *, with_batteries: bool) -> None:
    """Supply equals demand at every step, to BALANCE_TOL_KW."""
    site = scenario.site
    supply = s["grid_import_kw"].to_numpy().copy()
    demand = s["load_kw"].to_numpy() + s["grid_export_kw"].to_numpy()
    for a in site.pv:
        pv = s[f"{a.name}_pv_kw"].to_numpy()
        available = s[f"{a.name}_available_kw"].to_numpy()
        assert (pv >= -ZERO_TOL_KW).all() and (pv <= available + ZERO_TOL_KW).all()
        supply = supply + pv
    if with_batteries:
        for b in site.batteries:
            supply = supply + s[f"{b.name}_discharge_kw"].to_numpy()
            demand = demand + s[f"{b.name}_charge_kw"].to_numpy()
    for f in site.flexible_loads:
        demand = demand + s[f"{f.name}_power_kw"].to_numpy()
        if isinstance(f, CurtailableLoad):
            supply = supply + s[f"{f.name}_shed_kw"].to_numpy()
    for e in site.ev_fleets:  # the baseline charges uncontrolled and has no V2G
        demand = demand + s[f"{e.name}_charge_kw"].to_numpy()
        if f"{e.name}_discharge_kw" in s:
            supply = supply + s[f"{e.name}_discharge_kw"].to_numpy()
    for g in site.gensets:  # the baselines leave gensets off (no column there)
        power = s[f"{g.name}_power_kw"].to_numpy() if f"{g.name}_power_kw" in s else 0.0
        assert (np.asarray(power) >= -ZERO_TOL_KW).all()
        assert (np.asarray(power) <= g.rated_kw + ZERO_TOL_KW).all()
        supply = supply + power
    gap = np.abs(supply - demand)
    worst = int(np.argmax(gap))
    assert gap[worst] <= BALANCE_TOL_KW, (
        f"bus balance off by {gap[worst]:.3g} kW at {s.index[worst]}"
    )
    grid = site.grid
    assert (s["grid_import_kw"] >= -ZERO_TOL_KW).all()
    assert (s["grid_export_kw"] >= -ZERO_TOL_KW).all()
    export_limit = limit_on_index(grid, "export_limit_kw", s.index)  # a number or a series
    assert (s["grid_export_kw"] <= export_limit + ZERO_TOL_KW).all()
    if with_batteries and grid.import_limit_kw is not None:
        import_limit = limit_on_index(grid, "import_limit_kw", s.index)
        assert (s["grid_import_kw"] <= import_limit + ZERO_TOL_KW).all()


def keep_per_step(b: Any, dt_h: float) -> float:
    """Share of the stored energy a battery keeps over a step [-]: its
    ``storage_efficiency_per_step``, else ``(1 - self_discharge_fraction_per_h) ** dt_h``."""
    if b.storage_efficiency_per_step is not None:
        return float(b.storage_efficiency_per_step)
    return (1.0 - b.self_discharge_fraction_per_h) ** dt_h


def soc_end_kwh(scenario: Scenario, schedule: pd.DataFrame, name: str) -> float:
    """The state of charge at the end of the horizon, recomputed from the last step [kWh]."""
    b = next(b for b in scenario.site.batteries if b.name == name)
    dt_h = step_h_of(scenario)
    keep = keep_per_step(b, dt_h)
    last = schedule.iloc[-1]
    return float(
        keep * last[f"{name}_soc_kwh"]
        + b.charge_efficiency * last[f"{name}_charge_kw"] * dt_h
        - last[f"{name}_discharge_kw"] * dt_h / b.discharge_efficiency
    )


def check_batteries(
    scenario: Scenario, s: pd.DataFrame, summary: Mapping[str, Any] | None = None
) -> None:
    """SOC bounds, dynamics, final rule; power bounds; no simultaneous charge and discharge.

    A rolling run may end below the final rule (its real-time peak guard spends energy
    after the last plan); then the shortfall its summary reports must be exactly that.
    """
    dt_h = step_h_of(scenario)
    negative_price = (s["price_cny_per_kwh"].to_numpy() < 0.0) | (
        s["export_price_cny_per_kwh"].to_numpy() < 0.0
    )
    for b in scenario.site.batteries:
        ch = s[f"{b.name}_charge_kw"].to_numpy()
        dis = s[f"{b.name}_discharge_kw"].to_numpy()
        soc_start = s[f"{b.name}_soc_kwh"].to_numpy()
        end = soc_end_kwh(scenario, s, b.name)
        soc = np.append(soc_start, end)  # N+1 state points
        lo, hi = b.soc_min_fraction * b.energy_kwh, b.soc_max_fraction * b.energy_kwh
        assert soc.min() >= lo - SOC_TOL_KWH, f"{b.name}: soc {soc.min()} below {lo}"
        assert soc.max() <= hi + SOC_TOL_KWH, f"{b.name}: soc {soc.max()} above {hi}"
        s_init = b.soc_initial_fraction * b.energy_kwh
        assert abs(soc[0] - s_init) <= SOC_TOL_KWH
        keep = keep_per_step(b, dt_h)
        predicted = (
            keep * soc[:-1] + b.charge_efficiency * ch * dt_h - dis * dt_h / b.discharge_efficiency
        )
        # The last point is recomputed from the same formula, so this checks steps 0..N-2.
        assert np.abs(predicted - soc[1:]).max() <= SOC_TOL_KWH
        target = b.final_target_kwh()
        s_end = s_init if target is None else target
        rule = b.final_rule()
        if summary is not None and summary.get("mode") == "rolling" and rule != "free":
            short = summary["rolling"]["final_soc_shortfall"][b.name]["shortfall_kwh"]
            assert abs(short - max(0.0, s_end - end)) <= SOC_TOL_KWH
            s_end -= short
        if rule == "at_least":
            assert end >= s_end - SOC_TOL_KWH, f"{b.name}: final soc {end} < target {s_end}"
        elif rule == "equal":
            assert abs(end - s_end) <= SOC_TOL_KWH, f"{b.name}: final soc {end} != {s_end}"
        assert (ch >= -ZERO_TOL_KW).all() and (ch <= b.charge_power_kw + ZERO_TOL_KW).all()
        assert (dis >= -ZERO_TOL_KW).all() and (dis <= b.discharge_power_kw + ZERO_TOL_KW).all()
        if b.combined_power_kw is not None:
            assert (ch + dis <= b.combined_power_kw + ZERO_TOL_KW).all(), b.name
        both = (ch > SIMULTANEOUS_TOL_KW) & (dis > SIMULTANEOUS_TOL_KW) & ~negative_price
        assert not both.any(), (
            f"{b.name} charges and discharges at once at {list(s.index[both][:3])}"
        )


def check_flexible(scenario: Scenario, s: pd.DataFrame) -> None:
    """Shed within its bounds; shiftable power within its bound (window energy: see tests)."""
    for f in scenario.site.flexible_loads:
        if isinstance(f, CurtailableLoad):
            shed = s[f"{f.name}_shed_kw"].to_numpy()
            power = s[f"{f.name}_power_kw"].to_numpy()
            assert (shed >= -ZERO_TOL_KW).all()
            assert (shed <= f.max_shed_fraction * power + ZERO_TOL_KW).all()
        elif isinstance(f, ShiftableLoad):
            power = s[f"{f.name}_power_kw"].to_numpy()
            assert (power >= -ZERO_TOL_KW).all() and (power <= f.max_power_kw + ZERO_TOL_KW).all()


def check_green(scenario: Scenario, s: pd.DataFrame) -> None:
    """Green contracts within profile and net import; green flows within physical ones; target."""
    site, tol = scenario.site, ZERO_TOL_KW
    imp, exp = s["grid_import_kw"].to_numpy(), s["grid_export_kw"].to_numpy()
    taken = np.zeros(len(s))
    loop_pays = False  # importing green energy to export it beats the shortfall penalty
    for c in site.green_contracts:
        take = s[f"{c.name}_take_kw"].to_numpy()
        assert (take >= -tol).all()
        if f"{c.name}_available_kw" in s:  # a profile, or the flat delivery of volumes
            assert (take <= s[f"{c.name}_available_kw"].to_numpy() + tol).all(), c.name
        taken += take
        price = (c.energy_price_cny_per_mwh + c.green_premium_cny_per_mwh) / 1e3
        price += c.grid_fees_cny_per_kwh
        penalty = c.shortfall_penalty_cny_per_mwh / 1e3
        loop_pays |= bool((s["export_price_cny_per_kwh"] + penalty >= price).any())
    assert (taken <= imp + tol).all(), "green contracts above the import"
    if not loop_pays:
        assert not ((taken > tol) & (exp > tol)).any(), "green energy taken while exporting"
    target = site.renewable_target
    if target is None:
        return
    demand = s["load_kw"].to_numpy().copy()
    for f in site.flexible_loads:
        demand += s[f"{f.name}_power_kw"].to_numpy()
        if isinstance(f, CurtailableLoad):
            demand -= s[f"{f.name}_shed_kw"].to_numpy()
    used = s["green_used_kw"].to_numpy()
    green_in = taken + sum((s[f"{a.name}_pv_kw"].to_numpy() for a in site.pv), np.zeros(len(s)))
    green_out = used.copy()
    for name in target.green_storage:
        ch = s[f"green_{name}_charge_kw"].to_numpy()
        dis = s[f"green_{name}_discharge_kw"].to_numpy()
        assert (ch >= -tol).all() and (ch <= s[f"{name}_charge_kw"].to_numpy() + tol).all()
        assert (dis >= -tol).all() and (dis <= s[f"{name}_discharge_kw"].to_numpy() + tol).all()
        soc = s[f"green_{name}_soc_kwh"].to_numpy()
        own = s[f"{name}_soc_kwh"].to_numpy()
        assert (soc >= -SOC_TOL_KWH).all() and (soc <= own + SOC_TOL_KWH).all()
        green_in, green_out = green_in + dis, green_out + ch
    assert (used >= -tol).all() and (used <= demand + tol).all()
    assert (green_out <= green_in + tol).all(), "more green energy used than supplied"
    cert = s["green_certificates_kw"].to_numpy() if "green_certificates_kw" in s else 0.0 * used
    assert (cert >= -tol).all() and (cert <= imp - taken + tol).all()
    if target.basis == "hourly":
        assert (used + cert >= target.fraction * demand - tol).all(), "hourly target missed"
    else:
        assert (used + cert).sum() >= target.fraction * demand.sum() - tol * len(s)


def recompute_bill(scenario: Scenario, s: pd.DataFrame) -> dict[str, Any]:
    """The bill of a schedule, recomputed here independently of :mod:`vpp.runs.bill`."""
    site = scenario.site
    dt_h = step_h_of(scenario)
    imp = s["grid_import_kw"].to_numpy()
    energy = float((imp * s["price_cny_per_kwh"].to_numpy()).sum() * dt_h)
    export = float(
        (s["grid_export_kw"].to_numpy() * s["export_price_cny_per_kwh"].to_numpy()).sum() * dt_h
    )
    months = s.index.strftime("%Y-%m")  # local months of the tz-aware index
    peaks = {
        str(k): float(v) for k, v in pd.Series(imp, index=months).groupby(level=0).max().items()
    }
    basic = site.grid.basic_charge
    floor = getattr(basic, "month_to_date_peak_kw", None) if basic is not None else None
    billed = dict(peaks)
    if floor is not None:  # the peak already metered this month: the first month's floor
        first = months[0]
        billed[first] = max(billed[first], float(floor))
    demand = basic_charge_by_hand(site.grid, billed)
    charges = demand_charges_by_hand(site, s)
    wear = sum(  # throughput_cost_on: discharge (default), charge or both
        b.throughput_cost_cny_per_kwh * float(s[f"{b.name}_{side}_kw"].sum()) * dt_h
        for b in site.batteries
        for side in ("discharge", "charge")
        if f"{b.name}_{side}_kw" in s and b.throughput_cost_on in (side, "both")
    )
    wear += sum(  # cycle_ageing: c_j on each depth segment's discharge (Xu et al. 2018)
        c * float(s[f"{b.name}_segment{j}_discharge_kw"].sum()) * dt_h
        for b in site.batteries
        for j, c in enumerate(segment_costs_by_hand(b), start=1)
        if f"{b.name}_segment{j}_discharge_kw" in s  # not in a no-battery baseline
    )
    shed = sum(
        f.shed_cost_cny_per_kwh * float(s[f"{f.name}_shed_kw"].sum()) * dt_h
        for f in site.flexible_loads
        if isinstance(f, CurtailableLoad)
    )
    green = green_costs_by_hand(scenario, s, dt_h)
    ev = {"ev_cost_cny": 0.0} if site.ev_fleets else {}
    for e in site.ev_fleets:  # V2G wear, and the price of energy not delivered when priced
        zero = pd.Series(0.0, index=s.index)
        out_kwh = float(s.get(f"{e.name}_discharge_kw", zero).sum()) * dt_h
        unmet_kwh = float(s.get(f"{e.name}_unmet_kwh", zero).sum())
        price = e.unmet_cost_cny_per_kwh if e.unmet == "priced" else 0.0
        ev["ev_cost_cny"] += e.degradation_cost_cny_per_kwh * out_kwh + price * unmet_kwh
    genset = {"genset_cost_cny": 0.0} if site.gensets else {}
    for g, litres in genset_litres_by_hand(scenario, s, dt_h).items():  # fuel and O&M
        kwh = float(s[f"{g.name}_power_kw"].sum()) * dt_h
        genset["genset_cost_cny"] += g.fuel_price_cny_per_l * litres + g.om_cost_cny_per_kwh * kwh
    starts = {}
    for f in site.flexible_loads:  # a deferrable load's start costs
        if getattr(f, "start_cost_cny", 0.0) > 0.0:
            count = float(s[f"{f.name}_start"].round().sum())
            starts["deferrable_start_cost_cny"] = (
                starts.get("deferrable_start_cost_cny", 0.0) + f.start_cost_cny * count
            )
    own = wear + shed + sum(ev.values()) + sum(genset.values()) + sum(starts.values())
    billed_charges = demand + sum(charges.values())
    return {
        **ev,
        **genset,
        **charges,
        **starts,
        "total_cost_cny": energy - export + billed_charges + own + sum(green.values()),
        "energy_cost_cny": energy,
        "export_revenue_cny": export,
        "demand_charge_cny": demand,
        "battery_cost_cny": wear,
        "curtailment_cost_cny": shed,
        **green,
        "peak_import_kw": billed,  # the month-to-date peak already metered included
    }


def segment_costs_by_hand(b: Any) -> list[float]:
    """A battery's cycle-ageing cost per depth segment [CNY/kWh at the bus]: as given, or
    R J / eta_dis x (Phi(j/J) - Phi((j-1)/J)) with Phi = 1 / cycle life interpolated
    linearly through (0, 0); empty without ``cycle_ageing``."""
    a = b.cycle_ageing
    if a is None:
        return []
    if a.cost_cny_per_kwh is not None:
        return list(a.cost_cny_per_kwh)
    depths = [0.0, *sorted(a.cycle_life_at_dod)]
    phi = [0.0, *(1.0 / a.cycle_life_at_dod[d] for d in depths[1:])]
    at = [float(np.interp(j / a.segments, depths, phi)) for j in range(a.segments + 1)]
    scale = a.replacement_cny_per_kwh * a.segments / b.discharge_efficiency
    return [scale * (at[j] - at[j - 1]) for j in range(1, a.segments + 1)]


def demand_charges_by_hand(site: Any, s: pd.DataFrame) -> dict[str, float]:
    """Each ``site.demand_charges`` entry's charge [CNY] as ``<name>_charge_cny``: per
    local month or day, the rate times the largest import, export or |import - export|
    at the steps in its window (its TOU periods, clock hours and months), at least
    ``peak_floor_kw`` in the first billing period; a period without a window step bills
    its floor (first period) or nothing."""
    out: dict[str, float] = {}
    imp = s["grid_import_kw"].to_numpy()
    exp = s["grid_export_kw"].to_numpy()
    minutes = s.index.hour * 60 + s.index.minute
    for c in getattr(site, "demand_charges", []):
        quantity = {"import": imp, "export": exp, "net": np.abs(imp - exp)}[c.on]
        inside = np.ones(len(s), dtype=bool)
        if c.periods is not None:
            inside &= s["tou_period"].isin(list(c.periods)).to_numpy()
        if c.months is not None:
            inside &= np.isin(s.index.month, list(c.months))
        if c.hours is not None:
            clock = np.zeros(len(s), dtype=bool)
            for w in c.hours:
                h0, m0 = (int(x) for x in w.start.split(":"))
                h1, m1 = (int(x) for x in w.end.split(":"))
                a, b = h0 * 60 + m0, h1 * 60 + m1
                clock |= (minutes >= a) & (minutes < b) if a < b else (minutes >= a) | (minutes < b)
            inside &= clock
        period = s.index.strftime("%Y-%m" if c.per == "month" else "%Y-%m-%d")
        total = 0.0
        for k, key in enumerate(dict.fromkeys(period)):
            mask = (period == key) & inside
            peak = float(quantity[mask].max()) if mask.any() else 0.0
            if k == 0:
                peak = max(peak, float(c.peak_floor_kw))
            total += c.rate_cny_per_kw * peak
        out[f"{c.name}_charge_cny"] = total
    return out


def genset_litres_by_hand(scenario: Scenario, s: pd.DataFrame, dt_h: float) -> dict[Any, float]:
    """Diesel each genset burned [L]: intercept x running hours + slope x energy
    (gensets without columns, as in the baselines, burned nothing)."""
    out = {}
    for g in scenario.site.gensets:
        if f"{g.name}_power_kw" not in s:
            continue
        running_h = float(s[f"{g.name}_running_fraction"].sum()) * dt_h
        kwh = float(s[f"{g.name}_power_kw"].sum()) * dt_h
        out[g] = g.fuel_intercept_l_per_h * running_h + g.fuel_slope_l_per_kwh * kwh
    return out


def green_costs_by_hand(scenario: Scenario, s: pd.DataFrame, dt_h: float) -> dict[str, float]:
    """Green contracts, certificates and carbon price [CNY], recomputed from the schedule.

    A contract's green kWh pays energy + premium + grid fees instead of the TOU price;
    take-or-pay shortfalls per settlement period pay the penalty; certificates pay their
    price; the carbon price (in the objective) falls on grey import and priced fuels.
    """
    site, price = scenario.site, s["price_cny_per_kwh"].to_numpy()
    months = np.asarray(s.index.strftime("%Y-%m"))
    out = {"green_contracts_cny": 0.0, "certificates_cny": 0.0, "carbon_cny": 0.0}
    grey = s["grid_import_kw"].to_numpy().copy()
    for c in site.green_contracts:
        if f"{c.name}_take_kw" not in s:
            continue  # the baseline has no contracts
        take = s[f"{c.name}_take_kw"].to_numpy()
        grey -= take
        kwh_price = (c.energy_price_cny_per_mwh + c.green_premium_cny_per_mwh) / 1e3
        out["green_contracts_cny"] += float(
            ((kwh_price + c.grid_fees_cny_per_kwh - price) * take).sum() * dt_h
        )
        hourly = c.settlement == "hourly"
        period = np.asarray(s.index.floor("h").asi8) if hourly else months
        if f"{c.name}_available_kw" in s:
            profile = s[f"{c.name}_available_kw"].to_numpy() * dt_h
            volume = pd.Series(profile).groupby(period).sum()
        else:
            hours = pd.Series(np.full(len(s), dt_h)).groupby(months).sum()
            volume = pd.Series(
                {
                    m: c.monthly_mwh[m] * 1e3 * h / (pd.Period(m).days_in_month * 24)
                    for m, h in hours.items()
                }
            )
        taken = pd.Series(take * dt_h).groupby(period).sum()
        short = (c.take_or_pay_fraction * volume - taken).clip(lower=0.0)
        out["green_contracts_cny"] += c.shortfall_penalty_cny_per_mwh / 1e3 * float(short.sum())
    if "green_certificates_kw" in s:
        covered_kwh = float(s["green_certificates_kw"].sum()) * dt_h
        if site.emissions.market_based_certificates:
            grey -= s["green_certificates_kw"].to_numpy()
        out["certificates_cny"] = (
            site.renewable_target.certificate_price_cny_per_mwh * covered_kwh / 1e3
        )
    carbon = site.carbon_price
    if carbon is not None and carbon.in_objective:
        kg = 0.0
        if "electricity" in carbon.carriers:
            kg += float((s["market_factor_kg_per_kwh"].to_numpy() * grey).sum()) * dt_h
        activity = site.emissions.activity
        amounts = {"natural_gas": activity.natural_gas_nm3, "diesel": activity.diesel_t}
        amounts["heat"] = activity.heat_gj
        # activity is annual: each step counts dt_h over the hours of its calendar year
        hours_in_year = np.array([8784.0 if t.is_leap_year else 8760.0 for t in s.index])
        share = float((dt_h / hours_in_year).sum())
        for carrier, amount in amounts.items():
            if carrier in carbon.carriers and amount:
                choice = getattr(site.emissions.factors, carrier)
                kg += amount * share * vpp.emissions.factor(carrier, choice).value
        if "diesel" in carbon.carriers:  # the gensets' diesel, litres to tonnes
            for g, litres in genset_litres_by_hand(scenario, s, dt_h).items():
                tonnes = litres * g.fuel_density_kg_per_l / 1e3
                kg += tonnes * vpp.emissions.factor("diesel", site.emissions.factors.diesel).value
        out["carbon_cny"] = carbon.cny_per_t * kg / 1e3
    return out


#: The contracted-demand rule, written out here independently of vpp/tariffs/data [-].
CONTRACT_TOLERANCE_FRACTION = 0.05
CONTRACT_EXCESS_FACTOR = 2.0
CONTRACT_FLOOR_FRACTION_OF_KVA = 0.40


def basic_charge_by_hand(grid: Any, peaks: Mapping[str, float]) -> float:
    """The basic charge [CNY] of monthly maximum demands ``peaks`` [kW], by the rules."""
    spec = grid.basic_charge
    if spec is None:
        return grid.demand_charge_cny_per_kw_month * sum(peaks.values())
    if spec.method == "capacity":
        return spec.capacity_cny_per_kva_month * spec.transformer_kva * len(peaks)
    rate = spec.demand_cny_per_kw_month
    if spec.contracted_demand_kw is None:
        return rate * sum(peaks.values())
    contract = spec.contracted_demand_kw
    if spec.transformer_kva is not None:
        contract = max(contract, CONTRACT_FLOOR_FRACTION_OF_KVA * spec.transformer_kva)
    threshold = (1.0 + CONTRACT_TOLERANCE_FRACTION) * contract
    return sum(
        rate * contract + CONTRACT_EXCESS_FACTOR * rate * max(0.0, peak - threshold)
        for peak in peaks.values()
    )


def check_bill(scenario: Scenario, s: pd.DataFrame, reported: Mapping[str, Any]) -> None:
    """The reported bill equals the bill recomputed from the schedule."""
    mine = recompute_bill(scenario, s)
    cost_keys = COST_KEYS + (("ev_cost_cny",) if scenario.site.ev_fleets else ())
    cost_keys += ("genset_cost_cny",) if scenario.site.gensets else ()
    cost_keys += tuple(f"{c.name}_charge_cny" for c in scenario.site.demand_charges)
    for key in cost_keys:
        assert reported[key] == pytest.approx(mine[key], rel=BILL_RTOL, abs=BILL_ATOL_CNY), key
    assert set(reported["peak_import_kw"]) == set(mine["peak_import_kw"])
    for month, peak in mine["peak_import_kw"].items():
        assert reported["peak_import_kw"][month] == pytest.approx(
            peak, rel=BILL_RTOL, abs=ZERO_TOL_KW
        )
    rows = reported.get("bill_monthly")
    if rows is not None:  # the monthly table adds up to the totals, month by month
        assert [r["month"] for r in rows] == list(mine["peak_import_kw"])
        for key in cost_keys:
            total = sum(r[key] for r in rows)
            assert total == pytest.approx(mine[key], rel=BILL_RTOL, abs=BILL_ATOL_CNY), key
        for r in rows:
            by_period = sum(v for k, v in r.items() if k.startswith("tou_") and "_cost_" in k)
            assert by_period == pytest.approx(r["energy_cost_cny"], rel=BILL_RTOL, abs=1e-7)


def telemetry_until(source: Path, folder: Path, now: str) -> Path:
    """A copy of the telemetry folder ``source`` in ``folder`` with only the readings taken
    at or before ``now`` (a later reading is future-dated: bad input for the daily job).

    The sample telemetry (``forecasts/telemetry``) holds several days, for runs of
    several dates.
    """
    folder.mkdir(parents=True, exist_ok=True)
    moment = pd.Timestamp(now)
    for path in sorted(Path(source).glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        stamps = pd.to_datetime(frame["timestamp"], format="ISO8601", utc=True)
        frame[(stamps <= moment).to_numpy()].to_csv(folder / path.name, index=False)
    return folder
