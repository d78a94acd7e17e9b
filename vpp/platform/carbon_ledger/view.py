"""A site's carbon assets from its ledger: pure functions of the scenario, the month's
metered energy and the entries in force.

Green power, per contract :math:`k` and month :math:`m`: the contracted volume
:math:`C_{k,m}` (``site.green_contracts[k].monthly_mwh``) against the settled delivery
:math:`D_{k,m} = \\sum` of the month's ``green_delivery`` entries [MWh];
:math:`D_{k,m} - C_{k,m}` is the difference (negative: short). Deliveries recorded for a
contract no longer in the scenario are shown in a row of their own, marked as an
unknown contract (removed from the scenario), never dropped.

Certificates (GEC, one per MWh) of the year :math:`y` of the month: bought :math:`B_y`,
retired :math:`R_y`; held :math:`H = \\sum_y B_y - \\sum_y R_y` (all years). The
renewable target is annual volume matching (``site.renewable_target``: certificates
count against the year's consumption), so the need is the year's: the certificates that
would close the target's gap from 1 January to now,
:math:`N = \\max(0, f L_{ytd} - G_{ytd})/1000` with the target fraction :math:`f`, the
metered load :math:`L_{ytd}` and on-site PV :math:`G_{ytd}` of the year to date [kWh]
(the earlier months' readings summed, plus this month's as monitoring counts them).
:math:`R_y - N` is the surplus of the year's retirements over the year's need and
:math:`R_y + H - N` the surplus if the certificates held were retired too. No need is
given for a target whose certificates do not count (``certificates_count`` false, the
default of an hourly target); for an hourly target that counts them, :math:`N` is the
volume gap, a lower bound of the per-step gaps' sum.

Allowances (CEA) per compliance year: allocated :math:`A`, bought :math:`P`, sold
:math:`S`, surrendered :math:`U`, verified emissions :math:`V` [tCO2]:

.. math::

    \\text{held} = A + P - S - U, \\qquad
    \\text{surplus} = \\text{held} - \\max(0, V - U)

(negative: a shortfall), and the same with the platform's metered year to date
:math:`E` in place of :math:`V` (location-based: metered grid import at each step's
grid factor plus metered gas, heat and diesel;
:func:`vpp.platform.alerts.trajectory.site_trajectory`), for the present year only.
A surplus is valued at the scenario's carbon price (``site.carbon_price.cny_per_t``)
when it has one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["METERED_BASIS", "REMOVED_CONTRACT", "carbon_assets", "park_assets"]

_KWH_PER_MWH = 1000.0
#: What the metered year to date counts.
METERED_BASIS = (
    "location-based, metered: grid import at each step's grid factor plus metered "
    "natural gas, heat and diesel, 1 January to now (the targets' year to date)"
)
_NEED_BASIS = (
    "year to date (1 January to now): target fraction x metered load - metered on-site PV "
    "of the year, in certificates of one MWh, against the year's retirements (the target "
    "is volume matching over the year)"
)
_NEED_HOURLY = (
    "; an hourly target is met step by step: this volume gap is a lower bound of the "
    "certificates its steps need"
)
_NO_NEED = {
    "none": "no renewable target (site.renewable_target)",
    "not_counted": "certificates do not count toward this target (certificates_count false)",
    "no_year": "the year to date is not read here: see GET .../carbon-assets or the carbon page",
}
#: The row of deliveries for a contract that is no longer in the scenario.
REMOVED_CONTRACT = "unknown contract (removed from the scenario)"
_ALLOWANCE_KINDS = {
    "allowance_allocation": "allocated_t",
    "allowance_purchase": "bought_t",
    "allowance_sale": "sold_t",
    "allowance_surrender": "surrendered_t",
    "verified_emissions": "verified_emissions_t",
}


def _current(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [e for e in entries if e.get("superseded_by") is None]


def _contracts(site: Any, month: str, fraction: float, entries: list) -> list[dict[str, Any]]:
    deliveries = [e for e in entries if e["kind"] == "green_delivery"]
    names = [c.name for c in site.green_contracts]
    out = [
        _contract(
            contract.name,
            dict(contract.monthly_mwh or {}),
            [e for e in deliveries if e["contract"] == contract.name],
            month,
            fraction,
        )
        for contract in site.green_contracts
    ]
    for name in sorted({e["contract"] for e in deliveries} - set(names)):
        row = _contract(name, {}, [e for e in deliveries if e["contract"] == name], month, fraction)
        row["removed_from_scenario"] = True
        row["status"] = REMOVED_CONTRACT
        row["note"] = (
            f"{REMOVED_CONTRACT}: the ledger holds settlements of {name[:200]!r}, which "
            "site.green_contracts no longer declares, so nothing is contracted against them; "
            "restore the contract in the scenario, or correct the entries"
        )
        out.append(row)
    return out


def _contract(
    name: str, volumes: dict[str, float], mine: list, month: str, fraction: float
) -> dict[str, Any]:
    """One contract's row: per month contracted against delivered [MWh]."""
    delivered: dict[str, float] = {}
    references: dict[str, list[str]] = {}
    for e in mine:
        delivered[e["period"]] = delivered.get(e["period"], 0.0) + e["quantity"]
        references.setdefault(e["period"], []).append(e["reference"])
    months = []
    for m in sorted(set(volumes) | set(delivered)):
        c, d = volumes.get(m), delivered.get(m)
        months.append(
            {
                "month": m,
                "contracted_mwh": c,
                "delivered_mwh": d,
                "difference_mwh": None if c is None or d is None else d - c,
                "delivered_fraction": None if not c or d is None else d / c,
                "references": references.get(m, []),
            }
        )
    volume = volumes.get(month)
    settled = [r for r in months if r["delivered_mwh"] is not None and r["month"][:4] == month[:4]]
    settled_contracted = sum(r["contracted_mwh"] or 0.0 for r in settled)
    settled_delivered = sum(r["delivered_mwh"] for r in settled)
    return {
        "name": name,
        "removed_from_scenario": False,
        "status": "in the scenario",
        "contracted_mwh": volume,
        "contracted_to_date_mwh": None if volume is None else volume * fraction,
        "delivered_mwh": delivered.get(month),
        "note": "delivered: the settlements recorded in the ledger (green_delivery "
        "entries); none yet for a month not settled",
        "months": months,
        "year": {
            "year": month[:4],
            "settled_months": len(settled),
            "contracted_mwh": settled_contracted,
            "delivered_mwh": settled_delivered,
            "difference_mwh": settled_delivered - settled_contracted,
        },
    }


