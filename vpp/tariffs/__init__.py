"""Tariffs: TOU calendars, day rules, period prices and basic charges (built-in tables are data
files in ``vpp/tariffs/data``)."""

from vpp.tariffs.basic import (
    BasicChargeTerms,
    basic_charge_rules,
    capacity_terms,
    contracted_terms,
    demand_terms,
    hindsight_contract_kw,
)
from vpp.tariffs.calendars import (
    STANDARD_PERIODS,
    TouResult,
    apply_calendar,
    calendar_prices,
    list_calendars,
    load_calendar,
    period_labels,
    tou_prices,
    validity_notes,
)
from vpp.tariffs.rules import public_holidays

__all__ = [
    "STANDARD_PERIODS",
    "BasicChargeTerms",
    "TouResult",
    "apply_calendar",
    "basic_charge_rules",
    "calendar_prices",
    "capacity_terms",
    "contracted_terms",
    "demand_terms",
    "hindsight_contract_kw",
    "list_calendars",
    "load_calendar",
    "period_labels",
    "public_holidays",
    "tou_prices",
    "validity_notes",
]
