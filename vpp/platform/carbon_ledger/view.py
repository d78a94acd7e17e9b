"""A site's carbon assets from its ledger: pure functions of the scenario, the month's
metered energy and the entries in force.

Green power, per contract :math:`k` and month :math:`m`: the contracted volume
:math:`C_{k,m}` (``site.green_contracts[k].monthly_mwh``) against the settled delivery
:math:`D_{k,m} = \\sum` of the month's ``green_delivery`` entries [MWh];
:math:`D_{k,m} - C_{k,m}` is the difference (negative: short).

Certificates (GEC, one per MWh) of the year :math:`y` of the month: bought :math:`B_y`,
retired :math:`R_y`; held :math:`H = \\sum_y B_y - \\sum_y R_y` (all years). The need
:math:`N` is monitoring's: the certificates that would close the renewable target's gap
so far this month, :math:`N = \\max(0, f L - G)/1000` with the target fraction
:math:`f`, the metered load :math:`L` and on-site PV :math:`G` [kWh].
:math:`R_y - N` is the surplus of the retired certificates over it and
:math:`R_y + H - N` the surplus if the certificates held were retired too.

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

__all__ = ["METERED_BASIS", "carbon_assets", "park_assets"]

_KWH_PER_MWH = 1000.0
#: What the metered year to date counts.
METERED_BASIS = (
    "location-based, metered: grid import at each step's grid factor plus metered "
    "natural gas, heat and diesel, 1 January to now (the targets' year to date)"
)
_NEED_BASIS = (
    "month to date: target fraction x metered load - metered on-site PV, in certificates "
    "of one MWh (monitoring's computation)"
)
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
    out = []
    for contract in site.green_contracts:
        volumes = dict(contract.monthly_mwh or {})
        mine = [
            e for e in entries if e["kind"] == "green_delivery" and e["contract"] == contract.name
        ]
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
        settled = [
            r for r in months if r["delivered_mwh"] is not None and r["month"][:4] == month[:4]
        ]
        settled_contracted = sum(r["contracted_mwh"] or 0.0 for r in settled)
        settled_delivered = sum(r["delivered_mwh"] for r in settled)
        out.append(
            {
                "name": contract.name,
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
        )
    return out


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


def _certificates(year: str, target: dict | None, entries: list) -> dict[str, Any]:
    batches: dict[str, dict[str, Any]] = {}
    bought_year = retired_year = spent = 0.0
    for e in entries:
        if not e["kind"].startswith("certificate_"):
            continue
        batch = batches.setdefault(
            e["batch"],
            {"batch": e["batch"], "vintage": e["vintage"], "bought": 0.0, "retired": 0.0},
        )
        if e["kind"] == "certificate_purchase":
            batch["bought"] += e["quantity"]
            if e["period"] == year:
                bought_year += e["quantity"]
                spent += e["quantity"] * (e["price_cny_per_unit"] or 0.0)
        else:
            batch["retired"] += e["quantity"]
            if e["period"] == year:
                retired_year += e["quantity"]
    for batch in batches.values():
        batch["held"] = batch["bought"] - batch["retired"]
    held = float(sum(b["held"] for b in batches.values()))
    needed = None if target is None else target["certificates_needed"]
    return {
        "year": year,
        "bought": bought_year,
        "retired": retired_year,
        "held": held,
        "bought_cost_cny": spent,
        "needed": needed,
        "needed_basis": _NEED_BASIS,
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

    Returns
    -------
    dict
        ``contracts`` (per contract this month's contracted [MWh], pro rata to date and
        delivered [MWh], and ``months``: contracted, delivered, difference per month),
        ``target`` (the renewable share so far and the certificates that would close
        the gap, None without a target), ``certificates`` (bought and retired this year,
        held, needed, surpluses [certificates]), ``allowances`` (per compliance year
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
        "certificates": _certificates(month[:4], target, current),
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
