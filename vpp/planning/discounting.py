"""Checked inputs and discount factors shared by the finance and the levelized costs.

Years are counted from the investment, as in :mod:`vpp.planning.finance`: year ``y >= 1``
is paid at its end and discounted by :math:`(1 + r)^{-y}`. The checks turn a value into
a plain ``float`` or ``int`` and raise :class:`ValueError` saying what was expected and
what was found.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["checked_finite", "checked_rate", "checked_years", "discount_factors"]


def checked_finite(name: str, value: float, unit: str | None = None) -> float:
    """``value`` as a finite float; with a ``unit``, it must also be 0 or more.

    Parameters
    ----------
    name : str
        What the value is, for the message.
    value : float
        The value [any unit].
    unit : str, optional
        Its unit; when given, a negative value is refused too.

    Returns
    -------
    float
        The value [same unit].
    """
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    if unit is not None and value < 0.0:
        raise ValueError(f"{name} must be 0 or more, got {value:g} {unit}")
    return value


def checked_rate(rate: float) -> float:
    """A discount rate as a finite float above -1 [-/year].

    Parameters
    ----------
    rate : float
        The discount rate, as a fraction (0.06 for 6 %) [-/year].

    Returns
    -------
    float
        The rate [-/year].
    """
    rate = checked_finite("the discount rate", rate)
    if rate <= -1.0:
        raise ValueError(
            f"the discount rate must be above -1 per year, got {rate:g}; "
            "give it as a fraction (0.06 for 6 %)"
        )
    return rate


def checked_years(name: str, years: int) -> int:
    """A whole number of years, at least 1 [year].

    Parameters
    ----------
    name : str
        What the value is, for the message.
    years : int
        The number of years; a whole float such as ``15.0`` is accepted [year].

    Returns
    -------
    int
        The number of years [year].
    """
    if isinstance(years, bool) or int(years) != years:
        raise ValueError(f"{name} must be a whole number of years, got {years!r}")
    years = int(years)
    if years < 1:
        raise ValueError(f"{name} must be at least 1 year, got {years}")
    return years


def discount_factors(rate: float, years: int) -> np.ndarray:
    """Discount factors :math:`(1 + r)^{-y}` of years ``1..years`` [-].

    Parameters
    ----------
    rate : float
        Discount rate :math:`r`, already checked [-/year].
    years : int
        Number of years [year].

    Returns
    -------
    numpy.ndarray
        One factor per year ``1..years`` [-].
    """
    return (1.0 + rate) ** -np.arange(1, years + 1, dtype=float)
