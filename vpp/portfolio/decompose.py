"""Solve a park by decomposition: sites apart, coordinated by prices (Dantzig-Wolfe).

The park LP (:mod:`vpp.portfolio.model`) couples its sites only through the shared
limit and the demand-response rows, both linear in each site's net import
:math:`n_s \\in \\mathbb{R}^T`. Dantzig-Wolfe decomposition keeps the coupling rows in a
small *master* LP over convex combinations of *proposals* (whole site schedules) and lets
each site price its own schedule:

.. math::

    \\min \\sum_{s,k} w_{sk} c_{sk} - \\sum_e \\rho_e o_e + M \\sum a
    \\quad \\text{s.t.} \\quad
    -\\bar L - a^-_t \\le \\sum_{s,k} w_{sk} n_{sk,t} \\le \\bar L + a^+_t,

    \\frac{1}{|W_e|}\\sum_{t \\in W_e} \\sum_{s,k} w_{sk} n_{sk,t} + o_e - a_e \\le B_e,
    \\qquad \\sum_k w_{sk} = 1, \\quad w \\ge 0

(valley-filling rows with the opposite signs). With the master's row duals :math:`y`,
site :math:`s` solves its own LP with its import priced :math:`-\\pi_t` more and its
export :math:`\\pi_t` less, :math:`\\pi_t = y^+_t + y^-_t + \\sum_e y_e [t \\in W_e] / |W_e|`,
and offers its schedule as a new column when its reduced cost
:math:`c_s(x) - \\pi^\\top n_s(x) - y^{conv}_s` is negative. Each iteration gives a lower
bound, the master's cost plus every site's (negative) reduced cost; the loop stops when
the gap to the master's cost is below ``tolerance_fraction`` of it. As every piece is an
LP this converges to the park optimum; each site's schedule is then the convex
combination of its proposals, feasible for the site (its feasible set is convex).

The artificial slacks :math:`a` (cost :math:`M`, :data:`PENALTY_CNY_PER_KWH` per kWh) make
the first masters feasible; if any is still used at the end, the park is infeasible.
Sites keep one compiled model each; between iterations only the costs of their import
and export columns change (warm-started dual simplex).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from vpp.errors import InfeasibleError, Problem, ScenarioError, SolverError
from vpp.model.solve import INF, SolveResult, compile_lp, quiet_highs, solve
from vpp.portfolio.model import build_park_model, exchange_block

#: Cost of the master's artificial slacks [CNY per kWh over the horizon].
PENALTY_CNY_PER_KWH = 1.0e4
#: Slack left at the end above which the park is infeasible [kW].
SLACK_TOL_KW = 1e-6


class _Site:
    """One site's compiled LP and the positions of its import and export columns."""

    def __init__(self, name: str, site_inputs: Any, horizon: Any):
        self.name = name
        self.model = build_park_model({name: site_inputs}, horizon, [], None)
        self.lp = compile_lp(self.model)
        grid = exchange_block(self.model.site[name], site_inputs.assets)
        col = self.lp.column_of
        self.imp = np.array([col[id(v)] for v in grid.import_kw.values()], dtype=np.int32)
        self.exp = np.array([col[id(v)] for v in grid.export_kw.values()], dtype=np.int32)
        self.cost = self.lp.cost.copy()
        self.proposals: list[np.ndarray] = []

    def price(self, pi: np.ndarray, time_limit_s: float | None) -> SolveResult:
        highs = self.lp.highs
        idx = np.concatenate([self.imp, self.exp])
        cost = np.concatenate([self.cost[self.imp] - pi, self.cost[self.exp] + pi])
        highs.changeColsCost(idx.size, idx, cost)
        result = solve(self.lp, time_limit_s=time_limit_s)
        if result.status != "Optimal":
            raise InfeasibleError(
                Problem(
                    f"site '{self.name}' has no feasible dispatch on its own "
                    f"(HiGHS: {result.status}); run it alone for the explanation"
                )
            )
        return result

    def true_cost(self, x: np.ndarray) -> float:
        return float(self.cost @ x) + self.lp.objective_offset

    def net(self, x: np.ndarray) -> np.ndarray:
        return x[self.imp] - x[self.exp]


