"""A park's window LP assembled from its sites' compiled LPs: the park backtest's reuse.

A park window (:mod:`vpp.operation.park_window`) is every site's model side by side,
joined by the shared feeder limit and the demand-response offers
(:func:`vpp.portfolio.model.build_park_model`). Building that whole LP in Pyomo at each
decision costs far more than solving it. Here each site's model is compiled on its own
(:class:`SiteModels`) and the park LP is assembled from the compiled matrices
(:func:`solve_park_lp`): the sites' columns and rows side by side, then one row per step
for the shared limit, one row and one column per event (the offer). A site whose blocks
all have an updater (:func:`vpp.model.update.structure_key` not None) keeps one compiled
model per window structure (:class:`vpp.model.update.ReusableModel`) and only its
numbers change between windows; a site with a block that has none (an EV fleet) is
built and compiled for each window.

The LP handed to HiGHS is the same whether the sites' models are reused or rebuilt:
same columns and rows in the same order, same numbers (each updater gives the numbers
its builder would), so a park backtest gives the same dispatch either way
(``tests/test_park_rolling.py``).

With :math:`x_s` site :math:`s`'s columns, :math:`n_{s,t} = P^{imp}_{s,t} - P^{exp}_{s,t}`
its net import and :math:`o_e` the offers [kW]:

.. math::

    \\min \\sum_s (c_s^\\top x_s + c^0_s) - \\sum_e \\rho_e o_e
    \\quad\\text{s.t.}\\quad A_s x_s \\in [r_s^-, r_s^+],\\;
    -\\bar L \\le \\sum_s n_{s,t} \\le \\bar L,\\;
    \\frac{1}{|W_e|} \\sum_{t \\in W_e} \\sum_s n_{s,t} \\pm o_e \\lessgtr B_e
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from vpp.model.build import AssetInput, build_model
from vpp.model.solve import INF, CompiledLP, SolveResult, compile_lp, quiet_highs, solve
from vpp.model.strategies import MipOptions
from vpp.model.update import ReusableModel, structure_key


@dataclass(frozen=True)
class SiteLP:
    """One site's compiled window LP in matrix form, with the numbers of this window.

    Attributes
    ----------
    model : pyomo.environ.ConcreteModel
        The site model (:func:`vpp.model.build.build_model`); its variables map to
        ``lp.column_of``.
    lp : CompiledLP
        Its compiled LP, with this window's objective coefficients in ``lp.cost``.
    a : scipy.sparse.csc_matrix
        The constraint matrix (rows x columns).
    col_lower, col_upper, row_lower, row_upper : numpy.ndarray
        Bounds of the columns and rows [their units].
    offset_cny : float
        The objective's constant [CNY].
    integer : numpy.ndarray
        Per column, whether it is integer (a deferrable load's on and start flags).
    """

    model: Any
    lp: CompiledLP
    a: sp.csc_matrix
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset_cny: float
    integer: np.ndarray

    def positions(self, variables: Any) -> np.ndarray | None:
        """Column positions of an indexed variable (index order); None when the compiler
        dropped one of them."""
        col = self.lp.column_of
        items = list(variables.values())
        if any(id(v) not in col for v in items):
            return None
        return np.fromiter((col[id(v)] for v in items), dtype=np.int64, count=len(items))


class SiteModels:
    """The compiled site models of a park backtest, one per site and window structure.

    Parameters
    ----------
    reuse : bool
        Keep a compiled model per site and structure and update its numbers
        (:class:`vpp.model.update.ReusableModel`); False builds every window afresh (the
        same LP, slower: for tests and benchmarks).

    Attributes
    ----------
    builds, updates : int
        Site models built and compiled, and updated in place, so far.
    built, updated : dict of str to int
        The same by site.
    build_s, update_s : float
        Time spent in them [s].
    """

    def __init__(self, reuse: bool = True):
        self.reuse = reuse
        self._models: dict[tuple[str, Hashable], ReusableModel] = {}
        self.builds = 0
        self.updates = 0
        self.built: dict[str, int] = {}
        self.updated: dict[str, int] = {}
        self.build_s = 0.0
        self.update_s = 0.0

    def site_lp(self, name: str, assets: Sequence[AssetInput], horizon: Any) -> SiteLP:
        """Site ``name``'s LP on the window: updated in place when a model of the same
        structure was compiled before, else built and compiled."""
        t0 = time.perf_counter()
        key = structure_key(assets, horizon) if self.reuse else None
        cached = self._models.get((name, key)) if key is not None else None
        if cached is not None:
            cached.update(assets, horizon)
            model, lp = cached.model, cached.lp
            self.updates += 1
            self.updated[name] = self.updated.get(name, 0) + 1
        elif key is not None:
            reusable = ReusableModel(assets, horizon)
            self._models[(name, key)] = reusable
            model, lp = reusable.model, reusable.lp
        else:
            model = build_model(assets, horizon)
            lp = compile_lp(model)
        if cached is None:
            self.builds += 1
            self.built[name] = self.built.get(name, 0) + 1
        out = _matrix_form(model, lp)
        elapsed = time.perf_counter() - t0
        if cached is not None:
            self.update_s += elapsed
        else:
            self.build_s += elapsed
        return out


def _matrix_form(model: Any, lp: CompiledLP) -> SiteLP:
    """The site LP's current numbers, read back from its HiGHS instance."""
    data = lp.highs.getLp()
    n_col, n_row = int(data.num_col_), int(data.num_row_)
    matrix = data.a_matrix_
    start = np.asarray(matrix.start_, dtype=np.int64)
    index = np.asarray(matrix.index_, dtype=np.int64)
    value = np.asarray(matrix.value_, dtype=float)
    if matrix.format_ == highspy.MatrixFormat.kColwise:
        a = sp.csc_matrix((value, index, start), shape=(n_row, n_col))
    else:
        a = sp.csr_matrix((value, index, start), shape=(n_row, n_col)).tocsc()
    cost = np.asarray(data.col_cost_, dtype=float).copy()
    kinds = list(data.integrality_) if lp.is_mip else []
    integer = np.zeros(n_col, dtype=bool)
    if kinds:
        integer[:] = [k != highspy.HighsVarType.kContinuous for k in kinds]
    return SiteLP(
        model=model,
        lp=dataclasses.replace(lp, cost=cost),  # its own copy: a later window updates lp.cost
        a=a,
        col_lower=np.asarray(data.col_lower_, dtype=float).copy(),
        col_upper=np.asarray(data.col_upper_, dtype=float).copy(),
        row_lower=np.asarray(data.row_lower_, dtype=float).copy(),
        row_upper=np.asarray(data.row_upper_, dtype=float).copy(),
        offset_cny=float(data.offset_),
        integer=integer,
    )


@dataclass(frozen=True)
class Exchange:
    """Where a site's net import lies in its LP: the columns of ``import_kw[t]`` and
    ``export_kw[t]`` for every step."""

    import_pos: np.ndarray
    export_pos: np.ndarray


@dataclass(frozen=True)
class OfferRow:
    """One demand-response event of the park LP.

    Attributes
    ----------
    steps : numpy.ndarray
        The event's steps in the window.
    sign : float
        +1 peak shaving (mean net import + offer at most the baseline), -1 valley filling
        (mean net import - offer at least the baseline).
    baseline_kw : float
        The park's baseline over the event [kW].
    lower_kw, upper_kw : float
        Bounds of the offer [kW].
    rate_cny_per_kw : float
        The payment per kW offered [CNY/kW].
    """

    steps: np.ndarray
    sign: float
    baseline_kw: float
    lower_kw: float
    upper_kw: float
    rate_cny_per_kw: float


@dataclass
class ParkSolve:
    """The assembled park LP's answer.

    Attributes
    ----------
    status : str
        HiGHS's status (``Optimal`` or a proven infeasible/unbounded status).
    objective_cny : float
        The park's objective [CNY] (NaN without an optimum).
    sites : dict of str to SolveResult
        Each site's part of the solution, on its own compiled LP (``x`` its columns,
        ``objective_cny`` its own cost), to read with its model's variables.
    offers_kw : list of float
        Each event's offer [kW].
    solve_s : float
        Assembly and HiGHS time [s].
    has_solution : bool
        Optimal, or a mixed-integer park's best point at its time limit.
    """

    status: str
    objective_cny: float
    sites: dict[str, SolveResult]
    offers_kw: list[float]
    solve_s: float
    has_solution: bool = False


def solve_park_lp(
    sites: dict[str, SiteLP],
    exchanges: dict[str, Exchange],
    n_steps: int,
    shared_limit_kw: float | None,
    offers: Sequence[OfferRow],
    *,
    time_limit_s: float | None = None,
    mip: MipOptions | None = None,
) -> ParkSolve:
    """Assemble the park LP (module docstring) and solve it with HiGHS.

    A site with integer columns (a deferrable load) keeps them integer: the park is then
    a mixed-integer problem, solved by branch and cut with ``mip`` (the park's
    ``operation.mip_gap`` and ``mip_time_limit_s``).

    Parameters
    ----------
    sites : dict of str to SiteLP
        Each site's LP on the window (:meth:`SiteModels.site_lp`), in park order.
    exchanges : dict of str to Exchange
        Each site's import and export columns.
    n_steps : int
        The window's steps.
    shared_limit_kw : float or None
        The shared feeder limit [kW]; None: none.
    offers : sequence of OfferRow
        The events joined.
    time_limit_s : float, optional
        HiGHS time limit [s].
    mip : MipOptions, optional
        Branch-and-cut options of a mixed-integer park.
    """
    t0 = time.perf_counter()
    names = list(sites)
    col_start = np.cumsum([0, *(sites[s].a.shape[1] for s in names)])
    row_start = np.cumsum([0, *(sites[s].a.shape[0] for s in names)])
    n_site_cols, n_site_rows = int(col_start[-1]), int(row_start[-1])
    n_offer = len(offers)
    blocks = sp.block_diag([sites[s].a for s in names], format="csr")
    # the park's net import per step as one sparse row block (n_steps x site columns)
    cols = np.concatenate(
        [
            np.concatenate([exchanges[s].import_pos, exchanges[s].export_pos]) + col_start[k]
            for k, s in enumerate(names)
        ]
    )
    rows = np.concatenate([np.concatenate([np.arange(n_steps), np.arange(n_steps)]) for _ in names])
    vals = np.concatenate([np.r_[np.ones(n_steps), -np.ones(n_steps)] for _ in names])
    net = sp.csr_matrix((vals, (rows, cols)), shape=(n_steps, n_site_cols))
    extra_rows = []
    lower = [np.concatenate([sites[s].row_lower for s in names])]
    upper = [np.concatenate([sites[s].row_upper for s in names])]
    if shared_limit_kw is not None:
        limit = float(shared_limit_kw)
        extra_rows.append(sp.hstack([net, sp.csr_matrix((n_steps, n_offer))]))
        lower.append(np.full(n_steps, -limit))
        upper.append(np.full(n_steps, limit))
    for e, offer in enumerate(offers):
        weights = np.zeros(n_steps)
        weights[offer.steps] = 1.0 / len(offer.steps)
        row = sp.csr_matrix(weights) @ net
        unit_offer = np.zeros((1, n_offer))
        unit_offer[0, e] = offer.sign
        extra_rows.append(sp.hstack([row, sp.csr_matrix(unit_offer)]))
        if offer.sign > 0:
            lower.append(np.array([-INF]))
            upper.append(np.array([offer.baseline_kw]))
        else:
            lower.append(np.array([offer.baseline_kw]))
            upper.append(np.array([INF]))
    top = sp.hstack([blocks, sp.csr_matrix((n_site_rows, n_offer))])
    a = sp.vstack([top, *extra_rows], format="csc")
    a.sort_indices()
    cost = np.concatenate(
        [*(sites[s].lp.cost for s in names), [-o.rate_cny_per_kw for o in offers]]
    )
    col_lower = np.concatenate([*(sites[s].col_lower for s in names), [o.lower_kw for o in offers]])
    col_upper = np.concatenate([*(sites[s].col_upper for s in names), [o.upper_kw for o in offers]])
    offset = float(sum(sites[s].offset_cny for s in names))

    highs = quiet_highs()
    data = highspy.HighsLp()
    data.num_col_ = a.shape[1]
    data.num_row_ = a.shape[0]
    data.col_cost_ = cost
    data.col_lower_ = col_lower
    data.col_upper_ = col_upper
    data.row_lower_ = np.concatenate(lower)
    data.row_upper_ = np.concatenate(upper)
    data.offset_ = offset
    data.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    data.a_matrix_.start_ = a.indptr
    data.a_matrix_.index_ = a.indices
    data.a_matrix_.value_ = a.data
    integer = np.concatenate([*(sites[s].integer for s in names), np.zeros(n_offer, dtype=bool)])
    is_mip = bool(integer.any())
    if is_mip:
        data.integrality_ = [
            highspy.HighsVarType.kInteger if k else highspy.HighsVarType.kContinuous
            for k in integer.tolist()
        ]
    highs.passModel(data)
    columns = [c for s in names for c in sites[s].lp.columns] + [None] * n_offer
    park = CompiledLP(
        highs=highs,
        columns=columns,
        column_of={},
        rows=[],
        objective_offset=offset,
        cost=cost,
        compile_s=time.perf_counter() - t0,
        is_mip=is_mip,
    )
    result = solve(park, time_limit_s=time_limit_s, what="the park's window", mip=mip)
    per_site: dict[str, SolveResult] = {}
    offers_kw: list[float] = []
    if result.has_solution:
        for k, s in enumerate(names):
            x = result.x[col_start[k] : col_start[k + 1]]
            site = sites[s]
            per_site[s] = SolveResult(
                status=result.status,
                objective_cny=float(site.lp.cost @ x + site.offset_cny),
                x=x,
                lp=site.lp,
                timings_s=dict(result.timings_s),
                solver=result.solver,
            )
        offers_kw = [float(v) for v in result.x[n_site_cols:]]
    return ParkSolve(
        status=result.status,
        objective_cny=result.objective_cny,
        sites=per_site,
        offers_kw=offers_kw,
        solve_s=time.perf_counter() - t0,
        has_solution=result.has_solution,
    )


__all__ = ["Exchange", "OfferRow", "ParkSolve", "SiteLP", "SiteModels", "solve_park_lp"]
