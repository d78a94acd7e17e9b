"""Compose asset blocks into one site model joined at the bus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.model.blocks.contract import ELASTIC_PENALTY_CNY_PER_KWH, linear, linear_sum
from vpp.model.blocks.registry import builder


@dataclass(frozen=True)
class AssetInput:
    """What a block builder needs for one asset.

    Parameters
    ----------
    name : str
        Unique asset name at the site; it prefixes the asset's result columns.
    kind : str
        Registered block kind (``grid``, ``load``, ``pv``, ``battery``, ...).
    spec : object
        The asset's scenario entry (a frozen pydantic model or any object with the
        attributes the builder reads).
    series : dict of str to numpy.ndarray
        Time series and derived data on the horizon, in the units their names say.
    """

    name: str
    kind: str
    spec: Any
    series: dict[str, np.ndarray] = field(default_factory=dict)


def build_model(
    assets: Sequence[AssetInput], horizon: Any, *, elastic: bool = False
) -> pyo.ConcreteModel:
    r"""Build the site model.

    The bus balance, for every step :math:`t`, is built from the blocks' ports alone
    (their :class:`~vpp.model.blocks.contract.LinearPort` terms, as one flat row per step):

    .. math::

        \sum_{a} net^a_t \;(+\, U_t - D_t \text{ when elastic}) = 0

    and the objective is :math:`\min \sum_a cost^a` (plus :math:`\pi \sum_t (U_t + D_t)
    \Delta t` when elastic), where :math:`U_t` (``unserved_kw``) and :math:`D_t`
    (``surplus_kw``) are the elastic slacks used to explain infeasibility.

    Parameters
    ----------
    assets : sequence of AssetInput
        Every asset of the site, the grid connection and the fixed load included.
    horizon : vpp.timeseries.Horizon
        Time steps (``n``, ``step_h``, ``month_index``).
    elastic : bool
        Soften hard requirements with penalised slacks (diagnosis only).

    Returns
    -------
    pyomo.environ.ConcreteModel
        With ``T`` (steps ``0..n-1``), ``T0`` (state points ``0..n``), the indexed block
        ``asset[name]``, ``bus[t]`` and ``objective``.
    """
    m = pyo.ConcreteModel(name="site")
    m.T = pyo.RangeSet(0, horizon.n - 1)
    m.T0 = pyo.RangeSet(0, horizon.n)
    fill_site(m, assets, horizon, elastic=elastic)
    m.objective = pyo.Objective(expr=m.site_cost_cny, sense=pyo.minimize)
    return m


def fill_site(
    block: Any, assets: Sequence[AssetInput], horizon: Any, *, elastic: bool = False
) -> None:
    """Fill ``block`` with one site: ``asset[name]`` blocks, ``bus[t]`` and ``site_cost_cny``.

    ``block`` is the model itself (a one-site run) or a sub-block of a park model
    (:mod:`vpp.portfolio`); the step sets ``T`` and ``T0`` live on the top model.
    ``site_cost_cny`` is the sum of the blocks' costs (plus the elastic penalty).
    """
    m = block
    top = block.model()
    names = [a.name for a in assets]
    if len(set(names)) != len(names):
        raise ValueError(f"asset names must be unique: {names}")
    m.asset = pyo.Block(names)
    for a in assets:
        builder(a.kind)(m.asset[a.name], a.spec, horizon, a.series, elastic=elastic)
    blocks = [m.asset[name] for name in names]
    ports = [b.net_kw for b in blocks]
    coefs = [a for port in ports for a, _ in port.terms]
    variables = [var for port in ports for _, var in port.terms]
    constant = np.zeros(horizon.n)
    for port in ports:
        if port.constant_kw is not None:
            constant += port.constant_kw
    rhs = (-constant).tolist()
    if elastic:
        m.unserved_kw = pyo.Var(top.T, bounds=(0.0, None))
        m.surplus_kw = pyo.Var(top.T, bounds=(0.0, None))
        coefs += [1.0, -1.0]
        variables += [m.unserved_kw, m.surplus_kw]
        penalty = ELASTIC_PENALTY_CNY_PER_KWH * horizon.step_h
        slack = linear_sum(penalty, m.unserved_kw) + linear_sum(penalty, m.surplus_kw)
    else:
        slack = 0.0
    m.bus = pyo.Constraint(
        top.T,
        rule=lambda b, t: (rhs[t], linear(coefs, [var[t] for var in variables]), rhs[t]),
    )
    m.site_cost_cny = pyo.Expression(expr=sum(b.cost_cny for b in blocks) + slack)
