"""Solve a built model with HiGHS through highspy, in memory.

The Pyomo model is compiled to sparse matrices by Pyomo's standard-form compiler
(``pyomo.repn.plugins.standard_form``) and handed to ``highspy`` directly: no LP or
MPS file is written, and the benchmark (``benchmarks/README.md``) shows this path
faster than Pyomo's own in-memory HiGHS interface.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.set import Reals
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from vpp.errors import SolverError

INF = highspy.kHighsInf


@dataclass
class CompiledLP:
    """A model compiled to matrix form and loaded into a HiGHS instance.

    ``column_of`` maps ``id(VarData)`` to the column position; variables that the
    compiler dropped (fixed, or in no row and no objective) are absent from it.
    """

    highs: highspy.Highs
    columns: list[Any]
    column_of: dict[int, int]
    rows: list[Any]
    objective_offset: float
    cost: np.ndarray
    compile_s: float


@dataclass
class SolveResult:
    """What came back from HiGHS.

    Attributes
    ----------
    status : str
        HiGHS model status, e.g. ``Optimal``.
    objective_cny : float
        Objective value [CNY], offset included.
    x : numpy.ndarray
        Column values, in the order of ``lp.columns``.
    lp : CompiledLP
        The compiled problem (kept for re-solves and result extraction).
    timings_s : dict
        ``compile``, ``solve`` [s].
    """

    status: str
    objective_cny: float
    x: np.ndarray
    lp: CompiledLP
    timings_s: dict[str, float] = field(default_factory=dict)

    def value(self, var: Any) -> float:
        """Value of one Pyomo variable [its unit]."""
        pos = self.lp.column_of.get(id(var))
        if pos is not None:
            return float(self.x[pos])
        return _dropped_value(var)

    def values(self, indexed_var: Any) -> np.ndarray:
        """Values of an indexed Pyomo variable, in index order."""
        col = self.lp.column_of
        x = self.x
        return np.array(
            [x[col[id(v)]] if id(v) in col else _dropped_value(v) for v in indexed_var.values()],
            dtype=float,
        )


def _dropped_value(var: Any) -> float:
    """Value of a variable the compiler dropped: its fixed value, else its lower bound or 0."""
    if var.fixed:
        return float(var.value)
    lb = var.lb
    return float(lb) if lb is not None else 0.0


def quiet_highs() -> highspy.Highs:
    """A new HiGHS instance with logging off.

    HiGHS prints its banner to the C-level standard output when the first instance is
    created, before any option can be set; that output is sent to /dev/null so that
    ``vpp``'s own standard output stays clean for people and scripts.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            highs = highspy.Highs()
            highs.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return highs


def _column_bounds(columns: list[Any]) -> tuple[np.ndarray, np.ndarray, bool]:
    """Lower and upper bounds of the columns [their units]; infinite where unbounded.

    Reading ``VarData.lb``/``ub`` resolves each bound through the variable's domain,
    which costs about 0.3 s on a year of 15-minute steps. vpp's blocks give every
    variable plain numeric bounds on the Reals, so the stored values are the bounds;
    that is checked, and any other variable takes Pyomo's public (slower) path.
    The third value says whether every column is continuous and real.
    """
    n = len(columns)
    try:
        if all(v._domain is Reals for v in columns):
            lower = np.fromiter((-INF if v._lb is None else v._lb for v in columns), float, n)
            upper = np.fromiter((INF if v._ub is None else v._ub for v in columns), float, n)
            return lower, upper, True
    except (AttributeError, TypeError):
        pass
    lower = np.fromiter((-INF if v.lb is None else v.lb for v in columns), float, n)
    upper = np.fromiter((INF if v.ub is None else v.ub for v in columns), float, n)
    return lower, upper, False


def compile_lp(model: pyo.ConcreteModel, *, threads: int | None = None) -> CompiledLP:
    """Compile ``model`` to sparse matrices and load them into a new HiGHS instance."""
    t0 = time.perf_counter()
    sf = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    columns = sf.columns
    n_col = len(columns)
    lower, upper, all_real = _column_bounds(columns)
    cost = np.asarray(sf.c.toarray()).ravel() if n_col else np.zeros(0)
    if model.objective.sense == pyo.maximize:
        raise ValueError("vpp models minimise cost")
    kind = np.fromiter((r.bound_type for r in sf.rows), dtype=np.int8, count=len(sf.rows))
    rhs = np.asarray(sf.rhs, dtype=float)
    row_lower = np.where(kind >= 0, np.where(kind == 0, rhs, -INF), rhs)
    row_upper = np.where(kind <= 0, np.where(kind == 0, rhs, INF), rhs)
    a = sf.A.tocsc()

    highs = quiet_highs()
    if threads is not None:
        highs.setOptionValue("threads", int(threads))
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.offset_ = float(sf.c_offset[0]) if len(sf.c_offset) else 0.0
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    if not all_real:
        integer = {j for j, v in enumerate(columns) if v.is_integer() or v.is_binary()}
        if integer:
            lp.integrality_ = [
                highspy.HighsVarType.kInteger if j in integer else highspy.HighsVarType.kContinuous
                for j in range(n_col)
            ]
    status = highs.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS refused the model (passModel returned an error)")
    return CompiledLP(
        highs=highs,
        columns=columns,
        column_of={id(v): j for j, v in enumerate(columns)},
        rows=sf.rows,
        objective_offset=lp.offset_,
        cost=cost,
        compile_s=time.perf_counter() - t0,
    )


def solve(
    model: pyo.ConcreteModel | CompiledLP,
    *,
    time_limit_s: float | None = None,
    threads: int | None = None,
) -> SolveResult:
    """Solve a model (or re-solve a compiled one) with HiGHS.

    Parameters
    ----------
    model : pyomo.environ.ConcreteModel or CompiledLP
        A built model, or one compiled earlier (its HiGHS instance is re-used).
    time_limit_s : float, optional
        Wall-clock limit for HiGHS [s].
    threads : int, optional
        HiGHS thread count (default: HiGHS's choice).

    Returns
    -------
    SolveResult
        Whatever the status; callers decide what a non-optimal status means
        (:func:`vpp.model.results.check_status`).
    """
    if isinstance(model, CompiledLP):
        lp = model
    else:
        t0 = time.perf_counter()
        lp = compile_lp(model, threads=threads)
        lp.compile_s = time.perf_counter() - t0  # includes freeing the compiler's temporaries
    highs = lp.highs
    if time_limit_s is not None:
        highs.setOptionValue("time_limit", float(time_limit_s))
    t0 = time.perf_counter()
    run_status = highs.run()
    solve_s = time.perf_counter() - t0
    status = highs.modelStatusToString(highs.getModelStatus())
    if run_status == highspy.HighsStatus.kError and status == "Optimal":
        status = "Solve error"
    if status == "Optimal":
        x = np.asarray(highs.getSolution().col_value, dtype=float)
        objective = float(highs.getInfo().objective_function_value)
    else:
        x = np.full(len(lp.columns), np.nan)
        objective = float("nan")
    return SolveResult(
        status=status,
        objective_cny=objective,
        x=x,
        lp=lp,
        timings_s={"compile": lp.compile_s, "solve": solve_s},
    )
