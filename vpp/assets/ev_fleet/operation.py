r"""The EV fleet unit: its rolling-window inputs, plan, real-time rule and settlement hold.

Sessions are carried across windows. The state is the energy each session of the
horizon holds so far [kWh, battery side]: what it has been given, less what it gave
back (V2G). A window (:func:`window_series`) gets the sessions connected in it, each with

- its connected steps inside the window (the connected share of its first and last
  step as on the horizon);
- the energy it still needs, :math:`R_s = \max(0, E_s - e_s)` with :math:`e_s` the
  energy held at the window's start: all of it when the session departs inside the
  window, else the larger of its share of the session's remaining connected time that
  lies inside the window and what could not fit after the window at full power; at
  most what fits inside the window at full power;
- with V2G, a vehicle may give back only energy given to it inside the window (the
  block starts each session at zero), a little stricter than the vehicle itself.

The real-time rule (:class:`EVController`) follows the schedule within each session's
limits, step by step: each connected session charges its planned power (the
per-vehicle plan; with the envelope model the fleet's planned power is split over the
connected sessions by earliest departure first), at most its connected power and the
energy it still needs; with V2G it discharges its planned power, at most what it
holds. It does not react to the peak guard. What a session is given carries into the
next window, so energy is delivered once; energy a session still needs when it
departs is not delivered.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from vpp.assets.control import Applied, Controller, Window
from vpp.assets.ev_fleet.block import SHORTFALL_TOL_KWH, session_steps, uses_per_vehicle
from vpp.assets.hold import hold_at
from vpp.assets.storage import StorageDynamics
from vpp.timeseries import Horizon

#: Per-session series of the block, cut to the window's sessions.
SESSION_KEYS = (
    "session_charge_kw",
    "session_discharge_kw",
    "session_vehicle",
    "session_departure",
    "session_line",
)


def window_series(
    fleet: Any,
    series: dict[str, np.ndarray],
    start: int,
    stop: int,
    held_kwh: np.ndarray,
    dt_h: float,
) -> dict[str, np.ndarray]:
    """The fleet's block series on steps ``start .. stop - 1`` (module docstring).

    Parameters
    ----------
    fleet : EVFleet
        The scenario entry.
    series : dict of str to numpy.ndarray
        The fleet's series on the run's horizon.
    start, stop : int
        The window [-].
    held_kwh : numpy.ndarray
        Energy each session of the horizon holds at ``start`` [kWh].
    dt_h : float
        Step [h].

    Returns
    -------
    dict of str to numpy.ndarray
        The block's series on the window, plus ``session_index``: each window
        session's index on the horizon.
    """
    n = stop - start
    gain = StorageDynamics.of(fleet, dt_h).gain_kwh_per_kw
    lo_all, hi_all = series["session_first_step"], series["session_end_step"]
    ids = np.flatnonzero((lo_all < stop) & (hi_all > start))
    first, end, first_frac, last_frac, due = [], [], [], [], []
    for s in ids.tolist():
        steps, frac = session_steps(series, s)
        lo, hi = int(steps[0]), int(steps[-1]) + 1
        a, b = max(lo, start), min(hi, stop)
        inside = frac[a - lo : b - lo]
        power = float(series["session_charge_kw"][s])
        need = max(0.0, float(series["session_energy_kwh"][s]) - float(held_kwh[s]))
        reach_in = gain * power * float(inside.sum())
        if hi <= stop:
            owed = need
        else:
            remaining = float(frac[a - lo :].sum())
            after = gain * power * float(frac[b - lo :].sum())
            owed = max(need * float(inside.sum()) / remaining, need - after)
        first.append(a - start)
        end.append(b - start)
        first_frac.append(float(inside[0]))
        last_frac.append(float(inside[-1]))
        due.append(min(owed, reach_in))
    out: dict[str, np.ndarray] = {
        "session_first_step": np.array(first, dtype=np.int64),
        "session_end_step": np.array(end, dtype=np.int64),
        "session_first_fraction": np.array(first_frac, dtype=float),
        "session_last_fraction": np.array(last_frac, dtype=float),
        "session_energy_kwh": np.array(due, dtype=float),
        **{k: series[k][ids] for k in SESSION_KEYS},
        "session_index": ids.astype(np.int64),
    }
    max_charge, max_discharge = np.zeros(n), np.zeros(n)
    for j in range(len(ids)):
        steps, frac = session_steps(out, j)
        max_charge[steps] += np.minimum(
            out["session_charge_kw"][j] * frac, out["session_energy_kwh"][j] / gain
        )
        max_discharge[steps] += out["session_discharge_kw"][j] * frac
    out["max_charge_kw"] = max_charge
    out["max_discharge_kw"] = max_discharge
    if not uses_per_vehicle(fleet, len(ids)):
        from vpp.assets.ev_fleet.sessions import envelope_bounds

        out["energy_min_kwh"], out["energy_max_kwh"] = envelope_bounds(out, n, gain)
    return out


def session_plan(block: Any, var: Any, n_sessions: int, n: int, values: Any) -> np.ndarray:
    """A per-session variable of the per-vehicle block as a (session, step) array [kW]."""
    out = np.zeros((n_sessions, n))
    pairs = np.array(list(block.ST), dtype=np.int64).reshape(-1, 2)
    if len(pairs):
        out[pairs[:, 0], pairs[:, 1]] = values(var)
    return out


class EVController(Controller):
    """The fleet over one applied span: each session follows the schedule within its
    limits (module docstring).

    Parameters
    ----------
    asset : AssetInput
        The fleet's input on the run's horizon.
    held_kwh : numpy.ndarray
        Energy each session of the horizon holds at the span's start [kWh].
    applied : Applied
        The span and the window's plan.
    """

    steps = True

    def __init__(self, asset: Any, held_kwh: np.ndarray, applied: Applied) -> None:
        fleet, series, name = asset.spec, asset.series, asset.name
        self.name, self.v2g = name, bool(fleet.v2g)
        start, k = applied.start, applied.k
        dt_h = applied.dt_h
        self.dyn = StorageDynamics.of(fleet, dt_h)
        self.gain = self.dyn.gain_kwh_per_kw
        self.loss = self.dyn.loss_kwh_per_kw
        self.held_kwh = held_kwh.copy()
        self.energy_kwh = np.asarray(series["session_energy_kwh"], float)
        lo, hi = series["session_first_step"], series["session_end_step"]
        active = np.flatnonzero((lo < applied.until) & (hi > start))
        # earliest departure first: the order the fleet's power is shared in
        self.active = sorted(active.tolist(), key=lambda s: (int(hi[s]), int(lo[s]), s))
        self.cap_kw: dict[int, np.ndarray] = {}
        self.dcap_kw: dict[int, np.ndarray] = {}
        #: per session and applied step: the energy it can still take after that step,
        #: up to its departure, at full charging power [kWh]
        self.later_kwh: dict[int, np.ndarray] = {}
        for s in self.active:
            steps, frac = session_steps(series, s)
            cap = np.zeros(k)
            keep = (steps >= start) & (steps < applied.until)
            cap[steps[keep] - start] = frac[keep]
            charge_kw = float(series["session_charge_kw"][s])
            self.cap_kw[s] = cap * charge_kw
            self.dcap_kw[s] = cap * float(series["session_discharge_kw"][s])
            if self.v2g:
                take = self.gain * charge_kw * frac  # per connected step [kWh]
                after = np.cumsum(take[::-1])[::-1] - take  # after each connected step
                later = np.zeros(k)
                inside = steps[keep] - start
                later[inside] = after[keep]
                self.later_kwh[s] = later
        plan = applied.plan
        self.plan_charge_kw = plan[f"{name}_charge_kw"][:k]
        self.plan_discharge_kw = plan[f"{name}_discharge_kw"][:k] if self.v2g else np.zeros(k)
        self.row: dict[int, int] = {}
        self.session_charge = plan.get(f"{name}_session_charge_kw")
        self.session_discharge = plan.get(f"{name}_session_discharge_kw")
        if self.session_charge is not None:
            index = plan[f"{name}_session_index"].tolist()
            self.row = {int(s): j for j, s in enumerate(index)}
        self.c = {s: np.zeros(k) for s in self.active}
        self.d = {s: np.zeros(k) for s in self.active}
        self.charge_kw = np.zeros(k)
        self.discharge_kw = np.zeros(k)

    def _wanted(self, per_session: Any, aggregate: float, s: int, t: int, left: float) -> float:
        """The session's set point: its own plan (per vehicle), else what is left of the
        fleet's (envelope, shared by earliest departure) [kW]."""
        if per_session is None:
            return left
        j = self.row.get(s)
        return 0.0 if j is None else float(per_session[j, t])

    def follow(self, t: int) -> float:
        """Every connected session at its set point within its limits; returns the
        fleet's charge minus discharge [kW].

        Charging goes to the earliest departure first. With V2G, discharging takes from
        the latest departure first, and never more than a session can charge back
        before it leaves at full power (so every session can still get its energy).
        """
        left_c = max(float(self.plan_charge_kw[t]), 0.0)
        left_d = max(float(self.plan_discharge_kw[t]), 0.0)
        total_c = total_d = 0.0
        for s in self.active:
            cap = self.cap_kw[s][t]
            c = 0.0
            if cap > 0.0:
                need = max(0.0, self.energy_kwh[s] - self.held_kwh[s])
                want = self._wanted(self.session_charge, left_c, s, t, left_c)
                c = min(max(want, 0.0), cap, need / self.gain)
                left_c -= c
            self.c[s][t], self.d[s][t] = c, 0.0
            total_c += c
        if self.v2g:
            for s in reversed(self.active):  # latest departure first
                if self.dcap_kw[s][t] <= 0.0:
                    continue
                want = self._wanted(self.session_discharge, left_d, s, t, left_d)
                after = self.held_kwh[s] + self.gain * self.c[s][t]
                floor = max(0.0, self.energy_kwh[s] - self.later_kwh[s][t])
                room = max(0.0, after - floor) / self.loss
                d = min(max(want, 0.0), self.dcap_kw[s][t], room)
                left_d -= d
                self.d[s][t] = d
                total_d += d
        self.charge_kw[t], self.discharge_kw[t] = total_c, total_d
        return total_c - total_d

    def advance(self, t: int) -> None:
        """Each session holds what it was given less what it gave back [kWh]."""
        for s in self.active:
            self.held_kwh[s] = self.dyn.next_kwh(self.held_kwh[s], self.c[s][t], self.d[s][t])

    def consumed_kw(self) -> np.ndarray:
        """Settled charge minus discharge [kW]."""
        return self.charge_kw - self.discharge_kw

    def columns(self) -> dict[str, np.ndarray]:
        """Settled charge (and discharge, V2G) of the fleet [kW]."""
        out = {f"{self.name}_charge_kw": self.charge_kw}
        if self.v2g:
            out[f"{self.name}_discharge_kw"] = self.discharge_kw
        return out

    def end_state(self) -> np.ndarray:
        """Energy each session of the horizon holds after the span [kWh]."""
        return self.held_kwh