def _target(site: Any, energy: Mapping[str, Any]) -> tuple[float | None, dict[str, Any] | None]:
    load = float(energy["load_kwh"])
    green = float(energy["pv_kwh"])
    share = green / load if load > 0 else None
    if site.renewable_target is None:
        return share, None
    goal = site.renewable_target
    gap_kwh = max(0.0, goal.fraction * load - green)
    return share, {
        "basis": goal.basis,
        "fraction": goal.fraction,
        "renewable_fraction": share,
        "gap_mwh": gap_kwh / _KWH_PER_MWH,
        "certificates_needed": gap_kwh / _KWH_PER_MWH,
        "certificates_cost_cny": gap_kwh / _KWH_PER_MWH * goal.certificate_price_cny_per_mwh,
        "met": share is not None and share >= goal.fraction,
    }


def _need(
    site: Any, energy: Mapping[str, Any], year_energy: Mapping[str, Any] | None
) -> tuple[float | None, str, dict[str, float] | None]:
    """The certificates the year to date needs, its basis and the year's energy [kWh]."""
    goal = site.renewable_target
    if goal is None:
        return None, _NO_NEED["none"], None
    if not goal.certificates_allowed:
        return None, _NO_NEED["not_counted"], None
    if year_energy is None:
        return None, _NO_NEED["no_year"], None
    ytd = {name: float(year_energy[name]) + float(energy[name]) for name in ("load_kwh", "pv_kwh")}
    needed = max(0.0, goal.fraction * ytd["load_kwh"] - ytd["pv_kwh"]) / _KWH_PER_MWH
    basis = _NEED_BASIS + (_NEED_HOURLY if goal.basis == "hourly" else "")
    return needed, basis, ytd


