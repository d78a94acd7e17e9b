"""Tariffs: time-of-use calendars and prices (built-in calendars are data files)."""

from vpp.tariffs.calendars import (
    calendar_prices,
    list_calendars,
    load_calendar,
    period_labels,
    tou_prices,
)

__all__ = [
    "calendar_prices",
    "list_calendars",
    "load_calendar",
    "period_labels",
    "tou_prices",
]
