"""Demand charges (需量电费) beyond the basic charge: the scenario entry ``site.demand_charges``.

Each charge bills ``rate_cny_per_kw`` on the largest power of each billing period
(calendar month or day of the horizon, local time) inside its window:

.. math::

    C = \\sum_b r \\max\\Big(\\underline{\\hat P}_b,\\ \\max_{t \\in b,\\ t \\in W} q_t\\Big)

with :math:`q_t` the import (``on: import``), the export (``export``) or
:math:`|P^{imp}_t - P^{exp}_t|` (``net``), :math:`W` the steps in the window (every
step of the grid calendar's ``periods`` named, of the clock ``hours`` and of the
``months`` listed; a key left out restricts nothing) and :math:`\\underline{\\hat P}_b`
the peak already metered (``peak_floor_kw`` in the first billing period of the run,
zero in the others). These charges are added to the grid's basic charge
(``site.grid.basic_charge``), whose Jiangsu rules stay as they are. The block and its
equations: :mod:`vpp.assets.demand_charge.block`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from vpp.scenario.common import Name, PowerKwOrZero, Strict, clock_minutes

__all__ = ["ClockWindow", "DemandCharge"]

RateCnyPerKw = Annotated[float, Field(ge=0.0, le=1e4, description="[CNY/kW], 0 to 1e4")]
Month = Annotated[int, Field(ge=1, le=12, description="[-], calendar month 1 to 12")]


class ClockWindow(Strict):
    """Clock hours of a demand-charge window, local time: ``start`` inclusive, ``end``
    exclusive; an ``end`` before ``start`` runs over midnight."""

    start: str = Field(description="First clock time of the window, HH:MM [local time].")
    end: str = Field(
        description="Clock time the window ends (excluded), HH:MM, 24:00 allowed [local time]."
    )

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        clock_minutes(value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> ClockWindow:
        if clock_minutes(self.start) % 1440 == clock_minutes(self.end) % 1440:
            raise ValueError(
                f"start {self.start} and end {self.end} are the same clock time; give a "
                "window of at least one step (leave 'hours' out for the whole day)"
            )
        return self

    def minutes(self) -> tuple[int, int]:
        """Start and end as minutes after midnight [min]."""
        return clock_minutes(self.start), clock_minutes(self.end)


class DemandCharge(Strict):
    """A demand charge on the largest import, export or |net| exchange of each billing
    period inside a window: :mod:`vpp.scenario.demand`."""

    name: Name = Field(description="Name of the charge; prefixes its bill columns [-].")
    rate_cny_per_kw: RateCnyPerKw = Field(
        description="Rate on the billing period's peak inside the window [CNY/kW per month "
        "or per day, as 'per' says]."
    )
    on: Literal["import", "export", "net"] = Field(
        default="import",
        description="What is charged [-]: import, export, or net (the largest |import - export|).",
    )
    per: Literal["month", "day"] = Field(
        default="month",
        description="Billing period [-]: each local calendar month or day of the horizon "
        "has its own peak.",
    )
    periods: list[str] | None = Field(
        default=None,
        min_length=1,
        description="TOU periods of the grid's calendar the window covers (peak, ...) [-]; "
        "default: every period.",
    )
    hours: list[ClockWindow] | None = Field(
        default=None,
        min_length=1,
        description="Clock windows the window covers [HH:MM, local time]; default: the whole day.",
    )
    months: list[Month] | None = Field(
        default=None,
        min_length=1,
        description="Calendar months the window covers [1-12]; default: every month.",
    )
    peak_floor_kw: PowerKwOrZero = Field(
        default=0.0,
        description="Peak already metered in the first billing period of the run [kW]: a "
        "run started mid-month pays only for a new peak above it. The daily job (`vpp "
        "schedule`) measures it from the grid meter (else its previous run) and uses this "
        "value only when neither knows it.",
    )