def _certificates(
    year: str, site: Any, energy: Mapping[str, Any], year_energy: Mapping | None, entries: list
) -> dict[str, Any]:
    batches: dict[str, dict[str, Any]] = {}
    vintages: dict[str, set[str]] = {}
    bought_year = retired_year = spent = 0.0
    for e in entries:
        if not e["kind"].startswith("certificate_"):
            continue
        batch = batches.setdefault(
            e["batch"],
            {"batch": e["batch"], "vintage": e["vintage"], "bought": 0.0, "retired": 0.0},
        )
        if e["kind"] == "certificate_purchase":
            vintages.setdefault(e["batch"], set()).add(e["vintage"])
            batch["bought"] += e["quantity"]
            if e["period"] == year:
                bought_year += e["quantity"]
                spent += e["quantity"] * (e["price_cny_per_unit"] or 0.0)
        else:
            batch["retired"] += e["quantity"]
            if e["period"] == year:
                retired_year += e["quantity"]
    for name, batch in batches.items():
        batch["held"] = batch["bought"] - batch["retired"]
        if name in vintages:  # the purchases' vintage (a retirement's is checked against it)
            batch["vintage"] = ", ".join(sorted(vintages[name]))
    held = float(sum(b["held"] for b in batches.values()))
    needed, basis, ytd = _need(site, energy, year_energy)
    return {
        "year": year,
        "bought": bought_year,
        "retired": retired_year,
        "held": held,
        "bought_cost_cny": spent,
        "needed": needed,
        "needed_basis": basis,
        "year_to_date": ytd,
        "surplus_retired": None if needed is None else retired_year - needed,
        "surplus_with_held": None if needed is None else retired_year + held - needed,
        "batches": sorted(batches.values(), key=lambda b: b["batch"]),
        "unit": "certificates (1 certificate = 1 MWh)",
    }


def _allowances(site: Any, entries: list, metered: Mapping[str, Any] | None) -> dict[str, Any]:
    price = site.carbon_price.cny_per_t if site.carbon_price is not None else None
    years: dict[str, dict[str, Any]] = {}
    for e in entries:
        name = _ALLOWANCE_KINDS.get(e["kind"])
        if name is None:
            continue
        row = years.setdefault(e["period"], {"year": e["period"], "references": []})
        row[name] = row.get(name, 0.0) + e["quantity"]
        row["references"].append(e["reference"])
    rows = []
    for year in sorted(years):
        row = years[year]
        for name in _ALLOWANCE_KINDS.values():
            row.setdefault(name, None if name == "verified_emissions_t" else 0.0)
        held = row["allocated_t"] + row["bought_t"] - row["sold_t"] - row["surrendered_t"]
        row["held_t"] = held
        verified = row["verified_emissions_t"]
        row["surplus_vs_verified_t"] = (
            None if verified is None else held - max(0.0, verified - row["surrendered_t"])
        )
        mine = metered is not None and str(metered["year"]) == year
        row["metered_co2_t"] = metered["co2_t"] if mine else None
        row["surplus_vs_metered_t"] = (
            held - max(0.0, metered["co2_t"] - row["surrendered_t"]) if mine else None
        )
        for key in ("verified", "metered"):
            surplus = row[f"surplus_vs_{key}_t"]
            row[f"value_vs_{key}_cny"] = (
                None if surplus is None or price is None else surplus * price
            )
        rows.append(row)
    return {
        "carbon_price_cny_per_t": price,
        "metered_basis": METERED_BASIS if metered is not None else None,
        "years": rows,
    }


