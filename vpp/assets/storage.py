r"""Storage dynamics, written once for every store (batteries, EV fleets, green storage).

Every store follows, for every step :math:`t` of length :math:`\Delta t` [h]:

.. math::

    S_{t+1} = k\, S_t + \eta^{ch} C_t \Delta t - D_t \Delta t / \eta^{dis},
    \qquad k = (1 - \sigma)^{\Delta t} \text{ or } k = \eta^s

with :math:`S` the stored energy [kWh] at the start of a step, :math:`C` and :math:`D`
the charging and discharging power on the bus side [kW], :math:`\eta` the efficiencies
[-], :math:`\sigma` the self-discharge per hour [1/h] (compounded over the step, as
PyPSA's ``standing_loss`` and oemof-solph's ``loss_rate``) and :math:`\eta^s` the share
kept over one step [-] (a battery's ``storage_efficiency_per_step``, as FlexMeasures'
``storage-efficiency``); a store gives at most one of the two. :class:`StorageDynamics` gives the
coefficients; the numpy rules (rule-based baseline, real-time rule) take them from here,
and :func:`add_storage_balance` writes the equation into a Pyomo block for every store
(the battery, sized or not, the EV fleet's sessions and envelope, and the green state of
charge of the green account).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from vpp.model.blocks.contract import linear


@dataclass(frozen=True)
class StorageDynamics:
    """The coefficients of the storage equation on one step.

    Parameters
    ----------
    dt_h : float
        Step [h].
    charge_efficiency, discharge_efficiency : float
        :math:`\\eta^{ch}`, :math:`\\eta^{dis}` [-], in (0, 1].
    self_discharge_fraction_per_h : float
        :math:`\\sigma` [1/h], in [0, 1).
    storage_efficiency_per_step : float, optional
        :math:`\\eta^s` [-], in (0, 1]: the share kept over one step; when given it is
        :attr:`keep` and :math:`\\sigma` is not read.
    """

    dt_h: float
    charge_efficiency: float = 1.0
    discharge_efficiency: float = 1.0
    self_discharge_fraction_per_h: float = 0.0
    storage_efficiency_per_step: float | None = None

    @classmethod
    def of(cls, spec: object, dt_h: float) -> StorageDynamics:
        """From a scenario entry with ``charge_efficiency``, ``discharge_efficiency`` and
        ``self_discharge_fraction_per_h`` or ``storage_efficiency_per_step`` (missing ones
        take the lossless defaults)."""
        per_step = getattr(spec, "storage_efficiency_per_step", None)
        return cls(
            dt_h,
            float(getattr(spec, "charge_efficiency", 1.0)),
            float(getattr(spec, "discharge_efficiency", 1.0)),
            float(getattr(spec, "self_discharge_fraction_per_h", 0.0)),
            None if per_step is None else float(per_step),
        )

    @property
    def keep(self) -> float:
        """:math:`k`: the share of the state kept over a step [-]: :math:`\\eta^s` when
        given, else :math:`(1-\\sigma)^{\\Delta t}`."""
        if self.storage_efficiency_per_step is not None:
            return self.storage_efficiency_per_step
        return (1.0 - self.self_discharge_fraction_per_h) ** self.dt_h

    @property
    def gain_kwh_per_kw(self) -> float:
        """:math:`\\eta^{ch} \\Delta t`: stored energy per kW charged over a step [kWh/kW]."""
        return self.charge_efficiency * self.dt_h

    @property
    def loss_kwh_per_kw(self) -> float:
        """:math:`\\Delta t / \\eta^{dis}`: stored energy per kW discharged over a step [kWh/kW]."""
        return self.dt_h / self.discharge_efficiency

    def next_kwh(self, soc_kwh: float, charge_kw: float, discharge_kw: float) -> float:
        """:math:`S_{t+1}` from :math:`S_t`, :math:`C_t`, :math:`D_t` [kWh]."""
        return (
            self.keep * soc_kwh
            + self.gain_kwh_per_kw * charge_kw
            - self.loss_kwh_per_kw * discharge_kw
        )


def add_storage_balance(
    block: Any,
    name: str,
    index: Any,
    dynamics: StorageDynamics,
    soc: Any,
    charge: Any = None,
    discharge: Any = None,
    inflow: Any = None,
) -> Any:
    r"""Add the storage equation to ``block`` as the indexed constraint ``name``.

    For every element :math:`i` of ``index`` (a step :math:`t`, or a pair :math:`(s, t)`
    whose last member is the step):

    .. math::

        S_{i^+} - k\, S_i - \eta^{ch} \Delta t\, C_i + \frac{\Delta t}{\eta^{dis}} D_i
        - U_i = 0

    with :math:`i^+` the next state point (:math:`t+1`, or :math:`(s, t+1)`) and
    :math:`U_i` energy credited to the store outside the bus [kWh] (an EV fleet's unmet
    energy). Each row is one linear expression, its terms in the order :math:`S_{i^+},
    S_i, C_i, D_i, U_i` (absent flows left out).

    Parameters
    ----------
    block : pyomo block
        Where the constraint goes.
    name : str
        The constraint's name (``soc_balance``, ``energy_balance``, ...).
    index : pyomo set or list
        The steps (``model.T``) or (store, step) pairs.
    dynamics : StorageDynamics
        The coefficients.
    soc : IndexedVar
        :math:`S` [kWh], indexed by the state points of ``index``.
    charge, discharge : IndexedVar, optional
        :math:`C`, :math:`D` [kW], indexed like ``index``; None: no such flow.
    inflow : IndexedVar, optional
        :math:`U` [kWh], indexed like ``index``; None: none.

    Returns
    -------
    pyomo.environ.Constraint
        The constraint added.
    """
    coefs = [1.0, -dynamics.keep]
    flows = []
    for var, coef in (
        (charge, -dynamics.gain_kwh_per_kw),
        (discharge, dynamics.loss_kwh_per_kw),
        (inflow, -1.0),
    ):
        if var is not None:
            coefs.append(coef)
            flows.append(var)

    if len(flows) == 2:  # the usual store: charge and discharge (no generator per row)
        first, second = flows

        def step_row(b: Any, t: int) -> Any:
            return (0.0, linear(coefs, [soc[t + 1], soc[t], first[t], second[t]]), 0.0)

    else:

        def step_row(b: Any, t: int) -> Any:
            return (0.0, linear(coefs, [soc[t + 1], soc[t], *[v[t] for v in flows]]), 0.0)

    def pair_row(b: Any, s: Hashable, t: int) -> Any:
        here = (s, t)
        row = [soc[s, t + 1], soc[here], *[v[here] for v in flows]]
        return (0.0, linear(coefs, row), 0.0)

    dimen = getattr(index, "dimen", 1)
    constraint = pyo.Constraint(index, rule=pair_row if dimen == 2 else step_row)
    block.add_component(name, constraint)
    return constraint


def per_step_at(site: Any, from_step_h: float, to_step_h: float) -> tuple[Any, list[str]]:
    r"""A site whose stores keep the same loss per hour on steps of another length.

    ``storage_efficiency_per_step`` :math:`\eta^s` is the share kept over one step of the
    run; a site written for steps of ``from_step_h`` [h] run on steps of ``to_step_h``
    [h] (a park's horizon) keeps :math:`(\eta^s)^{\Delta t' / \Delta t}` per step, the
    same share per hour. Every entry of every list under ``site`` that gives it is
    converted (the kinds are not named: any store with the key).

    Parameters
    ----------
    site : pydantic model
        The site scenario (``Scenario.site``).
    from_step_h, to_step_h : float
        The step the site was written for and the step it runs on [h].

    Returns
    -------
    tuple
        The site (the same object when nothing changes) and one note per entry
        converted, naming its key, both values and both steps.
    """
    if from_step_h == to_step_h:
        return site, []
    update: dict[str, Any] = {}
    notes: list[str] = []
    for key in type(site).model_fields:
        entries = getattr(site, key)
        if not isinstance(entries, list):
            continue
        new = list(entries)
        for i, entry in enumerate(entries):
            eta = getattr(entry, "storage_efficiency_per_step", None)
            if eta is None:
                continue
            kept = float(eta) ** (to_step_h / from_step_h)
            new[i] = entry.model_copy(update={"storage_efficiency_per_step": kept})
            notes.append(
                f"site.{key}[{i}].storage_efficiency_per_step {eta:g} per {from_step_h * 60:g} "
                f"min step (the site's own step) is {kept:.8g} per {to_step_h * 60:g} min step "
                f"of the park ({eta:g} ** ({to_step_h:g} h / {from_step_h:g} h)): the same "
                "loss per hour"
            )
        if new != entries:
            update[key] = new
    return (site.model_copy(update=update), notes) if update else (site, notes)
