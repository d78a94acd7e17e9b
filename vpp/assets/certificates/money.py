"""The certificates unit (the site's green account): certificates bought, the green-use
tie-break, and certificates in the carbon account.

With :math:`K_t` the grid power covered by certificates [kW] and :math:`U_t` the green
power used [kW]: :math:`\\text{certificates}_t = \\pi^{cert} K_t \\Delta t` [CNY] (the
price per MWh over 1000), and the LP objective's reward :math:`-\\epsilon \\sum_t U_t
\\Delta t` (``GREEN_TIE_BREAK_CNY_PER_KWH``, not in the bill). Certificates lower the
market-based account only when the site says so (``market_based_certificates``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.certificates.block import GREEN_TIE_BREAK_CNY_PER_KWH
from vpp.assets.certificates.rules import GREEN_ASSET
from vpp.assets.emission_factors import certificates_lower_emissions
from vpp.assets.schedule_values import column_or_zero
from vpp.emissions import CarbonFlow

__all__ = ["CertificatesMoney", "target_summary"]

_KWH_PER_MWH = 1000.0
_CERTIFICATES = f"{GREEN_ASSET}_certificates_kw"


def target_summary(
    site: Any, schedule: pd.DataFrame, step_h: float, consumption_kw: np.ndarray
) -> dict[str, Any]:
    """How the schedule meets the site's renewable target, for the ``green`` summary.

    Parameters
    ----------
    site : Site
        The site, with a ``renewable_target``.
    schedule : pandas.DataFrame
        The optimized schedule (``green_used_kw``, ``green_certificates_kw``; missing
        count as zero).
    step_h : float
        Step length [h].
    consumption_kw : numpy.ndarray
        The site's consumption per step [kW].

    Returns
    -------
    dict
        ``basis``, ``fraction``, ``certificates_count``, ``green_storage``;
        ``consumption_mwh``, ``green_used_mwh``, ``certificates_mwh`` [MWh],
        ``certificate_cost_cny`` [CNY], ``achieved_fraction`` [-] and, for an hourly
        target, ``lowest_step_fraction`` [-] (else ``None``).
    """
    target = site.renewable_target
    demand = consumption_kw
    used = column_or_zero(schedule, f"{GREEN_ASSET}_used_kw")
    certificates = column_or_zero(schedule, _CERTIFICATES)
    consumed = float(demand.sum()) * step_h
    covered = used + certificates
    share = np.divide(covered, demand, out=np.ones_like(demand), where=demand > 0.0)
    return {
        "basis": target.basis,
        "fraction": target.fraction,
        "certificates_count": target.certificates_allowed,
        "green_storage": list(target.green_storage),
        "consumption_mwh": consumed / _KWH_PER_MWH,
        "green_used_mwh": float(used.sum()) * step_h / _KWH_PER_MWH,
        "certificates_mwh": float(certificates.sum()) * step_h / _KWH_PER_MWH,
        "certificate_cost_cny": target.certificate_price_cny_per_mwh
        * float(certificates.sum())
        * step_h
        / _KWH_PER_MWH,
        "achieved_fraction": float(covered.sum()) * step_h / consumed if consumed else 1.0,
        "lowest_step_fraction": float(share.min()) if target.basis == "hourly" else None,
    }


class CertificatesMoney:
    """The green account: certificates bought, the green-use tie-break."""

    def bill_columns(self, site: Any) -> dict[str, str]:
        """``certificates_cny`` (shown also without a renewable target)."""
        return {"certificates_cny": "charge"}

    def costs(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, np.ndarray]:
        """The certificates bought at ``certificate_price_cny_per_mwh`` [CNY per step]."""
        targets = self.entries(site)
        if not targets or _CERTIFICATES not in schedule:
            return {"certificates_cny": np.zeros(len(schedule))}
        rate = targets[0].certificate_price_cny_per_mwh / _KWH_PER_MWH
        return {"certificates_cny": rate * schedule[_CERTIFICATES].to_numpy(dtype=float) * step_h}

    def monthly_costs(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, dict[str, float]]:
        """None: certificates are paid step by step."""
        return {}

    def objective_extra(self, site: Any, schedule: pd.DataFrame, step_h: float) -> float:
        """The reward on green energy used, ``green_used_kw`` [CNY, negative]."""
        used = column_or_zero(schedule, f"{GREEN_ASSET}_used_kw")
        return -GREEN_TIE_BREAK_CNY_PER_KWH * float(used.sum()) * step_h

    def carbon_flows(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, CarbonFlow]:
        """Grid energy covered by certificates that count [kWh per step]: zero-carbon in
        the market-based account (zeros when certificates do not count)."""
        covered = np.zeros(len(schedule))
        if certificates_lower_emissions(site):
            covered = column_or_zero(schedule, _CERTIFICATES) * step_h
        return {"certificates_counted_kwh": CarbonFlow(covered, {"electricity_market_based": -1.0})}

    def energy_flows(self, site: Any, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
        """The grid power covered by certificates bought [kW]."""
        return {"certificates_kw": column_or_zero(schedule, _CERTIFICATES)}

    def equivalent_full_cycles(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """None: the green account is no store (its green states belong to batteries)."""
        return {}
