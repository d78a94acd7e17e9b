"""Scenario schema of a deferrable load: a process that runs in whole blocks inside a
daily window (EMHASS-style deferrable load).

An entry of ``site.flexible_loads`` with ``kind: deferrable``. Its asset unit is
:mod:`vpp.assets.deferrable`: a mixed-integer block (on/off and start binaries), so a
scenario holding one is solved by HiGHS's branch and cut (``operation.mip_gap``,
``operation.mip_time_limit_s``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from vpp.scenario.common import Name, PowerKw, Strict, clock_minutes

__all__ = ["DeferrableLoad", "window_minutes"]

#: Longest run per window and per block [h] (a window is at most one day).
MAX_RUN_H = 24.0
#: Most starts per window occurrence [-].
MAX_STARTS = 96
#: Tolerance when comparing hours [h].
HOURS_TOL = 1e-9

RunHours = Annotated[float, Field(gt=0.0, le=MAX_RUN_H, description="[h], above 0, at most 24")]


def window_minutes(window_start: str, window_end: str) -> int:
    """Length of a daily window from its local clock times [min]; an end before the start
    crosses midnight, and an equal start and end is a whole day."""
    return (clock_minutes(window_end) - clock_minutes(window_start)) % 1440 or 1440


class DeferrableLoad(Strict):
    """A process that runs in whole blocks of steps inside a daily window.

    Each window occurrence (``window_start`` to ``window_end`` local clock, on the
    ``days`` it opens) the load runs ``run_h`` hours in all, in at most ``starts``
    consecutive runs of ``min_run_h`` to ``max_run_h`` hours each, every run inside the
    window. While on it draws ``power_kw``, or, with ``min_power_kw``, any power from
    ``min_power_kw`` to ``power_kw``. ``weekdays`` are Chinese working days
    (:func:`vpp.profiles.working_days`).
    """

    kind: Literal["deferrable"] = Field(
        description="deferrable: a process run in whole blocks inside a daily window "
        "(flexible_loads entries are told apart by kind)."
    )
    name: Name = Field(
        description="Name of the load, unique on the site; it prefixes its schedule columns."
    )
    power_kw: PowerKw = Field(description="Power drawn while on [kW] (the largest power).")
    min_power_kw: PowerKw | None = Field(
        default=None,
        description="Smallest power while on [kW]; given, the power while on is anything "
        "from min_power_kw to power_kw (semi-continuous), else exactly power_kw.",
    )
    run_h: RunHours = Field(
        description="Time on in each window occurrence [h], a whole number of steps."
    )
    min_run_h: RunHours | None = Field(
        default=None,
        description="Shortest consecutive run [h], a whole number of steps; default run_h "
        "(one block), or max_run_h when that is shorter.",
    )
    max_run_h: RunHours | None = Field(
        default=None,
        description="Longest consecutive run [h], a whole number of steps; default run_h.",
    )
    starts: Annotated[int, Field(ge=1, le=MAX_STARTS)] = Field(
        default=1, description="Most starts (runs) per window occurrence [-], 1 to 96."
    )
    start_cost_cny: Annotated[float, Field(ge=0.0, le=1e6)] = Field(
        default=0.0,
        description="Cost of each start [CNY], in the objective and the bill; 0 to 1e6.",
    )
    window_start: str = Field(description="Local clock time the window opens [HH:MM].")
    window_end: str = Field(
        description="Local clock time the window closes [HH:MM]; an end before the start "
        "crosses midnight, and 00:00 to 24:00 is the whole day."
    )
    days: Literal["daily", "weekdays"] | list[dt.date] = Field(
        default="daily",
        description="Days the window opens: daily, weekdays (Chinese working days: Monday "
        "to Friday except public holidays, plus make-up working days, from "
        "vpp/profiles/data/cn-holidays.yaml) or a list of dates.",
    )

    @field_validator("window_start", "window_end")
    @classmethod
    def _clock(cls, value: str) -> str:
        clock_minutes(value)
        return value

    @property
    def shortest_run_h(self) -> float:
        """The shortest consecutive run [h] (``min_run_h`` or its default)."""
        if self.min_run_h is not None:
            return self.min_run_h
        return min(self.run_h, self.longest_run_h)

    @property
    def longest_run_h(self) -> float:
        """The longest consecutive run [h] (``max_run_h`` or its default)."""
        return self.run_h if self.max_run_h is None else self.max_run_h

    @property
    def window_h(self) -> float:
        """Length of each window occurrence [h]."""
        return window_minutes(self.window_start, self.window_end) / 60.0

    @model_validator(mode="after")
    def _runs(self) -> DeferrableLoad:
        start, end = clock_minutes(self.window_start), clock_minutes(self.window_end)
        if start % 1440 == end % 1440 and not (start == 0 and end == 1440):
            raise ValueError(
                "window_start and window_end are the same time; for a whole day write "
                "00:00 to 24:00"
            )
        if self.min_power_kw is not None and self.min_power_kw > self.power_kw:
            raise ValueError(
                f"min_power_kw {self.min_power_kw:g} kW is above power_kw {self.power_kw:g} "
                "kW; the power while on lies between them"
            )
        lo, hi, window = self.shortest_run_h, self.longest_run_h, self.window_h
        if lo > hi + HOURS_TOL:
            raise ValueError(
                f"min_run_h {lo:g} h is longer than max_run_h {hi:g} h; give min_run_h at "
                "most max_run_h"
            )
        if lo > window + HOURS_TOL:
            raise ValueError(
                f"a consecutive run of {lo:g} h (min_run_h) is longer than the window "
                f"{self.window_start}-{self.window_end} of {window:g} h; shorten the run or "
                "widen the window"
            )
        if self.run_h > window + HOURS_TOL:
            raise ValueError(
                f"run_h {self.run_h:g} h is longer than the window "
                f"{self.window_start}-{self.window_end} of {window:g} h"
            )
        runs = [m for m in range(1, self.starts + 1) if m * lo <= self.run_h + HOURS_TOL]
        if not any(self.run_h <= m * hi + HOURS_TOL for m in runs):
            raise ValueError(
                f"run_h {self.run_h:g} h cannot be made of at most {self.starts} run(s) of "
                f"{lo:g} to {hi:g} h (min_run_h to max_run_h); raise starts or max_run_h, "
                "or lower min_run_h"
            )
        return self

    def steps(self, hours: float, step_h: float) -> int | None:
        """``hours`` as a whole number of steps of ``step_h`` hours, or None if it is not."""
        k = hours / step_h
        return int(round(k)) if math.isclose(k, round(k), abs_tol=1e-6) else None