def solve_decomposed(
    inputs: dict[str, Any],
    horizon: Any,
    events: list[Any],
    shared_limit_kw: float | None,
    spec: Any,
    *,
    time_limit_s: float | None = None,
    progress: Any = None,
) -> tuple[dict[str, tuple[Any, SolveResult]], list[float], dict[str, Any]]:
    """Solve the park by Dantzig-Wolfe (module docstring).

    Returns
    -------
    per_site : dict of str to (model, SolveResult)
        Each site's own model and its schedule (the convex combination of its proposals).
    offers : list of float
        The demand-response offers [kW].
    info : dict
        Iterations, columns, the final gap, timings.
    """
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    sites = [_Site(n, inputs[n], horizon) for n in inputs]
    mixed = [s.name for s in sites if s.lp.is_mip]
    if mixed:
        raise ScenarioError(
            Problem(
                f"site(s) {', '.join(repr(n) for n in mixed)} have integer variables (a "
                "deferrable load): the decomposition mixes each site's schedules, and a "
                "mix of on/off schedules is not one",
                key="solve.method",
                value="decomposed",
                allowed="monolithic (one mixed-integer park model)",
                fix="set solve.method: monolithic in the park file",
            )
        )
    t_build = time.perf_counter() - t0
    n, dt_h = horizon.n, horizon.step_h
    master = quiet_highs()
    m_pen = PENALTY_CNY_PER_KWH * dt_h
    # rows: [upper_t (T)] [lower_t (T)] [event e (E)] [convexity s (S)]
    limit = INF if shared_limit_kw is None else float(shared_limit_kw)
    n_ev, n_site = len(events), len(sites)
    lower = np.concatenate(
        [np.full(n, -INF), np.full(n, -limit), np.full(n_ev, -INF), np.ones(n_site)]
    )
    upper = np.concatenate(
        [
            np.full(n, limit),
            np.full(n, INF),
            np.array(
                [
                    e.park_baseline_kw if e.event.kind == "peak_shaving" else -e.park_baseline_kw
                    for e in events
                ]
            ),
            np.ones(n_site),
        ]
    )
    master.addRows(
        lower.size,
        lower,
        upper,
        0,
        np.zeros(lower.size + 1, np.int32),
        np.zeros(0, np.int32),
        np.zeros(0),
    )
    ev_rows = 2 * n
    conv_rows = 2 * n + n_ev
    weights = []
    for ev in events:
        w = np.zeros(n)
        w[ev.steps] = 1.0 / ev.steps.size
        weights.append(w if ev.event.kind == "peak_shaving" else -w)
    # artificial slacks and offers
    for t in range(n):
        master.addCol(m_pen, 0.0, INF, 1, np.array([t], np.int32), np.array([-1.0]))
        master.addCol(m_pen, 0.0, INF, 1, np.array([n + t], np.int32), np.array([1.0]))
    for e in range(n_ev):
        master.addCol(m_pen, 0.0, INF, 1, np.array([ev_rows + e], np.int32), np.array([-1.0]))
    offer_cols = []
    for e, ev in enumerate(events):
        offer_cols.append(master.getNumCol())
        master.addCol(
            -float(ev.rate_cny_per_kw),
            0.0,
            float(ev.event.requested_kw),
            1,
            np.array([ev_rows + e], np.int32),
            np.array([1.0]),
        )
    owner: list[int] = []

    def add(s: int, x: np.ndarray) -> None:
        site = sites[s]
        nt = site.net(x)
        values = [nt, nt] + [np.array([w @ nt]) for w in weights] + [np.array([1.0])]
        rows = [np.arange(n), n + np.arange(n)] + [np.array([ev_rows + e]) for e in range(n_ev)]
        rows.append(np.array([conv_rows + s]))
        val = np.concatenate(values)
        row = np.concatenate(rows).astype(np.int32)
        keep = (val != 0.0) | (row >= conv_rows)
        master.addCol(site.true_cost(x), 0.0, INF, int(keep.sum()), row[keep], val[keep])
        site.proposals.append(x.copy())
        owner.append(s)

    first_col = master.getNumCol()
    pi = np.zeros(n)
    t_sub = 0.0
    iterations = 0
    gap = float("inf")
    objective = float("nan")
    for iterations in range(1, int(spec.max_iterations) + 1):
        t1 = time.perf_counter()
        reduced = []
        duals = None if iterations == 1 else master.getSolution().row_dual
        for s, site in enumerate(sites):
            result = site.price(pi, time_limit_s)
            conv = 0.0 if duals is None else duals[conv_rows + s]
            rc = result.objective_cny - conv
            reduced.append(rc)
            if duals is None or rc < -1e-9 * max(1.0, abs(result.objective_cny)):
                add(s, result.x)
        t_sub += time.perf_counter() - t1
        master.run()
        if master.modelStatusToString(master.getModelStatus()) != "Optimal":
            raise SolverError("the decomposition's master problem could not be solved")
        objective = float(master.getInfo().objective_function_value)
        duals = np.asarray(master.getSolution().row_dual)
        pi = duals[:n] + duals[n : 2 * n]
        for e in range(n_ev):
            pi = pi + duals[ev_rows + e] * weights[e]
        if iterations > 1:
            bound = objective + sum(min(0.0, r) for r in reduced)
            gap = objective - bound
            if gap <= spec.tolerance_fraction * max(1.0, abs(objective)):
                break
        if iterations % 5 == 0:
            say(f"decomposition: iteration {iterations}, cost {objective:,.2f} CNY, gap {gap:.3g}")
    x = np.asarray(master.getSolution().col_value)
    slack = x[: 2 * n + n_ev]
    if slack.max(initial=0.0) > SLACK_TOL_KW:
        raise InfeasibleError(
            Problem(
                f"the park's shared limit or demand-response commitment cannot be met "
                f"(largest shortfall {slack.max():.1f} kW); solve it monolithic for the "
                "hours",
                key="shared_limit_kw",
            )
        )
    offers = [float(x[c]) for c in offer_cols]
    per_site: dict[str, tuple[Any, SolveResult]] = {}
    mix = {s: np.zeros(sites[s].lp.cost.size) for s in range(n_site)}
    for j, s in enumerate(owner):
        k = sum(1 for o in owner[:j] if o == s)
        mix[s] += x[first_col + j] * sites[s].proposals[k]
    for s, site in enumerate(sites):
        xs = mix[s]
        every = np.arange(site.cost.size, dtype=np.int32)
        site.lp.highs.changeColsCost(every.size, every, site.cost)
        site.lp.cost = site.cost
        per_site[site.name] = (
            site.model,
            SolveResult("Optimal", site.true_cost(xs), xs, site.lp, {}),
        )
    info = {
        "iterations": iterations,
        "columns": len(owner),
        "gap_cny": gap,
        "objective_cny": objective,
        "timings_s": {"build": round(t_build, 4), "subproblems": round(t_sub, 4)},
    }
    return per_site, offers, info


__all__ = ["solve_decomposed"]
