"""The demand-charge unit: its window and billing map on the horizon, checked against the
grid's calendar; idle behaviour (nothing: a charge has no power)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.demand_charge.periods import billing_index, window_mask
from vpp.assets.idle import Idle
from vpp.assets.inputs import InputContext
from vpp.assets.opt_outs import PassiveInRules
from vpp.assets.registry import site_entries
from vpp.errors import Problem, ScenarioError
from vpp.model import AssetInput
from vpp.scenario.common import clock_minutes

#: Names a demand charge may not take: the site-level blocks', and ``demand`` (its bill
#: column ``demand_charge_cny`` is the grid's basic charge).
RESERVED = ("grid", "load", "green", "carbon", "demand")


def first_floor_kw(charge: Any, n_billing: int) -> np.ndarray:
    """The floor of each billing period [kW]: ``peak_floor_kw`` in the first, 0 after."""
    floor = np.zeros(n_billing)
    floor[0] = float(charge.peak_floor_kw)
    return floor


def _where(ctx: InputContext, entry: Any) -> str:
    k = next(i for i, c in enumerate(ctx.site.demand_charges) if c is entry)
    return f"site.demand_charges[{k}]"


def _name_problems(entry: Any, where: str, ctx: InputContext) -> list[Problem]:
    others = [getattr(e, "name", None) for _, e in site_entries(ctx.site) if e is not entry] + list(
        RESERVED
    )
    if entry.name not in others:
        return []
    return [
        Problem(
            "a demand charge's name must differ from every other asset's and charge's name",
            key=f"{where}.name",
            value=entry.name,
            allowed=f"a name other than {', '.join(sorted({str(n) for n in others if n}))}",
            fix="rename the charge",
        )
    ]


def _period_problems(entry: Any, where: str, ctx: InputContext) -> list[Problem]:
    if entry.periods is None:
        return []
    tariff = ctx.info.get("tariff_info") or {}
    known = list(tariff.get("period_prices_cny_per_kwh") or {})
    if tariff.get("energy_price") == "series":
        return [
            Problem(
                "'periods' names TOU periods of the grid's calendar, and this grid is priced "
                "by a series (it has no periods)",
                key=f"{where}.periods",
                value=", ".join(entry.periods),
                allowed="'hours' and 'months' with a price series; 'periods' with a calendar",
                fix='give the window as \'hours: [{start: "08:00", end: "12:00"}]\'',
            )
        ]
    if not known:
        return []  # the calendar's own problem is collected already
    unknown = [p for p in entry.periods if p not in known]
    if not unknown:
        return []
    return [
        Problem(
            "the window names a period the grid's calendar does not have",
            key=f"{where}.periods",
            value=", ".join(unknown),
            allowed=f"the calendar's periods: {', '.join(known)}",
            fix="name periods of the calendar (see `vpp tariffs`)",
        )
    ]


def _notes(entry: Any, mask: np.ndarray, ctx: InputContext) -> list[str]:
    notes: list[str] = []
    if not mask.any():
        notes.append(
            f"demand charge '{entry.name}': no step of the horizon lies in its window "
            "(periods, hours, months); it bills only its peak floor "
            f"{float(entry.peak_floor_kw):g} kW"
        )
    step_min = round(ctx.horizon.step_h * 60)
    off = [
        t for w in entry.hours or [] for t in (w.start, w.end) if clock_minutes(t) % step_min != 0
    ]
    if off:
        notes.append(
            f"demand charge '{entry.name}': clock time(s) {', '.join(off)} are not on the "
            f"run's {step_min}-minute steps; a step counts when it starts inside the window"
        )
    return notes


class DemandChargeRules(PassiveInRules):
    """Its input series, idle and rule-based behaviour."""

    input_stage = 2

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """The charge's window and billing map on the horizon.

        Series: ``in_window`` (1 where the step is in the window, else 0 [-]),
        ``billing_index`` (the billing period of each step, 0..B-1 [-]) and
        ``peak_floor_kw`` (one value per billing period: ``peak_floor_kw`` in the first,
        0 in the others [kW]). Reads the grid's ``tou_period`` column (the grid's inputs
        come first).

        Raises
        ------
        ScenarioError
            A name that clashes; periods the calendar does not have, or periods with a
            grid priced by a series.
        """
        where = _where(ctx, entry)
        problems = _name_problems(entry, where, ctx) + _period_problems(entry, where, ctx)
        if problems:
            raise ScenarioError(problems)
        index = ctx.horizon.index
        tou = ctx.columns.get("tou_period", np.full(len(index), "series", dtype=object))
        mask = window_mask(index, tou, entry)
        billing = billing_index(index, entry.per)
        ctx.notes.extend(_notes(entry, mask, ctx))
        series = {
            "in_window": mask.astype(float),
            "billing_index": billing,
            "peak_floor_kw": first_floor_kw(entry, int(billing.max()) + 1),
        }
        return [AssetInput(entry.name, "demand_charge", entry, series)]

    def site_inputs(self, ctx: InputContext) -> list[AssetInput]:
        """None: every charge is an entry."""
        return []

    def idle(self, asset: AssetInput, series: pd.DataFrame) -> Idle:
        """Nothing: a charge has no power."""
        return Idle()

    def delivered(
        self, asset: AssetInput, series: pd.DataFrame, share: np.ndarray
    ) -> dict[str, np.ndarray]:
        """None: a charge has no power."""
        return {}
