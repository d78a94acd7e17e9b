"""The ledger's entry kinds, the body of a new entry and its checks against the scenario.

=========================  ============  =======  ==========================================
kind                       quantity      period   also
=========================  ============  =======  ==========================================
``green_delivery``         amount_mwh    YYYY-MM  ``contract``: a ``site.green_contracts``
                                                  name; the utility's or the trading
                                                  centre's settlement of that month
``certificate_purchase``   certificates  YYYY     ``batch``, ``vintage`` (YYYY or YYYY-MM);
                                                  GEC (绿证), one certificate per MWh
``certificate_retirement`` certificates  YYYY     ``batch`` (of a purchase), ``vintage``
``allowance_allocation``   amount_t      YYYY     national carbon market allowances (CEA)
                                                  allocated for the compliance year
``allowance_purchase``     amount_t      YYYY     CEA bought
``allowance_sale``         amount_t      YYYY     CEA sold
``allowance_surrender``    amount_t      YYYY     CEA surrendered for the compliance year
``verified_emissions``     amount_t      YYYY     the third-party verification's tCO2
=========================  ============  =======  ==========================================

Every entry carries its ``reference`` (settlement number, certificate serial range,
verification report). Amounts are finite, at least 0 (0 voids an entry it supersedes)
and at most :data:`MAX_AMOUNT`; certificates are whole. Prices are optional:
``price_cny_per_mwh`` for a delivery or a certificate purchase (one certificate is one
MWh, ``docs/platform.md``), ``price_cny_per_t`` for allowances allocated, bought or sold.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import Field

from vpp.platform.text import FreeText, Text
from vpp.scenario.common import Strict

__all__ = [
    "KINDS",
    "MAX_AMOUNT",
    "MAX_PRICE_CNY",
    "EntryIn",
    "Kind",
    "check_entry",
    "quantity_of",
]

Kind = Literal[
    "green_delivery",
    "certificate_purchase",
    "certificate_retirement",
    "allowance_allocation",
    "allowance_purchase",
    "allowance_sale",
    "allowance_surrender",
    "verified_emissions",
]

#: Per kind: the body's quantity field, the stored unit and the period's format.
KINDS: dict[str, dict[str, str]] = {
    "green_delivery": {"field": "amount_mwh", "unit": "MWh", "period": "month"},
    "certificate_purchase": {"field": "certificates", "unit": "certificates", "period": "year"},
    "certificate_retirement": {"field": "certificates", "unit": "certificates", "period": "year"},
    "allowance_allocation": {"field": "amount_t", "unit": "t", "period": "year"},
    "allowance_purchase": {"field": "amount_t", "unit": "t", "period": "year"},
    "allowance_sale": {"field": "amount_t", "unit": "t", "period": "year"},
    "allowance_surrender": {"field": "amount_t", "unit": "t", "period": "year"},
    "verified_emissions": {"field": "amount_t", "unit": "t", "period": "year"},
}
#: Largest amount of an entry [MWh, certificates, t].
MAX_AMOUNT = 1e9
#: Largest price of an entry [CNY per unit].
MAX_PRICE_CNY = 1e6
_QUANTITIES = ("amount_mwh", "certificates", "amount_t")
#: Kinds counted in whole certificates.
_WHOLE = frozenset({"certificate_purchase", "certificate_retirement"})
_PRICES = {
    "price_cny_per_mwh": ("green_delivery", "certificate_purchase"),
    "price_cny_per_t": ("allowance_allocation", "allowance_purchase", "allowance_sale"),
}
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_YEAR = re.compile(r"(\d{4})")
_YEARS = (2000, 2100)


class EntryIn(Strict):
    """A new ledger entry (the module docstring lists the kinds and their fields)."""

    kind: Kind = Field(description="The entry's kind [-].")
    period: Text = Field(
        max_length=16, description="YYYY-MM for green_delivery, else the year YYYY [-]."
    )
    amount_mwh: float | None = Field(
        default=None, description="Green power delivered (green_delivery) [MWh]."
    )
    certificates: float | None = Field(
        default=None, description="GEC certificates bought or retired, whole [certificates]."
    )
    amount_t: float | None = Field(
        default=None, description="Allowances or verified emissions [tCO2]."
    )
    contract: Text | None = Field(
        default=None, max_length=200, description="green_delivery: the contract's name [-]."
    )
    batch: Text | None = Field(
        default=None, max_length=200, description="Certificates: the batch reference [-]."
    )
    vintage: Text | None = Field(
        default=None,
        max_length=16,
        description="Certificates: the production period, YYYY or YYYY-MM [-].",
    )
    price_cny_per_mwh: float | None = Field(
        default=None, description="Price of a delivery or a certificate [CNY/MWh], optional."
    )
    price_cny_per_t: float | None = Field(
        default=None, description="Price of allowances allocated, bought or sold [CNY/t]."
    )
    reference: Text = Field(
        min_length=1,
        max_length=500,
        description="Source: settlement number, certificate serial range, verification report [-].",
    )
    note: FreeText = Field(
        default="",
        max_length=2000,
        description="A free note; tab and line breaks allowed, no other control character [-].",
    )
    supersedes: int | None = Field(
        default=None,
        ge=1,
        le=2_147_483_647,  # a row id (a 32-bit integer column on PostgreSQL)
        description="The id of the entry this one corrects [-].",
    )


def _problem(field: str, value: Any, message: str, allowed: str) -> dict[str, Any]:
    text = repr(value)
    return {
        "field": field,
        "row": None,
        "value": text if len(text) <= 200 else text[:197] + "...",
        "message": message,
        "allowed": allowed,
    }


def _year_ok(year: str) -> bool:
    return _YEARS[0] <= int(year) <= _YEARS[1]


def quantity_of(entry: EntryIn) -> float:
    """The entry's amount in its kind's unit [MWh, certificates, t]."""
    value = getattr(entry, KINDS[entry.kind]["field"])
    return float(value) if value is not None else math.nan


def check_entry(entry: EntryIn, site: Any) -> list[dict[str, Any]]:
    """The problems of ``entry`` for the scenario's ``site`` (none: it may be stored).

    Checks the kind's quantity (given, finite, 0 to :data:`MAX_AMOUNT`, certificates
    whole) and no other quantity; the period's format and year (2000 to 2100); a
    delivery's contract among ``site.green_contracts``; certificates' batch and
    vintage; prices only where the kind has one, finite, 0 to :data:`MAX_PRICE_CNY`.
    """
    spec = KINDS[entry.kind]
    problems = []
    field = spec["field"]
    value = getattr(entry, field)
    if value is None:
        problems.append(
            _problem(
                field, None, f"a {entry.kind} entry needs {field}", f"{spec['unit']}, 0 to 1e9"
            )
        )
    elif not math.isfinite(value) or not 0.0 <= value <= MAX_AMOUNT:
        problems.append(
            _problem(
                field,
                value,
                f"{field} {value!r} is not a finite amount from 0 to {MAX_AMOUNT:g}",
                f"{spec['unit']}, 0 to 1e9",
            )
        )
    elif entry.kind in _WHOLE and value != math.floor(value):
        problems.append(
            _problem(field, value, "certificates are whole (one per MWh)", "a whole number")
        )
    for other in _QUANTITIES:
        if other != field and getattr(entry, other) is not None:
            problems.append(
                _problem(
                    other,
                    getattr(entry, other),
                    f"a {entry.kind} entry is counted in {field} [{spec['unit']}], not {other}",
                    field,
                )
            )
    problems += _check_period(entry, spec["period"])
    problems += _check_contract(entry, site)
    problems += _check_certificates(entry)
    for name, kinds in _PRICES.items():
        price = getattr(entry, name)
        if price is None:
            continue
        if entry.kind not in kinds:
            problems.append(
                _problem(
                    name,
                    price,
                    f"a {entry.kind} entry has no {name}",
                    f"only for {', '.join(kinds)}",
                )
            )
        elif not math.isfinite(price) or not 0.0 <= price <= MAX_PRICE_CNY:
            problems.append(
                _problem(
                    name,
                    price,
                    f"{name} {price!r} is not a finite price from 0 to {MAX_PRICE_CNY:g}",
                    "0 to 1e6",
                )
            )
    return problems


def _check_period(entry: EntryIn, form: str) -> list[dict[str, Any]]:
    pattern, allowed = (_MONTH, "YYYY-MM") if form == "month" else (_YEAR, "YYYY")
    match = pattern.fullmatch(entry.period)
    if match is None or not _year_ok(match.group(1)):
        what = "month of the settlement" if form == "month" else "year it counts for"
        return [
            _problem(
                "period",
                entry.period,
                f"a {entry.kind} entry's period is the {what}, {allowed}, years 2000 to 2100",
                allowed,
            )
        ]
    return []


def _check_contract(entry: EntryIn, site: Any) -> list[dict[str, Any]]:
    names = [c.name for c in site.green_contracts]
    if entry.kind != "green_delivery":
        if entry.contract is not None:
            return [
                _problem("contract", entry.contract, "only green_delivery names a contract", "none")
            ]
        return []
    allowed = ", ".join(names) if names else "none: the scenario declares no green_contracts"
    if entry.contract is None:
        return [_problem("contract", None, "a green_delivery entry names its contract", allowed)]
    if entry.contract not in names:
        return [
            _problem(
                "contract",
                entry.contract,
                f"no green-power contract {entry.contract[:200]!r} in the site's scenario "
                "(site.green_contracts); name one of its contracts or add it to the scenario",
                allowed,
            )
        ]
    return []


def _check_certificates(entry: EntryIn) -> list[dict[str, Any]]:
    problems = []
    is_certificate = entry.kind.startswith("certificate_")
    for name in ("batch", "vintage"):
        given = getattr(entry, name)
        if is_certificate and not given:
            problems.append(
                _problem(name, given, f"a {entry.kind} entry needs its {name}", _ALLOWED[name])
            )
        elif not is_certificate and given is not None:
            problems.append(_problem(name, given, f"a {entry.kind} entry has no {name}", "none"))
    vintage = entry.vintage
    if is_certificate and vintage:
        match = _MONTH.fullmatch(vintage) or _YEAR.fullmatch(vintage)
        if match is None or not _year_ok(match.group(1)):
            problems.append(
                _problem(
                    "vintage",
                    vintage,
                    "a certificate's vintage is its production period, YYYY or YYYY-MM",
                    _ALLOWED["vintage"],
                )
            )
    return problems


_ALLOWED = {
    "batch": "the certificate batch reference, 1 to 200 characters",
    "vintage": "YYYY or YYYY-MM, years 2000 to 2100",
}
