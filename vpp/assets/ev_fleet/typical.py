r"""An EV fleet's block on typical days (:mod:`vpp.planning.typical`).

The block built on the typical days laid end to end is replaced by the sessions of the
days each typical day stands for, folded onto it (representation:
:mod:`vpp.assets.typical_windows`):

* each session is cut into **pieces** of at most one day of steps from its arrival
  (a session of 60 h: two pieces of 24 h and one of 12 h); a piece owes the share of
  the session's energy that its connected time bears to the session's, and belongs to
  the day of its first step;
* a piece is **folded onto the clock of its day**, closed on the day
  (:func:`vpp.assets.typical_windows.folded_steps`): a session from 18:00 to 07:00 is,
  on the typical day, connected from 18:00 to 24:00 and from 00:00 to 07:00 of the same
  day, in that order;
* typical day :math:`k` holds every piece of the :math:`w_k` days it stands for, each
  with its energy and power divided by :math:`w_k`: the fleet of the mean day. Weighted
  by :math:`w_k` the year's energy is exact.

Equations, per piece :math:`p` (steps :math:`\tau_{p,0..L_p-1}` in order, connected
fractions :math:`a_{p,i}`, energy :math:`E_p / w_k`, power :math:`\bar P_p / w_k`),
as the per-vehicle model (:meth:`vpp.assets.ev_fleet.block.EVFleetBlock.build`):

.. math::

    0 \le c_{p,i} \le a_{p,i} \bar P_p / w_k, \qquad C_t = \sum_{(p,i): \tau_{p,i} = t}
    c_{p,i}, \qquad \sum_i \eta^{ch} c_{p,i} \Delta t + u_p = E_p / w_k

with V2G the piece's state :math:`e_{p,i+1} = e_{p,i} + (\eta^{ch} c_{p,i} -
d_{p,i}/\eta^{dis})\Delta t`, :math:`e_{p,0} = 0`, :math:`0 \le e_{p,i} \le E_p/w_k`,
:math:`e_{p,L_p} + u_p = E_p / w_k`; :math:`u_p` (priced unmet energy) enters
:math:`U_t` at the piece's last step.

**Approximations** (said in a note of the sizing): the fleet of a typical day is the
mean of its days' fleets (a demand peak its charging sets on one day is spread over
the days it stands for); a session across midnight is closed on its arrival day; a
session longer than a day owes each day's piece its share of the energy (it cannot move
energy between its days), and with V2G each piece starts empty. The fleet is modelled
per vehicle on typical days whatever its ``model`` (the pieces of a typical day are as
many as the sessions of its days, so the model is no smaller than the full horizon's
per-vehicle model in sessions, only in the other blocks). With a typical day per day and
sessions inside a day, the rows are those of the full per-vehicle model (exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.ev_fleet.block import session_steps, unmet_price_cny_per_kwh
from vpp.assets.storage import StorageDynamics, add_storage_balance
from vpp.assets.typical_days import Aggregation
from vpp.assets.typical_windows import folded_steps
from vpp.model.blocks.contract import linear, linear_sum

#: The block's components a typical day keeps (the bus and the objective hold them).
KEPT = ("charge_kw", "discharge_kw", "net_kw", "cost_cny")


@dataclass(frozen=True)
class Pieces:
    """The folded pieces of a fleet on the typical days laid end to end.

    ``steps[p]`` (typical steps, in order) and ``frac[p]`` [-] per piece; ``energy_kwh``,
    ``charge_kw``, ``discharge_kw`` per piece, already divided by :math:`w_k`;
    ``split`` the sessions longer than a day, ``crossing`` those across midnight [-].
    """

    steps: list[np.ndarray]
    frac: list[np.ndarray]
    energy_kwh: np.ndarray
    charge_kw: np.ndarray
    discharge_kw: np.ndarray
    split: int
    crossing: int


def folded_pieces(series: dict[str, np.ndarray], agg: Aggregation) -> Pieces:
    """Cut, fold and scale the fleet's sessions onto the typical days (module docstring)."""
    s = agg.steps_per_day
    weights = agg.weights
    steps, fracs, energy, p_ch, p_dis = [], [], [], [], []
    split = crossing = 0
    for n in range(len(series["session_energy_kwh"])):
        all_steps, frac = session_steps(series, n)
        total = float(frac.sum())
        split += int(all_steps.size > s)
        crossing += int(all_steps[0] // s != all_steps[-1] // s)
        for j in range(0, all_steps.size, s):
            chunk, f = all_steps[j : j + s], frac[j : j + s]
            day, pos = folded_steps(int(chunk[0]), int(chunk[-1]) + 1, s)
            k = int(agg.order[day])
            w = float(weights[k])
            share = float(f.sum()) / total if total > 0 else 0.0
            steps.append(pos + k * s)
            fracs.append(f)
            energy.append(float(series["session_energy_kwh"][n]) * share / w)
            p_ch.append(float(series["session_charge_kw"][n]) / w)
            p_dis.append(float(series["session_discharge_kw"][n]) / w)
    return Pieces(steps, fracs, np.array(energy), np.array(p_ch), np.array(p_dis), split, crossing)


def relink_sessions(block: Any, asset: Any, horizon: Any, agg: Aggregation) -> str | None:
    """Replace the fleet's rows by its folded pieces (module docstring).

    Returns
    -------
    str or None
        The note of the approximation made, None when the rows are exact.
    """
    fleet = asset.spec
    m = block.model()
    n = len(m.T)
    dt_h = horizon.step_h
    pieces = folded_pieces(asset.series, agg)
    for component in list(block.component_objects(descend_into=False)):
        if component.local_name not in KEPT:
            block.del_component(component)
    pairs = [(p, i) for p, q in enumerate(pieces.steps) for i in range(len(q))]
    ub_ch = {(p, i): float(pieces.charge_kw[p] * pieces.frac[p][i]) for p, i in pairs}
    members: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for p, i in pairs:
        members[int(pieces.steps[p][i])].append((p, i))
    block.PI = pyo.Set(initialize=pairs, dimen=2, ordered=True)
    block.piece_charge_kw = pyo.Var(block.PI, bounds=lambda b, p, i: (0.0, ub_ch[p, i]))
    max_charge = [sum(ub_ch[x] for x in members[t]) for t in range(n)]
    for t in range(n):
        block.charge_kw[t].setub(max_charge[t])
    busy = [t for t in range(n) if members[t]]
    block.charge_sum = pyo.Constraint(
        busy,
        rule=lambda b, t: (
            0.0,
            linear(
                [1.0] + [-1.0] * len(members[t]),
                [b.charge_kw[t]] + [b.piece_charge_kw[x] for x in members[t]],
            ),
            0.0,
        ),
    )
    price = unmet_price_cny_per_kwh(fleet, False)
    due = pieces.energy_kwh
    n_pieces = len(pieces.steps)
    if price is not None:
        block.shortfall_kwh = pyo.Var(range(n_pieces), bounds=lambda b, p: (0.0, float(due[p])))
        ends: list[list[int]] = [[] for _ in range(n)]
        for p, q in enumerate(pieces.steps):
            ends[int(q[-1])].append(p)
        block.unmet_kwh = pyo.Var(m.T, bounds=(0.0, None))
        block.unmet_sum = pyo.Constraint(
            m.T,
            rule=lambda b, t: (
                0.0,
                linear(
                    [1.0] + [-1.0] * len(ends[t]),
                    [b.unmet_kwh[t]] + [b.shortfall_kwh[p] for p in ends[t]],
                ),
                0.0,
            ),
        )
    if fleet.v2g:
        _v2g_pieces(block, fleet, pieces, pairs, members, dt_h, price is not None)
    else:
        gain = fleet.charge_efficiency * dt_h

        def _due(b: Any, p: int) -> Any:
            variables = [b.piece_charge_kw[p, i] for i in range(len(pieces.steps[p]))]
            coefs = [gain] * len(variables)
            if price is not None:
                variables.append(b.shortfall_kwh[p])
                coefs.append(1.0)
            return (float(due[p]), linear(coefs, variables), float(due[p]))

        block.energy_due = pyo.Constraint(range(n_pieces), rule=_due)
    cost: Any = 0.0
    if fleet.v2g and fleet.degradation_cost_cny_per_kwh > 0.0:
        cost = linear_sum(fleet.degradation_cost_cny_per_kwh * dt_h, block.discharge_kw)
    if price is not None:
        cost = cost + linear_sum(price, block.unmet_kwh)
    block.cost_cny.set_value(cost)
    return _note(fleet, agg, pieces)


def _v2g_pieces(
    block: Any,
    fleet: Any,
    pieces: Pieces,
    pairs: list[tuple[int, int]],
    members: list[list[tuple[int, int]]],
    dt_h: float,
    with_unmet: bool,
) -> None:
    """The pieces' discharge and state rows (module docstring)."""
    ub_dis = {(p, i): float(pieces.discharge_kw[p] * pieces.frac[p][i]) for p, i in pairs}
    block.piece_discharge_kw = pyo.Var(block.PI, bounds=lambda b, p, i: (0.0, ub_dis[p, i]))
    for t, xs in enumerate(members):
        block.discharge_kw[t].setub(sum(ub_dis[x] for x in xs))
    due = pieces.energy_kwh
    points = [(p, i) for p, q in enumerate(pieces.steps) for i in range(len(q) + 1)]
    block.PK = pyo.Set(initialize=points, dimen=2, ordered=True)
    block.piece_energy_kwh = pyo.Var(
        block.PK, bounds=lambda b, p, i: (0.0, 0.0 if i == 0 else float(due[p]))
    )
    busy = [t for t, xs in enumerate(members) if xs]
    block.discharge_sum = pyo.Constraint(
        busy,
        rule=lambda b, t: (
            0.0,
            linear(
                [1.0] + [-1.0] * len(members[t]),
                [b.discharge_kw[t]] + [b.piece_discharge_kw[x] for x in members[t]],
            ),
            0.0,
        ),
    )
    add_storage_balance(
        block,
        "piece_balance",
        block.PI,
        StorageDynamics(dt_h, fleet.charge_efficiency, fleet.discharge_efficiency),
        block.piece_energy_kwh,
        block.piece_charge_kw,
        block.piece_discharge_kw,
    )

    def _due(b: Any, p: int) -> Any:
        last = b.piece_energy_kwh[p, len(pieces.steps[p])]
        if with_unmet:
            return (float(due[p]), linear([1.0, 1.0], [last, b.shortfall_kwh[p]]), float(due[p]))
        return (float(due[p]), linear([1.0], [last]), float(due[p]))

    block.energy_due = pyo.Constraint(range(len(pieces.steps)), rule=_due)


def _note(fleet: Any, agg: Aggregation, pieces: Pieces) -> str | None:
    """The note of the approximation made, None when exact (a typical day per day,
    no session across midnight)."""
    if pieces.split == 0 and pieces.crossing == 0 and agg.weights.max() <= 1.0:
        return None
    parts = ["the fleet of each typical day is the mean of the sessions of the days it stands for"]
    if pieces.crossing:
        parts.append(f"{pieces.crossing} session(s) across midnight closed on their arrival day")
    if pieces.split:
        parts.append(f"{pieces.split} session(s) longer than a day cut into day pieces")
    return f"EV fleet '{fleet.name}' on typical days, per vehicle: " + "; ".join(parts)


class EVFleetTypical:
    """The fleet's ``typical_days`` capability (:func:`relink_sessions`)."""

    def typical_days(self, block: Any, asset: Any, horizon: Any, days: Any) -> str | None:
        """The fleet's folded sessions in place of its rows (module docstring); returns
        the note of the approximation (None when exact)."""
        return relink_sessions(block, asset, horizon, days)
