r"""The basic charge (基本电费) of two-part tariff users: by demand or by capacity.

One month's basic charge as a function of the month's maximum demand :math:`P` [kW]
(the largest import averaged over the demand interval, 15 minutes; a run at 1 h uses
its hourly maximum in its place) is, for every method,

.. math:: B(P) = F + d\,P + x\,\max(0,\; P - \tau)

=====================  =================================================================
method                 terms
=====================  =================================================================
``demand``             by actual maximum demand: :math:`F = 0`, :math:`d = r`, :math:`x = 0`
``contracted_demand``  by contracted maximum demand :math:`C`: :math:`F = r\,C`,
                       :math:`d = 0`, :math:`\tau = (1 + 0.05)\,C`, :math:`x = 2\,r`
``capacity``           by transformer capacity :math:`S`: :math:`F = r_S\,S`, :math:`d = x = 0`
=====================  =================================================================

with :math:`r` the demand rate [CNY/kW-month] and :math:`r_S` the capacity rate
[CNY/kVA-month]. The tolerance 0.05, the factor 2 and the 40% floor of a contract
(a contracted demand below 40% of the transformer capacity is billed as 40% of it, when
the capacity is known) come from ``vpp/tariffs/data/rules/basic-charge.yaml`` with
their sources. Below :math:`1.05\,C` the charge is :math:`r\,C` whatever the peak,
including a peak below :math:`C` (按合同确定值收取).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "METHODS",
    "BasicChargeTerms",
    "basic_charge_rules",
    "capacity_terms",
    "contracted_terms",
    "demand_terms",
    "hindsight_contract_kw",
]

#: The billing methods, as the summary names them.
METHODS = ("demand", "contracted_demand", "capacity")


@functools.cache
def _rules_file() -> dict[str, Any]:
    path = resources.files("vpp.tariffs") / "data" / "rules" / "basic-charge.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def basic_charge_rules() -> dict[str, Any]:
    """The basic-charge rule file: its source, validity and numbers (a fresh dict)."""
    data = _rules_file()
    return {
        "name": data["name"],
        "title": data["title"],
        "source": dict(data["source"]),
        "valid_from": data["valid_from"],
        "valid_to": data.get("valid_to"),
        "notes": data["notes"],
        "tolerance_fraction": float(data["contracted_demand"]["tolerance_fraction"]["value"]),
        "excess_rate_factor": float(data["contracted_demand"]["excess_rate_factor"]["value"]),
        "minimum_fraction_of_transformer_kva": float(
            data["contracted_demand"]["minimum_fraction_of_transformer_kva"]["value"]
        ),
        "interval_minutes": int(data["maximum_demand"]["interval_minutes"]["value"]),
    }


@dataclass(frozen=True)
class BasicChargeTerms:
    """One month's basic charge :math:`F + d P + x \\max(0, P - \\tau)` [CNY].

    Attributes
    ----------
    method : str
        ``none``, ``demand``, ``contracted_demand`` or ``capacity``.
    fixed_cny : float
        :math:`F`, charged whatever the peak [CNY/month].
    demand_rate_cny_per_kw : float
        :math:`d`, on the month's maximum demand [CNY/kW-month].
    excess_threshold_kw : float
        :math:`\\tau`, the demand above which the excess rate applies [kW].
    excess_rate_cny_per_kw : float
        :math:`x`, on the demand above the threshold [CNY/kW-month].
    billed_contract_kw : float or None
        The contracted demand billed (after the 40% floor) [kW].
    notes : tuple of str
        Remarks for the summary (a contract raised to its floor).
    """

    method: str
    fixed_cny: float = 0.0
    demand_rate_cny_per_kw: float = 0.0
    excess_threshold_kw: float = 0.0
    excess_rate_cny_per_kw: float = 0.0
    billed_contract_kw: float | None = None
    notes: tuple[str, ...] = ()

    def month_cny(self, peak_kw: float) -> float:
        """The month's basic charge for a maximum demand ``peak_kw`` [CNY]."""
        excess = max(0.0, peak_kw - self.excess_threshold_kw)
        return (
            self.fixed_cny
            + self.demand_rate_cny_per_kw * peak_kw
            + self.excess_rate_cny_per_kw * excess
        )

    def months_cny(self, peaks_kw: Mapping[str, float]) -> dict[str, float]:
        """The basic charge of each month of ``{YYYY-MM: maximum demand [kW]}`` [CNY]."""
        return {month: self.month_cny(peak) for month, peak in peaks_kw.items()}


def demand_terms(rate_cny_per_kw_month: float) -> BasicChargeTerms:
    """Billing by actual maximum demand at ``rate`` [CNY/kW-month]."""
    rate = float(rate_cny_per_kw_month)
    return BasicChargeTerms("demand" if rate > 0.0 else "none", demand_rate_cny_per_kw=rate)


def contracted_terms(
    rate_cny_per_kw_month: float, contracted_kw: float, transformer_kva: float | None = None
) -> BasicChargeTerms:
    """Billing by contracted maximum demand ``contracted_kw`` [kW] at ``rate`` [CNY/kW-month].

    With ``transformer_kva`` [kVA], a contract below the rule file's minimum share of it
    is billed at that minimum (and a note says so).
    """
    rules = basic_charge_rules()
    rate = float(rate_cny_per_kw_month)
    billed = float(contracted_kw)
    notes: tuple[str, ...] = ()
    if transformer_kva is not None:
        floor = rules["minimum_fraction_of_transformer_kva"] * float(transformer_kva)
        if billed < floor:
            notes = (
                f"the contracted demand {billed:g} kW is below "
                f"{rules['minimum_fraction_of_transformer_kva']:.0%} of the transformer "
                f"capacity {float(transformer_kva):g} kVA; it is billed as {floor:g} kW",
            )
            billed = floor
    return BasicChargeTerms(
        "contracted_demand",
        fixed_cny=rate * billed,
        excess_threshold_kw=(1.0 + rules["tolerance_fraction"]) * billed,
        excess_rate_cny_per_kw=rules["excess_rate_factor"] * rate,
        billed_contract_kw=billed,
        notes=notes,
    )


def hindsight_contract_kw(peak_kw: float, transformer_kva: float | None = None) -> float:
    """The contracted demand that would have billed a month's ``peak_kw`` least [kW].

    :math:`r C + 2 r \\max(0, P - 1.05 C)` falls with :math:`C` up to
    :math:`C = P / 1.05` and rises after, so the best contract is :math:`P / 1.05`
    (raised to the 40% floor of the transformer capacity when that is known). Contracts
    are set before the month: this is the hindsight bound, not a forecast.
    """
    rules = basic_charge_rules()
    best = float(peak_kw) / (1.0 + rules["tolerance_fraction"])
    if transformer_kva is not None:
        best = max(best, rules["minimum_fraction_of_transformer_kva"] * float(transformer_kva))
    return best


def capacity_terms(rate_cny_per_kva_month: float, transformer_kva: float) -> BasicChargeTerms:
    """Billing by transformer capacity: ``rate`` [CNY/kVA-month] x ``transformer_kva`` [kVA]."""
    return BasicChargeTerms(
        "capacity", fixed_cny=float(rate_cny_per_kva_month) * float(transformer_kva)
    )