def carbon_assets(
    scenario: Any,
    month: str,
    energy: Mapping[str, Any],
    month_fraction: float,
    entries: Sequence[Mapping[str, Any]] = (),
    metered: Mapping[str, Any] | None = None,
    year_energy: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A site's carbon assets this month (module docstring for the sums).

    Parameters
    ----------
    scenario : vpp.scenario.schema.Scenario
        The site scenario (``green_contracts``, ``renewable_target``, ``carbon_price``).
    month : str
        ``YYYY-MM``.
    energy : mapping
        :func:`vpp.platform.monitoring.compute.month_account`'s ``energy``
        (``load_kwh``, ``pv_kwh`` [kWh]).
    month_fraction : float
        The elapsed share of the month [-].
    entries : sequence of mapping
        The site's ledger entries (:func:`~vpp.platform.carbon_ledger.store.load_entries`);
        superseded ones are left out.
    metered : mapping, optional
        The platform's metered year to date: ``year`` and ``co2_t`` [tCO2]
        (:data:`METERED_BASIS`); None: not compared.
    year_energy : mapping, optional
        The metered load and on-site PV of the year before this month (``load_kwh``,
        ``pv_kwh`` [kWh]; :func:`~vpp.platform.carbon_ledger.year.earlier_energy`): the
        certificates' need is the year to date's; None: no need given (its basis says why).

    Returns
    -------
    dict
        ``contracts`` (per contract this month's contracted [MWh], pro rata to date and
        delivered [MWh], and ``months``: contracted, delivered, difference per month),
        ``target`` (the renewable share so far and the certificates that would close
        the month's gap, None without a target), ``certificates`` (bought and retired
        this year, held, the year to date's need and its ``year_to_date`` load and PV
        [kWh], surpluses [certificates]), ``allowances`` (per compliance year
        [tCO2] and the carbon price [CNY/t]), ``renewable_fraction``, ``entries`` (in
        force) and ``has_assets``.
    """
    site = scenario.site
    current = _current(entries)
    share, target = _target(site, energy)
    contracts = _contracts(site, month, month_fraction, current)
    return {
        "month": month,
        "has_assets": bool(contracts) or target is not None or bool(current),
        "renewable_fraction": share,
        "contracts": contracts,
        "target": target,
        "certificates": _certificates(month[:4], site, energy, year_energy, current),
        "allowances": _allowances(site, current, metered),
        "entries": len(current),
    }


def park_assets(views: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The park's sums of its sites' :func:`carbon_assets`: green power this month
    [MWh], certificates [certificates] and, per compliance year, allowances [tCO2] and
    their value [CNY] (sums over the sites that have each; None where none has)."""

    def total(values: Iterable[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return float(sum(known)) if known else None

    contracts = [c for v in views for c in v["contracts"]]
    years: dict[str, list[Mapping[str, Any]]] = {}
    for v in views:
        for row in v["allowances"]["years"]:
            years.setdefault(row["year"], []).append(row)
    keys = (
        "allocated_t",
        "bought_t",
        "sold_t",
        "surrendered_t",
        "held_t",
        "verified_emissions_t",
        "surplus_vs_verified_t",
        "value_vs_verified_cny",
        "metered_co2_t",
        "surplus_vs_metered_t",
        "value_vs_metered_cny",
    )
    certificates = [v["certificates"] for v in views]
    return {
        "contracted_mwh": total(c["contracted_mwh"] for c in contracts),
        "delivered_mwh": total(c["delivered_mwh"] for c in contracts),
        "certificates": {
            k: total(c[k] for c in certificates)
            for k in ("bought", "retired", "held", "needed", "bought_cost_cny")
        },
        "allowances": [
            {"year": y, "sites": len(rows), **{k: total(r[k] for r in rows) for k in keys}}
            for y, rows in sorted(years.items())
        ],
    }
