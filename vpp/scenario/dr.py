"""Scenario schema of demand-response events (需求响应) a park is called to.

An event asks the park to lower (``peak_shaving``, 削峰) or raise (``valley_filling``, 填谷)
its load from ``start`` to ``end`` by up to ``requested_kw``. The park's response is
measured against a baseline of similar days (:func:`vpp.portfolio.dr_baseline.baseline_kw`) and
settled per event (:func:`vpp.portfolio.dr.settle_event`).

Defaults come from the rules file ``vpp/portfolio/data/jiangsu-demand-response.yaml``
(source, validity date and reliability of each figure are in that file): the payment of the
kind's default response type, ``min_fraction``, ``cap_fraction`` and ``baseline_days``.
A scenario overrides any of them on the event.

Times: ``start``, ``end`` and ``notified_at`` are timezone-naive (read in the scenario's
time zone) or timezone-aware, all three alike; a bare date means its midnight. They must be
whole minutes; whether they fall on the run's step grid is checked where the step is known
(:func:`vpp.portfolio.dr_baseline.event_steps`). An event lies within one local day (it may end at
the following midnight): its baseline is taken at the same time of day on other days.
"""

from __future__ import annotations

import datetime as dt
import functools
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator

from vpp.errors import short
from vpp.scenario.common import Fraction, Name, PowerKw, SeriesSpec, Strict

__all__ = ["DR_KINDS", "DemandResponseEvent", "MeterHistory", "dr_rules_data"]

DR_KINDS = ("peak_shaving", "valley_filling")
"""The kinds of demand-response event."""

_RULES_FILE = "jiangsu-demand-response.yaml"


@functools.cache
def dr_rules_data() -> dict[str, Any]:
    """The parsed rules file (cached; do not mutate: use ``vpp.portfolio.dr.load_dr_rules``)."""
    # vpp.scenario imports nothing of vpp.portfolio; it reads the package data file itself.
    path = resources.files("vpp") / "portfolio" / "data" / _RULES_FILE
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _rule_value(section: str, key: str) -> Any:
    return dr_rules_data()[section][key]["value"]


class MeterHistory(Strict):
    """Where the metered load history used for baselines comes from.

    ``history`` is the metered net load of the site or park [kW], interval-start
    timestamps; ``None`` means the run's own load series is used.
    """

    history: SeriesSpec | None = None


