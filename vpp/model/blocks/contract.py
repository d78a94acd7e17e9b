"""The block contract: the port every block gives the bus, and the pieces to build it.

A block builder, an asset unit's ``build(block, asset, horizon, series, *,
elastic=False)`` (``vpp/assets/<kind>/block.py``, registered with
:func:`vpp.model.blocks.registry.register` by :func:`vpp.assets.registry.register`),
fills an empty Pyomo block and gives it

- ``net_kw[t]``: power into the site bus [kW], positive = supply, declared as a
  :class:`LinearPort` (a constant series plus coefficient x time-indexed variable
  terms); ``net_kw[t]`` is a Pyomo expression;
- ``cost_cny``: the block's cost over the horizon [CNY] (an expression, 0 if none).

``elastic=True`` asks the block to soften its hard requirements with slack variables
named ``shortfall_*``, penalised at :data:`ELASTIC_PENALTY_CNY_PER_KWH`, so that an
infeasible scenario can be diagnosed (see :func:`vpp.runs.diagnosis.diagnose`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyomo.core.expr.numeric_expr import LinearExpression

#: Penalty on elastic slacks [CNY/kWh]: large against any price, small enough for HiGHS.
ELASTIC_PENALTY_CNY_PER_KWH = 1.0e4
#: Slack below which an elastic variable counts as zero in a diagnosis [kW or kWh].
DIAGNOSIS_TOL = 1e-4


def linear_sum(coefs: Any, variables: Any) -> LinearExpression:
    """``sum(coefs[i] * variables[i])`` built in one step [unit of the coefficients].

    Pyomo's ``quicksum`` grows a sum term by term; over a year of steps that costs
    more than building the rest of the model. ``variables`` is an indexed Var (taken
    in index order) or a list of variables.
    """
    var_list = list(variables.values()) if hasattr(variables, "values") else list(variables)
    coef_list = [float(c) for c in np.broadcast_to(coefs, (len(var_list),))]
    return LinearExpression(constant=0.0, linear_coefs=coef_list, linear_vars=var_list)


def linear(coefs: list[float], variables: list[Any], constant: float = 0.0) -> LinearExpression:
    """``constant + sum(coefs[i] * variables[i])`` without operator overloading.

    Rules that run once per step build their bodies with this: it is several times
    faster than ``a * x + b * y`` in Pyomo, for both building and compiling.
    """
    return LinearExpression(constant=constant, linear_coefs=coefs, linear_vars=variables)


class LinearPort:
    r"""A block's power into the bus, declared as linear terms over the steps.

    .. math:: net_t = c_t + \sum_k a_k \, x^k_t

    Declaring the terms, rather than one Pyomo ``Expression`` per step, lets the site
    builder write each bus row as one flat linear expression: a year of steps then
    builds and compiles in about half the time, with the same equations.

    Parameters
    ----------
    terms : list of (float, IndexedVar)
        Coefficient :math:`a_k` [-] and a variable :math:`x^k` indexed by the steps.
    constant_kw : numpy.ndarray, optional
        :math:`c_t` [kW] (for example minus a fixed load).
    """

    def __init__(self, terms: list[tuple[float, Any]], constant_kw: Any = None):
        self.terms = [(float(a), var) for a, var in terms]
        self.constant_kw = None if constant_kw is None else np.asarray(constant_kw, float)

    def __getitem__(self, t: int) -> LinearExpression:
        """:math:`net_t` as a Pyomo expression [kW]."""
        constant = 0.0 if self.constant_kw is None else float(self.constant_kw[t])
        return linear([a for a, _ in self.terms], [var[t] for _, var in self.terms], constant)


def as_bounds(values: Any) -> list[float]:
    """A numpy array or scalar as a list of Python floats (fast for Pyomo bounds)."""
    return [float(v) for v in values]
