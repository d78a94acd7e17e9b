"""The rows of a deferrable load's runs, on window occurrences given as ordered steps.

:meth:`vpp.assets.deferrable.block.DeferrableBlock.build` (its docstring states the
equations) calls :func:`add_runs` with the occurrences of the horizon (consecutive
steps, power at full scale); :mod:`vpp.assets.deferrable.typical` with one window per
typical day closed on the day (its steps in the order a run goes through them) and the
share of the days it stands for that run. "The step before" is the one before in the
occurrence's order, not on the horizon.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.model.blocks.contract import ELASTIC_PENALTY_CNY_PER_KWH, linear, linear_sum

#: In the elastic diagnosis, a step of a run not run costs as much as this share of the
#: load's power unserved at the bus [-]: a run that could go only with power unserved
#: (an import limit too low for it) is reported as the load that cannot run, not as the
#: bus; the penalty stays far above any energy price, so a run that fits is run.
SHORTFALL_POWER_SHARE = 0.1


def run_steps(flex: Any, step_h: float) -> tuple[int, int, int]:
    """Steps on per occurrence, shortest and longest run [steps] (whole numbers: the
    inputs checked them, :func:`vpp.assets.deferrable.rules.step_problems`)."""
    return (
        int(round(flex.run_h / step_h)),
        int(round(flex.shortest_run_h / step_h)),
        int(round(flex.longest_run_h / step_h)),
    )


def add_runs(
    block: Any,
    flex: Any,
    runs: list[np.ndarray],
    scale: list[float],
    dt_h: float,
    *,
    elastic: bool = False,
) -> None:
    """Add ``on``, ``start``, ``power_kw`` (when missing) and every row of the runs.

    Parameters
    ----------
    block : pyomo Block
        The load's block (its model's steps ``T``).
    flex : DeferrableLoad
        The scenario entry.
    runs : list of numpy.ndarray
        Per occurrence :math:`k`, its steps in order [-].
    scale : list of float
        Per occurrence, :math:`f_k`: its power (and start cost) is :math:`f_k` times the
        load's (1 on the horizon) [-].
    dt_h : float
        :math:`\\Delta t` [h].
    elastic : bool
        Add ``shortfall_steps`` (the diagnosis).
    """
    m = block.model()
    n = len(m.T)
    n_run, shortest, longest = run_steps(flex, dt_h)
    p_max = float(flex.power_kw)
    p_min = p_max if flex.min_power_kw is None else float(flex.min_power_kw)
    on_ub, start_ub, p_ub, f_of = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    for steps, f in zip(runs, scale):
        on_ub[steps] = 1.0
        start_ub[steps[: max(0, len(steps) - shortest + 1)]] = 1.0
        p_ub[steps] = f * p_max
        f_of[steps] = f
    ub = {"on": on_ub.tolist(), "start": start_ub.tolist()}
    block.on = pyo.Var(m.T, domain=pyo.Binary, bounds=lambda b, t: (0.0, ub["on"][t]))
    block.start = pyo.Var(m.T, domain=pyo.Binary, bounds=lambda b, t: (0.0, ub["start"][t]))
    if not hasattr(block, "power_kw"):
        block.power_kw = pyo.Var(m.T, bounds=(0.0, None))
    for t in range(n):
        block.power_kw[t].setlb(0.0)
        block.power_kw[t].setub(float(p_ub[t]))
    on, start, power = block.on, block.start, block.power_kw
    inside = [int(t) for steps in runs for t in steps]
    block.power_max = pyo.Constraint(
        inside, rule=lambda b, t: linear([1.0, -f_of[t] * p_max], [power[t], on[t]]) <= 0.0
    )
    block.power_min = pyo.Constraint(
        inside, rule=lambda b, t: linear([1.0, -f_of[t] * p_min], [power[t], on[t]]) >= 0.0
    )
    # (step, the step before it in its occurrence) for every step but the first
    pairs = [(int(q[i]), int(q[i - 1])) for q in runs for i in range(1, len(q))]
    block.start_first = pyo.Constraint(
        [int(q[0]) for q in runs if len(q)],
        rule=lambda b, t: linear([1.0, -1.0], [start[t], on[t]]) == 0.0,
    )
    block.start_up = pyo.Constraint(
        range(len(pairs)),
        rule=lambda b, i: (
            linear([1.0, -1.0, 1.0], [start[pairs[i][0]], on[pairs[i][0]], on[pairs[i][1]]]) >= 0.0
        ),
    )
    block.start_on = pyo.Constraint(
        range(len(pairs)),
        rule=lambda b, i: linear([1.0, -1.0], [start[pairs[i][0]], on[pairs[i][0]]]) <= 0.0,
    )
    block.start_off = pyo.Constraint(
        range(len(pairs)),
        rule=lambda b, i: linear([1.0, 1.0], [start[pairs[i][0]], on[pairs[i][1]]]) <= 1.0,
    )
    if shortest > 1:  # a run started within the last L steps keeps the load on
        up = [
            (q[max(0, i - shortest + 1) : i + 1], int(q[i])) for q in runs for i in range(1, len(q))
        ]
        block.min_run = pyo.Constraint(
            range(len(up)),
            rule=lambda b, i: (
                linear(
                    [1.0] * len(up[i][0]) + [-1.0],
                    [start[int(j)] for j in up[i][0]] + [on[up[i][1]]],
                )
                <= 0.0
            ),
        )
    spans = [q[i : i + longest + 1] for q in runs for i in range(len(q) - longest)]
    if spans:
        block.max_run = pyo.Constraint(
            range(len(spans)),
            rule=lambda b, i: linear_sum(1.0, [on[int(j)] for j in spans[i]]) <= float(longest),
        )
    count = len(runs)
    block.K = pyo.RangeSet(0, count - 1) if count else pyo.Set(initialize=[])
    if elastic:
        block.shortfall_steps = pyo.Var(block.K, bounds=(0.0, float(n_run)))

    def _total(b: Any, k: int) -> Any:
        body = linear_sum(1.0, [on[int(t)] for t in runs[k]])
        if elastic:
            body = body + b.shortfall_steps[k]
        return body == float(n_run)

    block.run_total = pyo.Constraint(block.K, rule=_total)
    block.start_count = pyo.Constraint(
        block.K,
        rule=lambda b, k: linear_sum(1.0, [start[int(t)] for t in runs[k]]) <= float(flex.starts),
    )
    cost: Any = 0.0
    if flex.start_cost_cny:
        cost = linear((float(flex.start_cost_cny) * f_of).tolist(), [start[t] for t in range(n)])
    if elastic:
        penalty = SHORTFALL_POWER_SHARE * ELASTIC_PENALTY_CNY_PER_KWH * p_max * dt_h
        cost = cost + linear_sum(penalty, block.shortfall_steps)
    if hasattr(block, "cost_cny"):
        block.cost_cny.set_value(cost)
    else:
        block.cost_cny = pyo.Expression(expr=cost)
