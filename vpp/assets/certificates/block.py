"""The site's green account: contract metering, renewable target, green certificates.

This block is the declared coupling of the green-power pieces of a site (scenario keys
``site.green_contracts`` and ``site.renewable_target``). It reads other blocks only
through what the scenario names: the ports (``net_kw``) of the PV arrays and
consumers, the ``green_kw`` ports of the green contracts, the grid's ``import_kw``
(contracts and certificates are grid energy) and, for the batteries named in
``renewable_target.green_storage``, their ``charge_kw``, ``discharge_kw`` and
``soc_kwh``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.opt_outs import RebuiltEachWindow
from vpp.assets.sizing import NotSized
from vpp.assets.storage import StorageDynamics, add_storage_balance
from vpp.errors import Problem
from vpp.model.blocks.contract import ELASTIC_PENALTY_CNY_PER_KWH, LinearPort, linear, linear_sum

#: Reward on green energy used [CNY/kWh]: makes the reported green use the largest the
#: dispatch allows (otherwise any value meeting the target is optimal) while changing
#: any real objective by less than 1e-6 CNY per kWh.
GREEN_TIE_BREAK_CNY_PER_KWH = 1.0e-6
_KWH_PER_MWH = 1000.0


@dataclass(frozen=True)
class GreenAccount:
    """What the green-account block couples (asset names at the site).

    Attributes
    ----------
    grid : str
        The grid connection.
    contracts, pv, consumers : tuple of str
        Green contracts, PV arrays, and loads (the fixed load and flexible loads).
    storage : tuple of (str, object)
        Batteries whose green state of charge is tracked, with their specs.
    target : object or None
        The renewable target (``basis``, ``fraction``, ``certificates_allowed``,
        ``certificate_price_cny_per_mwh``, ``green_soc_initial_fraction``).
    """

    grid: str
    contracts: tuple[str, ...] = ()
    pv: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ()
    storage: tuple[tuple[str, Any], ...] = ()
    target: Any = None


def _port_sum(ports: list[LinearPort], n: int, sign: float = 1.0) -> tuple[list, np.ndarray]:
    """``sign * sum(ports)`` as (terms, constant): terms ``[(coef, indexed var)]``."""
    terms = [(sign * a, var) for port in ports for a, var in port.terms]
    constant = np.zeros(n)
    for port in ports:
        if port.constant_kw is not None:
            constant += sign * port.constant_kw
    return terms, constant


def _row(terms: list, t: int, extra: list | None = None) -> Any:
    coefs = [a for a, _ in terms] + [a for a, _ in extra or []]
    variables = [var[t] for _, var in terms] + [v for _, v in extra or []]
    return linear(coefs, variables)


def _green_storage(
    block: Any, battery: Any, name: str, spec: Any, zeta: float, dt_h: float
) -> tuple[tuple[float, Any], tuple[float, Any]]:
    """Add the green state of one battery; return its (supply, use) terms."""
    m = block.model()
    ch = pyo.Var(m.T, bounds=(0.0, float(spec.charge_power_kw)))
    dis = pyo.Var(m.T, bounds=(0.0, float(spec.discharge_power_kw)))
    soc = pyo.Var(m.T0, bounds=(0.0, float(spec.soc_max_fraction * spec.energy_kwh)))
    block.add_component(f"{name}_charge_kw", ch)
    block.add_component(f"{name}_discharge_kw", dis)
    block.add_component(f"{name}_soc_kwh", soc)
    soc[0].fix(zeta * float(battery.soc_kwh[0].value))
    block.add_component(
        f"{name}_charge_cap",
        pyo.Constraint(
            m.T,
            rule=lambda b, t: (None, linear([1.0, -1.0], [ch[t], battery.charge_kw[t]]), 0.0),
        ),
    )
    block.add_component(
        f"{name}_discharge_cap",
        pyo.Constraint(
            m.T,
            rule=lambda b, t: (None, linear([1.0, -1.0], [dis[t], battery.discharge_kw[t]]), 0.0),
        ),
    )
    block.add_component(
        f"{name}_soc_cap",
        pyo.Constraint(
            m.T,
            rule=lambda b, t: (
                None,
                linear([1.0, -1.0], [soc[t + 1], battery.soc_kwh[t + 1]]),
                0.0,
            ),
        ),
    )
    add_storage_balance(
        block, f"{name}_soc_balance", m.T, StorageDynamics.of(spec, dt_h), soc, ch, dis
    )
    return (1.0, dis), (1.0, ch)


class CertificatesBlock(NotSized, RebuiltEachWindow):
    """Its Pyomo block, updater and signature; it is never sized (:class:`NotSized`)."""

    def build(
        self,
        block: Any,
        asset: GreenAccount,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> None:
        r"""Build the site's green account.

        Consumption :math:`D_t = -\sum_{consumers} net_t` (load after shedding) [kW].
        Equations, for every step :math:`t` (state points :math:`k = 0..N`):

        .. math::

            \sum_c G^c_t \le P^{imp}_t
            \qquad \text{(contracts: green energy is part of the metered import)}

            0 \le Y_t \le D_t

            Y_t + \sum_b X^{ch}_{b,t} \le \sum_{pv} P^{pv}_t + \sum_c G^c_t + \sum_b X^{dis}_{b,t}
            \qquad \text{(green balance)}

            0 \le X^{ch}_{b,t} \le P^{ch}_{b,t}, \quad 0 \le X^{dis}_{b,t} \le P^{dis}_{b,t},
            \quad 0 \le Z_{b,k} \le S_{b,k}, \quad Z_{b,0} = \zeta S_{b,0}

            Z_{b,t+1} = (1-\sigma_b)^{\Delta t} Z_{b,t}
                        + \left(\eta^{ch}_b X^{ch}_{b,t} - X^{dis}_{b,t}/\eta^{dis}_b\right)\Delta t

            0 \le K_t \le P^{imp}_t - \sum_c G^c_t \qquad \text{(certificates, where they count)}

            \text{hourly: } Y_t + K_t \ge \rho D_t \;\forall t, \qquad
            \text{annual: } \sum_t (Y_t + K_t)\,\Delta t \ge \rho \sum_t D_t \,\Delta t

            net_t = 0, \qquad cost = \frac{\pi^{K}}{1000} \sum_t K_t \,\Delta t
                                     - \epsilon \sum_t Y_t \,\Delta t

        The grey (non-green) part of each battery, :math:`S - Z` charged by
        :math:`P^{ch} - X^{ch}` and discharged by :math:`P^{dis} - X^{dis}`, then obeys the
        same dynamics with the same losses and stays non-negative, so green energy is
        tracked through storage without being created. Exported energy is counted grey
        first: with :math:`Y \le D` and :math:`X^{ch} \le P^{ch}`, the bus balance implies
        that green energy exported is at least the export not covered by grey supply.
        The contract bound uses the import, not the net import (which would forbid any
        export): it is exact for every dispatch that does not import and export in the
        same step. The grid block allows both at once; with a contract this pays only
        when an export price plus a contract's shortfall penalty exceeds the contract's
        price (energy + premium + grid fees): buying green energy to export it rather
        than paying the penalty. The summary reports such steps
        (``taken_while_exporting_mwh``) and a note.
        The target rows and :math:`Y, X, Z, K` exist only with a target; :math:`K` only
        where certificates count. With ``elastic`` the target gets a penalised slack
        ``shortfall_kw[t]`` (hourly) or ``shortfall_kwh`` (annual).

        =====================  =================================  ==================================
        symbol                 attribute                          meaning
        =====================  =================================  ==================================
        :math:`Y_t`            ``used_kw[t]``                     green power used by the loads [kW]
        :math:`K_t`            ``certificates_kw[t]``             grid power covered by certificates
                                                                  [kW]
        :math:`X^{ch}_{b,t}`   ``<battery>_charge_kw[t]``         green part of the battery's charge
                                                                  [kW]
        :math:`X^{dis}_{b,t}`  ``<battery>_discharge_kw[t]``      green part of its discharge [kW]
        :math:`Z_{b,k}`        ``<battery>_soc_kwh[k]``           green energy stored [kWh]
        :math:`G^c_t`          contract port ``green_kw``         green-contract energy taken [kW]
        :math:`P^{pv}_t`       PV port ``net_kw``                 PV power delivered [kW]
        :math:`P^{imp}_t`      grid ``import_kw``                 grid import [kW]
        :math:`P^{ch}_{b,t}`   battery ``charge_kw[t]``           the battery's charge [kW]
        :math:`P^{dis}_{b,t}`  battery ``discharge_kw[t]``        the battery's discharge [kW]
        :math:`S_{b,k}`        battery ``soc_kwh[k]``             the battery's stored energy [kWh]
        :math:`\eta, \sigma`   battery spec                       efficiencies, self-discharge [-]
        :math:`\rho`           target ``fraction``                renewable share required [-]
        :math:`\pi^K`          ``certificate_price_cny_per_mwh``  certificate price [CNY/MWh]
        :math:`\zeta`          ``green_soc_initial_fraction``     green share of the initial state
                                                                  [-]
        :math:`\epsilon`       ``GREEN_TIE_BREAK``                reward on green energy used
                                                                  [CNY/kWh]
        =====================  =================================  ==================================
        """
        m = block.model()
        assets = block.parent_block().asset  # the site's assets (the model, or a park's site)
        n = len(m.T)
        dt_h = horizon.step_h
        grid = assets[asset.grid]
        block.net_kw = LinearPort([])
        green_terms = [(a, var) for c in asset.contracts for a, var in assets[c].green_kw.terms]
        if asset.contracts:
            metered = green_terms + [(-1.0, grid.import_kw)]
            block.contract_meter = pyo.Constraint(
                m.T, rule=lambda b, t: (None, _row(metered, t), 0.0)
            )
        target = asset.target
        if target is None:
            block.cost_cny = pyo.Expression(expr=0.0)
            return

        # consumption D_t = d_const_t + sum(d_terms)
        d_terms, d_const = _port_sum([assets[c].net_kw for c in asset.consumers], n, sign=-1.0)
        if d_terms:
            block.used_kw = pyo.Var(m.T, bounds=(0.0, None))
            block.used_cap = pyo.Constraint(
                m.T,
                rule=lambda b, t: (
                    None,
                    _row([(-a, v) for a, v in d_terms], t, [(1.0, b.used_kw[t])]),
                    float(d_const[t]),
                ),
            )
        else:
            cap = [max(0.0, float(x)) for x in d_const]
            block.used_kw = pyo.Var(m.T, bounds=lambda b, t: (0.0, cap[t]))

        supply_terms, supply_const = _port_sum([assets[p].net_kw for p in asset.pv], n)
        supply_terms = supply_terms + green_terms
        use_terms: list = []
        zeta = float(target.green_soc_initial_fraction)
        for name, spec in asset.storage:
            supply, use = _green_storage(block, assets[name], name, spec, zeta, dt_h)
            supply_terms.append(supply)
            use_terms.append(use)
        block.green_balance = pyo.Constraint(
            m.T,
            rule=lambda b, t: (
                None,
                _row(use_terms + [(-a, v) for a, v in supply_terms], t, [(1.0, b.used_kw[t])]),
                float(supply_const[t]),
            ),
        )

        credit: list = [(1.0, block.used_kw)]
        price = 0.0
        if target.certificates_allowed:
            block.certificates_kw = pyo.Var(m.T, bounds=(0.0, None))
            grey = [(-1.0, grid.import_kw)] + green_terms
            block.certificate_cap = pyo.Constraint(
                m.T, rule=lambda b, t: (None, _row(grey, t, [(1.0, b.certificates_kw[t])]), 0.0)
            )
            credit.append((1.0, block.certificates_kw))
            price = target.certificate_price_cny_per_mwh / _KWH_PER_MWH
        rho = float(target.fraction)
        # Y + K - rho * D >= 0, with D = d_const + sum(d_terms)
        lhs_terms = credit + [(-rho * a, v) for a, v in d_terms]
        penalty = 0.0
        if target.basis == "hourly":
            if elastic:
                block.shortfall_kw = pyo.Var(m.T, bounds=(0.0, None))
                lhs_terms = lhs_terms + [(1.0, block.shortfall_kw)]
                penalty = linear_sum(ELASTIC_PENALTY_CNY_PER_KWH * dt_h, block.shortfall_kw)
            block.target = pyo.Constraint(
                m.T, rule=lambda b, t: (rho * float(d_const[t]), _row(lhs_terms, t), None)
            )
        else:
            coefs = [a * dt_h for a, var in lhs_terms for _ in range(n)]
            variables = [var[t] for _, var in lhs_terms for t in range(n)]
            if elastic:
                block.shortfall_kwh = pyo.Var(bounds=(0.0, None))
                coefs.append(1.0)
                variables.append(block.shortfall_kwh)
                penalty = ELASTIC_PENALTY_CNY_PER_KWH * block.shortfall_kwh
            block.target = pyo.Constraint(
                expr=(rho * float(d_const.sum()) * dt_h, linear(coefs, variables), None)
            )
        cost_terms = [(-GREEN_TIE_BREAK_CNY_PER_KWH * dt_h, block.used_kw)]
        if price > 0.0:
            cost_terms.append((price * dt_h, block.certificates_kw))
        block.cost_cny = pyo.Expression(
            expr=linear(
                [a for a, var in cost_terms for _ in range(n)],
                [var[t] for _, var in cost_terms for t in range(n)],
            )
            + penalty
        )

    def typical_days(self, block: Any, asset: Any, horizon: Any, days: Any) -> None:
        """An annual target sums every day the typical days stand for
        (:func:`vpp.assets.certificates.typical.relink_target`); green storage is
        refused (exit 2)."""
        from vpp.assets.certificates.typical import relink_target

        relink_target(block, asset, horizon, days)

    def explain_shortfall(
        self, block: Any, asset: Any, values: Callable[[Any], np.ndarray], horizon: Any
    ) -> list[Problem]:
        """Empty here: a target short of green energy (its elastic ``shortfall_*``) is
        explained with the contracts that feed it, site-wide
        (:func:`vpp.runs.carbon.diagnose_green`)."""
        return []
