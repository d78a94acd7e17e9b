"""Scale a HiGHS model into the ranges HiGHS handles well, with its own user scaling.

HiGHS warns that a model is "badly scaled" when a nonzero cost lies outside
[:data:`SMALL_COST`, :data:`LARGE_COST`] or a finite nonzero bound (of a variable or a
constraint) outside [:data:`SMALL_BOUND`, :data:`LARGE_BOUND`]. vpp's models work in
kW, kWh and CNY, so a year's renewable target (about 6e6 kWh) is a large row bound,
and the tie-break costs of battery charging and green use (1e-6 CNY/kWh) are small
costs; on the planning example the interior point solver stalled on such a model.

:func:`user_scales` chooses HiGHS's ``user_bound_scale`` and ``user_objective_scale``
(powers of two, so the scaling itself is exact): HiGHS multiplies every bound by
:math:`2^b` and every cost by :math:`2^c` before it solves, and divides them out of
the solution after, so callers still see kW, kWh and CNY, and every bound or cost
they change later between solves stays in those units. The exponents are chosen
afresh before every solve (:func:`vpp.model.solve.solve`) from the model as it is
then: the smallest change that brings every value inside the window, else the one
that keeps the largest values inside it (:func:`exponent`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import numpy as np

#: HiGHS's window for nonzero costs [the model's cost unit] (``kExcessively*ObjectiveCoefficient``).
SMALL_COST, LARGE_COST = 1.0e-4, 1.0e6
#: HiGHS's window for finite nonzero bounds [the variable's or row's unit].
SMALL_BOUND, LARGE_BOUND = 1.0e-4, 1.0e6
#: The largest exponent either scale may take (HiGHS accepts more; beyond this the
#: model is beyond rescue by scaling alone) [-].
MAX_EXPONENT = 40


@dataclass(frozen=True)
class Scales:
    """User scaling exponents for HiGHS.

    Attributes
    ----------
    bound_exponent : int
        ``user_bound_scale``: bounds are multiplied by :math:`2^b` [-].
    cost_exponent : int
        ``user_objective_scale``: costs are multiplied by :math:`2^c` [-].
    """

    bound_exponent: int = 0
    cost_exponent: int = 0


def _finite_nonzero(*arrays: np.ndarray) -> np.ndarray:
    values = np.abs(np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays]))
    return values[(values > 0.0) & (values < highspy.kHighsInf)]


def exponent(values: np.ndarray, small: float, large: float) -> int:
    """The power of two that brings ``values`` inside ``[small, large]``.

    Parameters
    ----------
    values : numpy.ndarray
        Finite, positive values (empty: nothing to scale).
    small, large : float
        The window.

    Returns
    -------
    int
        The exponent of least magnitude that brings every value inside the window;
        when none does (the values span more than the window), the greatest that keeps
        the largest value inside it. Large values matter more than small ones: HiGHS's
        tolerances are absolute (1e-7), so a bound of 1e11 cannot be met to them,
        while a bound or cost below the window (often a rounding residue such as
        1e-15, or a tie-break) is only lost in them.
    """
    if values.size == 0:
        return 0
    low, high = float(values.min()), float(values.max())
    # (differences of logarithms: a quotient could overflow, e.g. for a subnormal value)
    up = math.ceil(math.log2(small) - math.log2(low))  # the least lifting the smallest in
    down = math.floor(math.log2(large) - math.log2(high))  # the greatest keeping the largest in
    chosen = min(max(0, up), down)
    return int(max(-MAX_EXPONENT, min(MAX_EXPONENT, chosen)))


def user_scales(lp: highspy.HighsLp) -> Scales:
    """The bound and cost exponents for the model ``lp`` (module docstring).

    As in HiGHS, the bounds of integer variables are not scaled (their columns and
    costs are, by HiGHS, instead), so they are left out of the bound window and their
    costs are counted as scaled by the bound exponent.
    """
    cost = np.asarray(lp.col_cost_, dtype=float)
    lower = np.asarray(lp.col_lower_, dtype=float)
    upper = np.asarray(lp.col_upper_, dtype=float)
    integrality = list(lp.integrality_)
    continuous = np.ones(cost.size, dtype=bool)
    if integrality:
        kinds = np.array([int(k) for k in integrality])
        continuous = kinds == int(highspy.HighsVarType.kContinuous)
    bounds = _finite_nonzero(lower[continuous], upper[continuous], lp.row_lower_, lp.row_upper_)
    b = exponent(bounds, SMALL_BOUND, LARGE_BOUND)
    costs = _finite_nonzero(cost[continuous], cost[~continuous] * 2.0**b)
    c = exponent(costs, SMALL_COST, LARGE_COST)
    return Scales(bound_exponent=b, cost_exponent=c)


def apply(highs: highspy.Highs, scales: Scales) -> None:
    """Set the user scaling options of ``highs`` to ``scales``.

    Older HiGHS versions, which ``pyproject.toml`` admits, call the cost scale
    ``user_cost_scale``: that name is tried when the newer one is unknown.
    """
    highs.setOptionValue("user_bound_scale", int(scales.bound_exponent))
    status = highs.setOptionValue("user_objective_scale", int(scales.cost_exponent))
    if status == highspy.HighsStatus.kError:
        highs.setOptionValue("user_cost_scale", int(scales.cost_exponent))
