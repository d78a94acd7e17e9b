"""The rows of a deferrable load's runs, on window occurrences given as ordered steps.

:meth:`vpp.assets.deferrable.block.DeferrableBlock.build` (its docstring states the
equations) calls :func:`add_runs` with the occurrences of the horizon (consecutive
steps, power at full scale); :mod:`vpp.assets.deferrable.typical` with one window per
typical day closed on the day (its steps in the order a run goes through them) and the
share of the days it stands for that run. "The step before" is the one before in the
occurrence's order, not on the horizon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Carried:
    """What an occurrence carries into a rolling window (:mod:`.operation`).

    Attributes
    ----------
    need_steps : int
        Steps it must still be on, :math:`N - n^{done}_k` [steps].
    starts_left : int
        Starts it may still make, :math:`S - s^{done}_k` [-].
    prior_run_steps : int
        Steps of the run under way at its first step in the window, :math:`r_k`
        (0: off before it) [steps].
    """

    need_steps: int
    starts_left: int
    prior_run_steps: int = 0


class Flags:
    """On or start flags of a block's steps, then of the steps after the model's last one
    (``block.on_after``, ``block.start_after``), by one step number [-]."""

    def __init__(self, head: Any, tail: Any, n: int) -> None:
        self.head, self.tail, self.n = head, tail, n

    def __getitem__(self, t: int) -> Any:
        return self.head[t] if t < self.n else self.tail[t - self.n]


def add_runs(
    block: Any,
    flex: Any,
    runs: list[np.ndarray],
    scale: list[float],
    dt_h: float,
    *,
    elastic: bool = False,
    carried: Sequence[Carried] | None = None,
    extra_steps: int = 0,
) -> None:
    """Add ``on``, ``start``, ``power_kw`` (when missing) and every row of the runs.

    Parameters
    ----------
    block : pyomo Block
        The load's block (its model's steps ``T``).
    flex : DeferrableLoad
        The scenario entry.
    runs : list of numpy.ndarray
        Per occurrence :math:`k`, its steps in order [-]; steps from ``len(T)`` on are
        steps after the model's last one (``extra_steps``).
    scale : list of float
        Per occurrence, :math:`f_k`: its power (and start cost) is :math:`f_k` times the
        load's (1 on the horizon) [-].
    dt_h : float
        :math:`\\Delta t` [h].
    elastic : bool
        Add ``shortfall_steps`` (the diagnosis).
    carried : sequence of Carried, optional
        Per occurrence, what it carries into a rolling window (default: nothing run,
        no run under way: :math:`N` steps, :math:`S` starts).
    extra_steps : int
        On and start flags of the steps after the model's last one (``on_after``,
        ``start_after``), without power or bus: the rest of an occurrence a rolling
        window cuts [steps].
    """
    m = block.model()
    n = len(m.T)
    total = n + int(extra_steps)
    n_run, shortest, longest = run_steps(flex, dt_h)
    if carried is None:
        carried = [Carried(n_run, int(flex.starts))] * len(runs)
    p_max = float(flex.power_kw)
    p_min = p_max if flex.min_power_kw is None else float(flex.min_power_kw)
    on_lb, on_ub, start_ub = np.zeros(total), np.zeros(total), np.zeros(total)
    p_ub, f_of = np.zeros(total), np.zeros(total)
    for steps, f, c in zip(runs, scale, carried):
        on_ub[steps] = 1.0
        start_ub[steps[: max(0, len(steps) - shortest + 1)]] = 1.0
        p_ub[steps] = f * p_max
        f_of[steps] = f
        if c.prior_run_steps > 0 and len(steps):
            start_ub[steps[0]] = 0.0  # the run under way goes on: no start there
            on_lb[steps[: max(0, shortest - c.prior_run_steps)]] = 1.0
    bounds = {"on": (on_lb.tolist(), on_ub.tolist()), "start": ([0.0] * total, start_ub.tolist())}
    block.on = pyo.Var(
        m.T, domain=pyo.Binary, bounds=lambda b, t: (bounds["on"][0][t], bounds["on"][1][t])
    )
    block.start = pyo.Var(
        m.T,
        domain=pyo.Binary,
        bounds=lambda b, t: (bounds["start"][0][t], bounds["start"][1][t]),
    )
    if extra_steps:  # the steps after the model's last one: flags only
        block.on_after = pyo.Var(
            range(extra_steps),
            domain=pyo.Binary,
            bounds=lambda b, j: (bounds["on"][0][n + j], bounds["on"][1][n + j]),
        )
        block.start_after = pyo.Var(
            range(extra_steps),
            domain=pyo.Binary,
            bounds=lambda b, j: (bounds["start"][0][n + j], bounds["start"][1][n + j]),
        )
    if not hasattr(block, "power_kw"):
        block.power_kw = pyo.Var(m.T, bounds=(0.0, None))
    for t in range(n):
        block.power_kw[t].setlb(0.0)
        block.power_kw[t].setub(float(p_ub[t]))
    power = block.power_kw
    on = Flags(block.on, getattr(block, "on_after", None), n)
    start = Flags(block.start, getattr(block, "start_after", None), n)
    inside = [int(t) for steps in runs for t in steps if t < n]
    block.power_max = pyo.Constraint(
        inside, rule=lambda b, t: linear([1.0, -f_of[t] * p_max], [power[t], on[t]]) <= 0.0
    )
    block.power_min = pyo.Constraint(
        inside, rule=lambda b, t: linear([1.0, -f_of[t] * p_min], [power[t], on[t]]) >= 0.0
    )
    # (step, the step before it in its occurrence) for every step but the first
    pairs = [(int(q[i]), int(q[i - 1])) for q in runs for i in range(1, len(q))]
    block.start_first = pyo.Constraint(
        [int(q[0]) for q, c in zip(runs, carried) if len(q) and c.prior_run_steps == 0],
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
    spans = [(q[i : i + longest + 1], longest) for q in runs for i in range(len(q) - longest)]
    for q, c in zip(runs, carried):  # the run under way: r steps on before the window
        if 0 < c.prior_run_steps and longest - c.prior_run_steps + 1 <= len(q):
            spans.append((q[: longest - c.prior_run_steps + 1], longest - c.prior_run_steps))
    if spans:
        block.max_run = pyo.Constraint(
            range(len(spans)),
            rule=lambda b, i: (
                linear_sum(1.0, [on[int(j)] for j in spans[i][0]]) <= float(spans[i][1])
            ),
        )
    count = len(runs)
    block.K = pyo.RangeSet(0, count - 1) if count else pyo.Set(initialize=[])
    need = [float(c.need_steps) for c in carried]
    if elastic:
        block.shortfall_steps = pyo.Var(block.K, bounds=lambda b, k: (0.0, need[k]))

    def _total(b: Any, k: int) -> Any:
        body = linear_sum(1.0, [on[int(t)] for t in runs[k]])
        if elastic:
            body = body + b.shortfall_steps[k]
        return body == need[k]

    block.run_total = pyo.Constraint(block.K, rule=_total)
    block.start_count = pyo.Constraint(
        block.K,
        rule=lambda b, k: (
            linear_sum(1.0, [start[int(t)] for t in runs[k]]) <= float(carried[k].starts_left)
        ),
    )
    cost: Any = 0.0
    if flex.start_cost_cny:
        cost = linear(
            (float(flex.start_cost_cny) * f_of).tolist(), [start[t] for t in range(total)]
        )
    if elastic:
        penalty = SHORTFALL_POWER_SHARE * ELASTIC_PENALTY_CNY_PER_KWH * p_max * dt_h
        cost = cost + linear_sum(penalty, block.shortfall_steps)
    if hasattr(block, "cost_cny"):
        block.cost_cny.set_value(cost)
    else:
        block.cost_cny = pyo.Expression(expr=cost)


def window_runs(
    series: dict[str, np.ndarray], n: int
) -> tuple[list[np.ndarray], list[Carried] | None, int]:
    """The occurrences of a block's input series: their steps in order (those after the
    model's ``n`` steps numbered from ``n`` on), what each carries, and how many steps
    lie after the model's last one.

    ``window_id`` (per step, -1 outside) gives the occurrences; a rolling window's input
    (:mod:`vpp.assets.deferrable.operation`) adds per occurrence ``need_steps``,
    ``starts_left``, ``prior_run_steps`` and ``after_steps`` (its steps after the
    window's last one) [steps]; without them nothing is carried (a perfect run).
    """
    window_id = np.asarray(series["window_id"], dtype=int)
    count = int(window_id.max()) + 1 if window_id.size else 0
    runs = [np.flatnonzero(window_id == k) for k in range(count)]
    if "need_steps" not in series:
        return runs, None, 0
    after = np.asarray(series["after_steps"], dtype=int)
    extra = 0
    for k in range(count):
        if after[k] > 0:
            runs[k] = np.concatenate([runs[k], n + extra + np.arange(after[k])])
            extra += int(after[k])
    carried = [
        Carried(int(need), int(starts), int(prior))
        for need, starts, prior in zip(
            series["need_steps"], series["starts_left"], series["prior_run_steps"]
        )
    ]
    return runs, carried, extra
