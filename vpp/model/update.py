"""Re-solve one compiled model on new numbers: the rolling horizon's model reuse.

:class:`ReusableModel` builds and compiles a site model once, then, for each new
window with the same structure (:func:`structure_key`), asks every block's updater
(:mod:`vpp.model.blocks.updates`) for the window's numbers and writes them into the
HiGHS instance with ``changeColsBounds``, ``changeColsCost`` and
``changeRowsBounds``. Nothing is rebuilt or recompiled.

Every solve starts from scratch (``clearSolver``): HiGHS then returns exactly the
solution it would return for a freshly built model of the same window, so a rolling
run gives the same dispatch whether models are reused or rebuilt (tested). Warm
starts would save little on windows of a few hundred columns and could pick another
of several equally cheap dispatches.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from vpp.model.blocks.updates import BusConstant, ColBounds, ColCost, RowBounds, updater
from vpp.model.build import AssetInput, build_model
from vpp.model.solve import INF, SolveResult, compile_lp, solve


def structure_key(assets: Sequence[AssetInput], horizon: Any) -> Hashable | None:
    """What two windows must share to be solved with one model; None if not reusable.

    The number of steps, the step, the assets (names and kinds, in order) and each
    block's own signature (for example the months of the steps for the grid). None
    when a block cannot be updated in place (no updater, or its signature is None):
    such a window is built afresh.
    """
    parts: list[Hashable] = [horizon.n, horizon.step_h]
    for a in assets:
        entry = updater(a.kind)
        if entry is None:
            return None
        signature = entry[1](a.spec, horizon, a.series)
        if signature is None:
            return None
        parts.append((a.name, a.kind, signature))
    return tuple(parts)


class ReusableModel:
    """A site model compiled once and re-solved on new numbers.

    Parameters
    ----------
    assets : sequence of AssetInput
        The first window's assets. If a block cannot be updated in place
        (:func:`structure_key` is None), the model solves this window only.
    horizon : vpp.timeseries.Horizon
        The first window's steps.

    Attributes
    ----------
    model : pyomo.environ.ConcreteModel
        The Pyomo model (its variables map to HiGHS columns through ``lp.column_of``).
    key : hashable or None
        The structure key of the windows this model can solve; None: only the first.
    build_s, update_s : float
        Time spent building and compiling [s], and in updates so far [s].
    """

    def __init__(self, assets: Sequence[AssetInput], horizon: Any):
        t0 = time.perf_counter()
        self.key = structure_key(assets, horizon)
        self.names = [a.name for a in assets]
        self.model = build_model(assets, horizon)
        self.lp = compile_lp(self.model)
        lp = self.lp.highs.getLp()
        self._col_lower = np.asarray(lp.col_lower_, dtype=float).copy()
        self._col_upper = np.asarray(lp.col_upper_, dtype=float).copy()
        self._row_lower = np.asarray(lp.row_lower_, dtype=float).copy()
        self._row_upper = np.asarray(lp.row_upper_, dtype=float).copy()
        self._row_kind = np.fromiter((r.bound_type for r in self.lp.rows), np.int8)
        self._rows_of: dict[int, list[int]] = {}
        for i, r in enumerate(self.lp.rows):
            self._rows_of.setdefault(id(r.constraint), []).append(i)
        self._positions: dict[int, np.ndarray] = {}
        self.build_s = time.perf_counter() - t0
        self.update_s = 0.0

    def _columns(self, variables: Any) -> np.ndarray:
        cached = self._positions.get(id(variables))
        if cached is not None:
            return cached
        items = list(variables.values()) if hasattr(variables, "values") else list(variables)
        col = self.lp.column_of
        missing = [v.name for v in items if id(v) not in col]
        if missing:
            raise ValueError(f"variables not in the compiled model: {missing[:3]}")
        pos = np.fromiter((col[id(v)] for v in items), dtype=np.int32, count=len(items))
        if hasattr(variables, "values"):
            self._positions[id(variables)] = pos
        return pos

    def _rows(self, constraints: Any) -> list[list[int]]:
        items = list(constraints.values()) if hasattr(constraints, "values") else constraints
        return [self._rows_of.get(id(c), []) for c in items]

    def update(self, assets: Sequence[AssetInput], horizon: Any) -> None:
        """Write the numbers of a new window with the same structure into HiGHS."""
        t0 = time.perf_counter()
        if [a.name for a in assets] != self.names:
            raise ValueError("a reusable model takes the same assets in every window")
        if self.key is None:
            raise ValueError(
                "this model holds a block that cannot be updated in place; build the "
                "window afresh (structure_key is None)"
            )
        n = horizon.n
        bus = np.zeros(n)
        cols, rows = set(), set()
        cost_idx: list[np.ndarray] = []
        cost_val: list[np.ndarray] = []
        m = self.model
        for a in assets:
            block = m.asset[a.name]
            changes = updater(a.kind)[0](block, a.spec, horizon, a.series)
            if changes is None:
                raise ValueError(f"asset '{a.name}' ({a.kind}) cannot be updated in place")
            for change in changes:
                if isinstance(change, BusConstant):
                    bus += change.kw
                elif isinstance(change, ColCost):
                    cost_idx.append(self._columns(change.variables))
                    cost_val.append(np.asarray(change.cost, float))
                elif isinstance(change, ColBounds):
                    pos = self._columns(change.variables)
                    if change.lower is not None:
                        self._col_lower[pos] = _finite(change.lower)
                    if change.upper is not None:
                        self._col_upper[pos] = _finite(change.upper)
                    cols.update(pos.tolist())
                elif isinstance(change, RowBounds):
                    rows.update(self._set_rows(change))
                else:
                    raise TypeError(f"unknown change {change!r} from the '{a.kind}' updater")
        rows.update(self._set_rows(RowBounds(m.bus, -bus, -bus)))
        highs = self.lp.highs
        if cols:
            idx = np.fromiter(sorted(cols), np.int32)
            highs.changeColsBounds(idx.size, idx, self._col_lower[idx], self._col_upper[idx])
        if rows:
            idx = np.fromiter(sorted(rows), np.int32)
            highs.changeRowsBounds(idx.size, idx, self._row_lower[idx], self._row_upper[idx])
        if cost_idx:
            idx = np.concatenate(cost_idx)
            value = np.concatenate(cost_val)
            self.lp.cost[idx] = value
            highs.changeColsCost(idx.size, idx, value)
        self.update_s += time.perf_counter() - t0

    def _set_rows(self, change: RowBounds) -> list[int]:
        touched: list[int] = []
        per_con = self._rows(change.constraints)
        k = len(per_con)
        lower = None if change.lower is None else np.broadcast_to(change.lower, (k,))
        upper = None if change.upper is None else np.broadcast_to(change.upper, (k,))
        for j, positions in enumerate(per_con):
            for i in positions:
                kind = self._row_kind[i]
                if kind == 0:  # equality: both bounds are the one value
                    value = lower[j] if lower is not None else upper[j]
                    self._row_lower[i] = self._row_upper[i] = float(value)
                elif kind > 0 and upper is not None:  # body <= upper
                    self._row_upper[i] = float(upper[j])
                elif kind < 0 and lower is not None:  # body >= lower
                    self._row_lower[i] = float(lower[j])
                touched.append(i)
        return touched

    def values(self, result: SolveResult, variables: Any) -> np.ndarray:
        """Values of an indexed variable (index order) or a list, from ``result``."""
        return result.x[self._columns(variables)]

    def solve(self, *, time_limit_s: float | None = None) -> SolveResult:
        """Solve the current window from scratch (see the module docstring)."""
        self.lp.highs.clearSolver()
        return solve(self.lp, time_limit_s=time_limit_s)


def _finite(values: Any) -> np.ndarray:
    """Bounds as HiGHS takes them: None and infinities become ``kHighsInf``."""
    arr = np.asarray([INF if v is None else v for v in np.atleast_1d(values)], dtype=float)
    return np.clip(arr, -INF, INF)


__all__ = ["ReusableModel", "structure_key"]
