"""EV fleet block: charging sessions with energy due by departure, optionally V2G.

Two formulations of the same fleet (the scenario's ``model`` picks one, see
:func:`uses_per_vehicle`):

- **per vehicle**: one charge (and discharge) variable per session and connected step;
  exact, but grows with the number of sessions;
- **envelope**: one aggregate charge (and discharge) variable per step and bounds on
  the fleet's cumulative energy; its size does not depend on the number of sessions.

The series come from :func:`vpp.assets.ev_fleet.sessions.ev_fleet_series`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.opt_outs import RebuiltEachWindow
from vpp.assets.sizing import NotSized
from vpp.assets.storage import StorageDynamics, add_storage_balance
from vpp.errors import Problem
from vpp.model.blocks.contract import (
    DIAGNOSIS_TOL,
    ELASTIC_PENALTY_CNY_PER_KWH,
    LinearPort,
    linear,
    linear_sum,
)


def uses_per_vehicle(fleet: Any, n_sessions: int) -> bool:
    """Whether ``fleet`` is built per vehicle (else as an envelope) with ``n_sessions``."""
    if fleet.model == "per_vehicle":
        return True
    return fleet.model == "auto" and n_sessions <= fleet.auto_max_sessions


def session_steps(series: dict[str, np.ndarray], s: int) -> tuple[np.ndarray, np.ndarray]:
    """The steps of session ``s`` and its connected fraction of each step [-]."""
    lo, hi = int(series["session_first_step"][s]), int(series["session_end_step"][s])
    frac = np.ones(hi - lo)
    if hi > lo:
        frac[0] = series["session_first_fraction"][s]
        frac[-1] = series["session_last_fraction"][s]
    return np.arange(lo, hi), frac


def unmet_price_cny_per_kwh(fleet: Any, elastic: bool) -> float | None:
    """The price of undelivered energy: the fleet's when priced, the elastic penalty when
    diagnosing, None when there is no unmet variable."""
    if fleet.unmet == "priced":
        return float(fleet.unmet_cost_cny_per_kwh)
    return ELASTIC_PENALTY_CNY_PER_KWH if elastic else None


def _per_vehicle(
    block: Any, asset: Any, horizon: Any, series: dict[str, np.ndarray], with_unmet: bool
) -> None:
    """The per-vehicle equations of :meth:`EVFleetBlock.build`."""
    m = block.model()
    dt_h = horizon.step_h
    gain = asset.charge_efficiency * dt_h
    energy = np.asarray(series["session_energy_kwh"], float)
    p_ch = np.asarray(series["session_charge_kw"], float)
    p_dis = np.asarray(series["session_discharge_kw"], float)
    n_sessions = len(energy)
    pairs: list[tuple[int, int]] = []
    ub_ch: dict[tuple[int, int], float] = {}
    ub_dis: dict[tuple[int, int], float] = {}
    members: list[list[int]] = [[] for _ in range(horizon.n)]
    ends: list[list[int]] = [[] for _ in range(horizon.n)]
    windows: list[tuple[int, int]] = []
    for s in range(n_sessions):
        steps, frac = session_steps(series, s)
        windows.append((int(steps[0]), int(steps[-1]) + 1))
        ends[int(steps[-1])].append(s)
        for t, f in zip(steps.tolist(), frac.tolist()):
            pairs.append((s, t))
            ub_ch[s, t] = float(p_ch[s] * f)
            ub_dis[s, t] = float(p_dis[s] * f)
            members[t].append(s)
    block.S = pyo.RangeSet(0, n_sessions - 1)
    block.ST = pyo.Set(initialize=pairs, dimen=2, ordered=True)
    block.session_charge_kw = pyo.Var(block.ST, bounds=lambda b, s, t: (0.0, ub_ch[s, t]))
    block.charge_sum = pyo.Constraint(
        [t for t in range(horizon.n) if members[t]],
        rule=lambda b, t: (
            0.0,
            linear(
                [1.0] + [-1.0] * len(members[t]),
                [b.charge_kw[t]] + [b.session_charge_kw[s, t] for s in members[t]],
            ),
            0.0,
        ),
    )
    if with_unmet:
        block.shortfall_kwh = pyo.Var(block.S, bounds=lambda b, s: (0.0, float(energy[s])))
        due_at = [float(sum(energy[s] for s in ends[t])) for t in range(horizon.n)]
        block.unmet_kwh = pyo.Var(m.T, bounds=lambda b, t: (0.0, due_at[t]))
        block.unmet_sum = pyo.Constraint(
            [t for t in range(horizon.n) if ends[t]],
            rule=lambda b, t: (
                0.0,
                linear(
                    [1.0] + [-1.0] * len(ends[t]),
                    [b.unmet_kwh[t]] + [b.shortfall_kwh[s] for s in ends[t]],
                ),
                0.0,
            ),
        )
    if not asset.v2g:

        def _due(b: Any, s: int) -> Any:
            lo, hi = windows[s]
            variables = [b.session_charge_kw[s, t] for t in range(lo, hi)]
            coefs = [gain] * len(variables)
            if with_unmet:
                variables.append(b.shortfall_kwh[s])
                coefs.append(1.0)
            return (float(energy[s]), linear(coefs, variables), float(energy[s]))

        block.energy_due = pyo.Constraint(block.S, rule=_due)
        return
    points = [(s, k) for s, (lo, hi) in enumerate(windows) for k in range(lo, hi + 1)]
    block.SK = pyo.Set(initialize=points, dimen=2, ordered=True)
    block.session_discharge_kw = pyo.Var(block.ST, bounds=lambda b, s, t: (0.0, ub_dis[s, t]))
    block.session_energy_kwh = pyo.Var(
        block.SK,
        bounds=lambda b, s, k: (0.0, 0.0 if k == windows[s][0] else float(energy[s])),
    )
    block.discharge_sum = pyo.Constraint(
        [t for t in range(horizon.n) if members[t]],
        rule=lambda b, t: (
            0.0,
            linear(
                [1.0] + [-1.0] * len(members[t]),
                [b.discharge_kw[t]] + [b.session_discharge_kw[s, t] for s in members[t]],
            ),
            0.0,
        ),
    )
    add_storage_balance(
        block,
        "session_balance",
        block.ST,
        StorageDynamics(dt_h, asset.charge_efficiency, asset.discharge_efficiency),
        block.session_energy_kwh,
        block.session_charge_kw,
        block.session_discharge_kw,
    )

    def _due_v2g(b: Any, s: int) -> Any:
        hi = windows[s][1]
        if with_unmet:
            body = linear([1.0, 1.0], [b.session_energy_kwh[s, hi], b.shortfall_kwh[s]])
        else:
            body = linear([1.0], [b.session_energy_kwh[s, hi]])
        return (float(energy[s]), body, float(energy[s]))

    block.energy_due = pyo.Constraint(block.S, rule=_due_v2g)


def _envelope(
    block: Any, asset: Any, horizon: Any, series: dict[str, np.ndarray], with_unmet: bool
) -> None:
    """The envelope equations of :meth:`EVFleetBlock.build`."""
    m = block.model()
    dt_h = horizon.step_h
    e_min = np.asarray(series["energy_min_kwh"], float).tolist()
    e_max = np.asarray(series["energy_max_kwh"], float).tolist()
    block.energy_kwh = pyo.Var(m.T0, bounds=lambda b, k: (e_min[k], e_max[k]))
    if with_unmet:
        block.unmet_kwh = pyo.Var(m.T, bounds=(0.0, None))

    add_storage_balance(
        block,
        "energy_balance",
        m.T,
        StorageDynamics(dt_h, asset.charge_efficiency, asset.discharge_efficiency),
        block.energy_kwh,
        block.charge_kw,
        block.discharge_kw if asset.v2g else None,
        block.unmet_kwh if with_unmet else None,
    )


#: Shortfall below which a session counts as served in a diagnosis [kWh].
SHORTFALL_TOL_KWH = DIAGNOSIS_TOL


class EVFleetBlock(NotSized, RebuiltEachWindow):
    """Its Pyomo block, updater and signature; it is never sized (:class:`NotSized`).
    On typical days: :class:`vpp.assets.ev_fleet.typical.EVFleetTypical`."""

    def build(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> None:
        r"""Build an EV fleet.

        Common to both formulations, for every step :math:`t` (state points :math:`k`):

        .. math::

            0 \le C_t \le \bar C_t, \qquad 0 \le D_t \le \bar D_t \;(D \equiv 0
            \text{ without V2G})

            net_t = D_t - C_t, \qquad
            cost = \kappa \sum_t D_t \Delta t + \pi \sum_t U_t

        **Per vehicle** (sessions :math:`s`, connected fraction :math:`a_{s,t}` of step
        :math:`t`, steps :math:`W_s`):

        .. math::

            0 \le c_{s,t} \le a_{s,t} \bar P_s, \qquad C_t = \sum_{s: t \in W_s} c_{s,t}

            \text{charging only:}\quad \sum_{t \in W_s} \eta^{ch} c_{s,t} \Delta t + u_s = E_s

            \text{V2G:}\quad e_{s,t+1} = e_{s,t} + (\eta^{ch} c_{s,t} - d_{s,t}/\eta^{dis})
            \Delta t,\; e_{s,a_s} = 0,\; 0 \le e_{s,k} \le E_s,\; e_{s,b_s} + u_s = E_s

            0 \le d_{s,t} \le a_{s,t} \bar Q_s, \qquad D_t = \sum_s d_{s,t}, \qquad
            U_t = \sum_{s \text{ ends in } t} u_s

        A vehicle's arrival state is unknown; with V2G it may only give back energy charged
        in the same session (:math:`e \ge 0`) and holds at most what it needs
        (:math:`e \le E_s`).

        **Envelope** (cumulative energy :math:`\mathcal E_k` into the fleet, battery side):

        .. math::

            \mathcal E_{t+1} = \mathcal E_t + (\eta^{ch} C_t - D_t/\eta^{dis})\Delta t + U_t,
            \qquad \mathcal E_0 = 0, \qquad
            \underline{\mathcal E}_k \le \mathcal E_k \le \overline{\mathcal E}_k

        with the bounds of :func:`vpp.assets.ev_fleet.sessions.envelope_bounds`: the sum over
        sessions of the least energy session :math:`s` must hold at point :math:`k` to
        still reach :math:`E_s` by departure at full power, and of the most it can hold.

        ===========================  ======================  ===================================
        symbol                       attribute               meaning
        ===========================  ======================  ===================================
        :math:`C_t`, :math:`D_t`     ``charge_kw[t]``,       fleet charge / discharge, bus side
                                     ``discharge_kw[t]``     [kW]
        :math:`\bar C_t,\bar D_t`    series                  ``max_charge_kw``,
                                                             ``max_discharge_kw``: power of the
                                                             connected chargers [kW]
        :math:`c_{s,t}, d_{s,t}`     ``session_charge_kw``,  per session (per vehicle) [kW]
                                     ``session_discharge_kw``
        :math:`e_{s,k}`              ``session_energy_kwh``  energy given to session s [kWh]
        :math:`\mathcal E_k`         ``energy_kwh[k]``       cumulative fleet energy (envelope)
                                                             [kWh]
        :math:`E_s`, :math:`\bar P_s`  series                ``session_energy_kwh``,
                                                             ``session_charge_kw``,
                                                             ``session_discharge_kw``
                                                             (:math:`\bar Q_s`): due in the
                                                             horizon and power, x count
        :math:`u_s`, :math:`U_t`     ``shortfall_kwh[s]``,   energy not delivered by departure
                                     ``unmet_kwh[t]``        [kWh] (``unmet: priced``, or
                                                             elastic diagnosis)
        :math:`\eta^{ch},\eta^{dis}`  asset                  charge / discharge efficiency [-]
        :math:`\kappa`, :math:`\pi`  asset                   ``degradation_cost_cny_per_kwh``;
                                                             ``unmet_cost_cny_per_kwh`` or the
                                                             elastic penalty [CNY/kWh]
        ===========================  ======================  ===================================

        **Exactness of the envelope.** The envelope is a relaxation of the per-vehicle
        model: every per-vehicle schedule gives a feasible aggregate, so its optimal cost
        is never higher. Each session's charging profiles form a polymatroid base
        polytope and their Minkowski sum (the exact fleet) is bounded on *every* set of
        steps and of sessions; the envelope keeps only the sums of the per-session bounds
        on prefixes and suffixes of the horizon and on single steps. When the chargers
        never limit, these are the energy of the sessions arrived by :math:`k` and departed
        by :math:`k`, and any feasible aggregate splits into vehicles by earliest departure
        first: the envelope is exact. With tight chargers and staggered windows it is not:
        one vehicle's early surplus can stand in for another's lower bound (for example
        :math:`\underline{\mathcal E}` met by a vehicle charged ahead while another that
        must charge almost all of its window idles), and the envelope cost is optimistic
        (in random 6-vehicle trials with tight chargers, by up to a few percent). With V2G
        it is looser still: discharge may come from energy credited to a vehicle that has
        left or that another vehicle still needs, and one vehicle may charge while another
        discharges.
        Unmet energy (:math:`U_t`) is credited to the fleet as a whole.
        """
        m = block.model()
        dt_h = horizon.step_h
        n_sessions = len(series["session_energy_kwh"])
        max_charge = np.asarray(series["max_charge_kw"], float).tolist()
        block.charge_kw = pyo.Var(m.T, bounds=lambda b, t: (0.0, max_charge[t]))
        terms = [(-1.0, block.charge_kw)]
        if asset.v2g:
            max_dis = np.asarray(series["max_discharge_kw"], float).tolist()
            block.discharge_kw = pyo.Var(m.T, bounds=lambda b, t: (0.0, max_dis[t]))
            terms.append((1.0, block.discharge_kw))
        price = unmet_price_cny_per_kwh(asset, elastic)
        ends = np.asarray(series["session_end_step"], dtype=np.int64)
        if ends.size and int(ends.max()) > horizon.n:
            # the sessions do not lie on these steps: a block built on typical days
            # gets its ports only, and its typical_days fills it (EVFleetTypical)
            pass
        elif uses_per_vehicle(asset, n_sessions):
            _per_vehicle(block, asset, horizon, series, price is not None)
        else:
            _envelope(block, asset, horizon, series, price is not None)
        block.net_kw = LinearPort(terms)
        cost: Any = 0.0
        if asset.v2g and asset.degradation_cost_cny_per_kwh > 0.0:
            cost = linear_sum(asset.degradation_cost_cny_per_kwh * dt_h, block.discharge_kw)
        if price is not None and hasattr(block, "unmet_kwh"):
            cost = cost + linear_sum(price, block.unmet_kwh)
        block.cost_cny = pyo.Expression(expr=cost)

    def explain_shortfall(
        self, block: Any, asset: Any, values: Callable[[Any], np.ndarray], horizon: Any
    ) -> list[Problem]:
        """Sessions short of their energy by departure, for a fleet whose unmet energy
        is infeasible (``unmet: infeasible``); empty otherwise."""
        if asset.spec.unmet != "infeasible":
            return []
        unmet = values(block.unmet_kwh)
        if unmet.sum() <= SHORTFALL_TOL_KWH:
            return []
        short = values(block.shortfall_kwh) if hasattr(block, "shortfall_kwh") else None
        return [ev_shortfall_problem(asset, unmet, short)]


def ev_shortfall_problem(asset: Any, unmet_kwh: np.ndarray, shortfall: Any) -> Problem:
    """Explain an EV fleet's undelivered energy in an elastic solve.

    Parameters
    ----------
    asset : AssetInput
        The fleet's block input.
    unmet_kwh : numpy.ndarray
        Energy not delivered per step [kWh] (``unmet_kwh`` of the block).
    shortfall : numpy.ndarray or None
        Per session [kWh] (per-vehicle model); None for the envelope.
    """
    series, fleet = asset.series, asset.spec
    energy = series["session_energy_kwh"]
    end = series["session_end_step"]
    if shortfall is not None:
        bad = np.flatnonzero(shortfall > SHORTFALL_TOL_KWH)
        first = int(bad[np.argmin(end[bad])])
        short = float(shortfall[first])
        count = f"{bad.size} session(s)"
    else:  # envelope: the earliest-departing session connected at the first bad step
        steps = np.flatnonzero(unmet_kwh > SHORTFALL_TOL_KWH)
        t = int(steps[0])
        open_at = np.flatnonzero((series["session_first_step"] <= t) & (end > t))
        first = int(open_at[np.argmin(end[open_at])]) if open_at.size else int(np.argmin(end))
        short = min(float(energy[first]), float(unmet_kwh.sum()))
        count = f"{float(unmet_kwh.sum()):.1f} kWh of its sessions (envelope model)"
    vehicle = series["session_vehicle"][first]
    departure = series["session_departure"][first]
    return Problem(
        f"EV fleet '{fleet.name}' cannot deliver the energy of {count}; first: vehicle "
        f"'{vehicle}' departing {departure} needs {energy[first]:.1f} kWh, at most "
        f"{energy[first] - short:.1f} kWh fits with the site's limits",
        file=str(fleet.sessions_file),
        key=f"site.ev_fleets '{fleet.name}', row {int(series['session_line'][first])}",
        timestamp=departure,
        value=f"energy_kwh {energy[first]:.1f}",
        fix="raise the import limit or the charger power, lower energy_kwh, or set "
        "unmet: priced with unmet_cost_cny_per_kwh",
    )