class DemandResponseEvent(Strict):
    """One demand-response event the park is called to.

    Parameters
    ----------
    name : str
        Name of the event, unique in the park.
    kind : {"peak_shaving", "valley_filling"}
        Lower the load (削峰) or raise it (填谷).
    start, end : datetime.datetime
        Event window, start inclusive, end exclusive (naive: scenario time zone).
    requested_kw : float
        Response the grid asks for, the most the park may offer [kW].
    response_type : str, optional
        The rate of the rules file that applies (``realtime_over_2h`` for peak shaving;
        ``valley_hours`` or ``flat_hours`` for valley filling); default: the kind's default.
    payment_cny_per_kw : float, optional
        Payment per kW of paid response, once per event [CNY/kW]; default: the rate of
        ``response_type`` in the rules file.
    notified_at : datetime.datetime, optional
        When the park was told of the event; before ``start``.
    min_fraction : float, optional
        Delivered share of the offer below which nothing is paid [-]; default from the file.
    cap_fraction : float, optional
        Paid response is capped at this share of the offer [-]; default from the file.
    baseline_days : int, optional
        Number of similar days averaged into the baseline; default from the file.
    """

    name: Name
    kind: Literal["peak_shaving", "valley_filling"]
    start: dt.datetime
    end: dt.datetime
    requested_kw: PowerKw
    response_type: str
    payment_cny_per_kw: Annotated[float, Field(ge=0.0, le=1e4)] = Field(
        description="[CNY/kW], 0 to 1e4"
    )
    notified_at: dt.datetime | None = None
    min_fraction: Fraction = Field(
        default_factory=lambda: float(_rule_value("settlement", "min_fraction"))
    )
    cap_fraction: Annotated[float, Field(ge=1.0, le=10.0)] = Field(
        default_factory=lambda: float(_rule_value("settlement", "cap_fraction"))
    )
    baseline_days: Annotated[int, Field(ge=1, le=30)] = Field(
        default_factory=lambda: int(_rule_value("baseline", "n_days"))
    )

    @model_validator(mode="wrap")
    @classmethod
    def _rate_defaults(cls, data: Any, handler: Any) -> Any:
        """Fill ``response_type`` and ``payment_cny_per_kw`` from the rules file.

        A rate of the file that holds only from a minimum duration is refused for a shorter
        event unless the event gives its own ``payment_cny_per_kw``.
        """
        if not isinstance(data, dict):
            return handler(data)
        if data.get("kind") not in DR_KINDS:
            # No rate can be chosen: placeholders keep the report to the kind's own error.
            return handler({"response_type": "", "payment_cny_per_kw": 0.0, **data})
        payments = dr_rules_data()["payments"][data["kind"]]
        data = dict(data)
        rtype = data.setdefault("response_type", payments["default_response_type"])
        types = payments["response_types"]
        if rtype not in types:
            raise ValueError(
                f"response_type {short(rtype)} is not a {data['kind']} rate of the rules file; "
                f"use one of {', '.join(types)}"
            )
        from_file = "payment_cny_per_kw" not in data
        if from_file:
            data["payment_cny_per_kw"] = float(types[rtype]["payment_cny_per_kw"])
        event = handler(data)
        event._check_window()
        need = types[rtype].get("min_duration_h")
        if from_file and need is not None and event.duration_h < float(need):
            raise ValueError(
                f"the {rtype} rate of the rules file is for events of at least "
                f"{float(need):g} h; this one lasts {event.duration_h:g} h: give "
                "payment_cny_per_kw for its response type"
            )
        return event

    @field_validator("start", "end", "notified_at", mode="before")
    @classmethod
    def _date_is_midnight(cls, value: object) -> object:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return dt.datetime.combine(value, dt.time())
        return value

    @field_validator("start", "end")
    @classmethod
    def _whole_minutes(cls, value: dt.datetime) -> dt.datetime:
        if value.second or value.microsecond:
            raise ValueError(f"{value} is not a whole minute; put it on the run's step grid")
        return value

    def _check_window(self) -> None:
        times = [self.start, self.end] + ([self.notified_at] if self.notified_at else [])
        if len({t.tzinfo is None for t in times}) > 1:
            raise ValueError(
                "start, end and notified_at mix timezone-naive and timezone-aware times; "
                "write all of them alike"
            )
        if self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        limits = dr_rules_data()["limits"]
        low = float(limits["min_duration_h"]["value"])
        high = float(limits["max_duration_h"]["value"])
        if not low <= self.duration_h <= high:
            raise ValueError(
                f"event lasts {self.duration_h:g} h; allowed {low:g} h to {high:g} h "
                "(limits in jiangsu-demand-response.yaml)"
            )
        next_midnight = dt.datetime.combine(self.start.date() + dt.timedelta(days=1), dt.time())
        if self.end > next_midnight.replace(tzinfo=self.start.tzinfo):
            raise ValueError(
                f"event from {self.start} to {self.end} crosses midnight; split it into one "
                "event per local day (the baseline is taken at the same time of day)"
            )
        if self.notified_at is not None and self.notified_at >= self.start:
            raise ValueError(f"notified_at {self.notified_at} is not before start {self.start}")

    @property
    def duration_h(self) -> float:
        """Length of the event window [h]."""
        return (self.end - self.start).total_seconds() / 3600.0

    @property
    def notice_h(self) -> float | None:
        """Time from notification to start [h], or ``None`` when not given."""
        if self.notified_at is None:
            return None
        return (self.start - self.notified_at).total_seconds() / 3600.0