class EVFleetOperation:
    """Its rolling-window inputs, plan, real-time rule and settlement hold."""

    def in_windows(self, asset: Any) -> bool:
        """A fleet is planned in every window, its sessions carried across them."""
        return True

    def initial_state(self, asset: Any, horizon: Horizon) -> np.ndarray:
        """No session has been given energy yet [kWh]."""
        return np.zeros(len(asset.series["session_energy_kwh"]))

    def window_import_price_cny_per_kwh(
        self, asset: Any, scenario: Any, start: int, stop: int
    ) -> float:
        """A fleet adds nothing to the import price."""
        return 0.0

    def window(self, asset: Any, state: np.ndarray, window: Window) -> Any:
        """The sessions in the window with the energy they still need
        (:func:`window_series`)."""
        series = window_series(
            asset.spec, asset.series, window.start, window.stop, state, window.horizon.step_h
        )
        return dataclasses.replace(asset, series=series)

    def plan_columns(self, block: Any, asset: Any, values: Any) -> dict[str, np.ndarray]:
        """The fleet's planned charge (and discharge) [kW]; with the per-vehicle model
        also each session's (``<name>_session_charge_kw``, a (session, step) array
        [kW]) and the sessions' horizon indices (``<name>_session_index``)."""
        name = asset.name
        plan = {f"{name}_charge_kw": values(block.charge_kw)}
        if asset.spec.v2g:
            plan[f"{name}_discharge_kw"] = values(block.discharge_kw)
        if hasattr(block, "ST"):
            n, n_sessions = len(plan[f"{name}_charge_kw"]), len(asset.series["session_index"])
            plan[f"{name}_session_index"] = asset.series["session_index"]
            plan[f"{name}_session_charge_kw"] = session_plan(
                block, block.session_charge_kw, n_sessions, n, values
            )
            if asset.spec.v2g:
                plan[f"{name}_session_discharge_kw"] = session_plan(
                    block, block.session_discharge_kw, n_sessions, n, values
                )
        return plan

    def operated_columns(self, asset: Any, n: int) -> dict[str, np.ndarray]:
        """Settled charge (and discharge, V2G) of the fleet [kW]."""
        out = {f"{asset.name}_charge_kw": np.zeros(n)}
        if asset.spec.v2g:
            out[f"{asset.name}_discharge_kw"] = np.zeros(n)
        return out

    def controller(self, asset: Any, state: np.ndarray, applied: Applied) -> EVController:
        """Each session follows the schedule within its limits (:class:`EVController`)."""
        return EVController(asset, state, applied)

    def carry(self, asset: Any, state: np.ndarray, controller: EVController) -> np.ndarray:
        """The energy each session holds after the span [kWh]."""
        return controller.end_state()

    def hold(self, block: Any, asset: Any, columns: dict[str, np.ndarray]) -> None:
        """The fleet's charge (and discharge) held as settled; the sessions share it as
        the model finds. Energy not delivered by departure: priced as unmet where the
        fleet prices it; otherwise the energy due is no longer required (and the
        envelope's lower bounds are dropped) so that the operated year can be settled.

        The energy due is no upper bound either: a session that runs past the horizon's
        end is clipped to it with its energy scaled to the time inside, while the
        operation (a park backtest plans past the end) may have given it more by then.
        """
        hold_at(block.charge_kw, columns[f"{asset.name}_charge_kw"])
        if asset.spec.v2g:
            hold_at(block.discharge_kw, columns[f"{asset.name}_discharge_kw"])
        priced = hasattr(block, "unmet_kwh")
        if hasattr(block, "energy_due"):
            for con in block.energy_due.values():
                if priced:
                    con.set_value((con.lower, con.body, None))
                else:
                    con.deactivate()
        for name in ("energy_kwh", "session_energy_kwh"):
            for v in getattr(block, name, {}).values() if hasattr(block, name) else ():
                if not priced and name == "energy_kwh":
                    v.setlb(None)
                v.setub(None)

    def final_shortfall(
        self, asset: Any, final_kwh: Any, price_cny_per_kwh: float
    ) -> dict[str, Any] | None:
        """The energy its sessions lacked at departure, operated (the real-time rule may
        give less than a session needs, e.g. an envelope plan no vehicle split can follow)
        [kWh]; None when every session got its energy. Valued at 0 CNY here: where the
        fleet prices unmet energy the settlement's bill has it already."""
        held = final_kwh.get(asset.name)
        if held is None:
            return None
        series = asset.series
        due = np.asarray(series["session_energy_kwh"], float)
        short = np.maximum(0.0, due - np.asarray(held, float))
        bad = np.flatnonzero(short > SHORTFALL_TOL_KWH)
        if bad.size == 0:
            return None
        end = np.asarray(series["session_end_step"])
        first = int(bad[np.argmin(end[bad])])
        return {
            "shortfall_kwh": float(short[bad].sum()),
            "sessions_short": int(bad.size),
            "first_vehicle": str(series["session_vehicle"][first]),
            "first_departure": str(series["session_departure"][first]),
            "first_shortfall_kwh": float(short[first]),
            "value_cny": 0.0,
        }

    def measured_state(self, entry: Any) -> None:
        """The daily job reads no state of charge for a fleet (its sessions are read by
        :meth:`measured_given_kwh`)."""
        return None

    def measured_given_kwh(
        self, asset: Any, state: np.ndarray, delivered_kwh: dict[str, float]
    ) -> tuple[np.ndarray, list[str]]:
        """The state with the measured energy of the sessions connected at the horizon's
        start (the daily job's ``now``) [kWh], and the vehicles measured but not connected.

        ``delivered_kwh`` maps a session's ``vehicle`` to the energy given to it so far
        (all its ``count`` vehicles) [kWh]. Its state is what makes the energy it still
        needs in the horizon the rest of its whole energy: held = due in the horizon -
        max(0, whole energy - delivered) (negative when it is behind its share so far).
        """
        from vpp.assets.ev_fleet.sessions import read_sessions

        series = asset.series
        state = np.array(state, dtype=float)
        if not delivered_kwh:
            return state, []
        lines = {s.line: s for s in read_sessions(asset.spec, f"ev fleet '{asset.name}'")}
        connected = {
            str(series["session_vehicle"][s]): s
            for s in np.flatnonzero(np.asarray(series["session_first_step"]) == 0).tolist()
        }
        unmatched = []
        for vehicle, given in delivered_kwh.items():
            s = connected.get(vehicle)
            if s is None:
                unmatched.append(vehicle)
                continue
            sess = lines[int(series["session_line"][s])]
            whole = sess.energy_kwh * sess.count
            state[s] = float(series["session_energy_kwh"][s]) - max(0.0, whole - given)
        return state, unmatched

    def with_forecasts(self, asset: Any, forecasts: dict[str, Any], state: float | None) -> Any:
        """Its sessions are declared: the input as it is."""
        return asset
