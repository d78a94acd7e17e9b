"""The shiftable unit: its windows, idle behaviour (as soon as possible)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.idle import Idle
from vpp.assets.inputs import InputContext
from vpp.assets.opt_outs import PassiveInRules
from vpp.assets.shiftable.windows import (
    asap_profile,
    shiftable_windows,
    short_window_problem,
)
from vpp.errors import ScenarioError
from vpp.model import AssetInput

#: Relative shortfall of an occurrence's energy below which it is not cut [-].
CUT_RTOL = 1e-9
#: Occurrences named in the note of windows cut by the horizon; the rest are counted [-].
NOTE_OCCURRENCES_MAX = 5


def cut_note(entry: Any, window_id: np.ndarray, energy_kwh: np.ndarray, index: Any) -> str | None:
    """The note for window occurrences cut by the horizon's start or end (they owe the
    share of their energy inside it), times in the horizon's time zone; None if none."""
    cut = np.flatnonzero(energy_kwh < entry.energy_kwh * (1.0 - CUT_RTOL))
    if not cut.size:
        return None
    parts = []
    for k in cut[:NOTE_OCCURRENCES_MAX]:
        steps = np.flatnonzero(window_id == k)
        parts.append(f"{index[steps[0]].isoformat()} ({energy_kwh[k]:.1f} kWh)")
    more = cut.size - NOTE_OCCURRENCES_MAX
    return (
        f"shiftable load '{entry.name}': {cut.size} window occurrence(s) cut by the horizon "
        f"owe only the share of their {entry.energy_kwh:g} kWh inside it: "
        + ", ".join(parts)
        + (f" and {more} more" if more > 0 else "")
    )


class ShiftableRules(PassiveInRules):
    """Its input series, idle and rule-based behaviour."""

    input_stage = 2

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """``<name>_default_kw`` (as soon as possible) [kW]; the block gets ``window_id``
        (per step) and ``window_energy_kwh`` (per window occurrence) [kWh]. Occurrences
        cut by the horizon are a note (``ctx.notes``, :func:`cut_note`), and so are those
        holding no step start; a window shorter than one step is bad input
        (:func:`~vpp.assets.shiftable.windows.short_window_problem`)."""
        i = next(k for k, f in enumerate(ctx.site.flexible_loads) if f is entry)
        problem = short_window_problem(entry, f"site.flexible_loads[{i}]", ctx.horizon)
        if problem is not None:
            ctx.collect(ScenarioError([problem]))
        dropped: list[pd.Timestamp] = []
        window_id, energy = shiftable_windows(entry, ctx.horizon, dropped)
        note = cut_note(entry, window_id, energy, ctx.horizon.index)
        if note:
            ctx.notes.append(note)
        if dropped:
            ctx.notes.append(
                f"shiftable load '{entry.name}': {len(dropped)} window occurrence(s) overlap "
                "the horizon but hold no step start inside it and owe nothing: "
                + ", ".join(t.isoformat() for t in dropped[:NOTE_OCCURRENCES_MAX])
            )
        ctx.columns[f"{entry.name}_default_kw"] = asap_profile(
            entry, window_id, energy, ctx.horizon
        )
        series = {"window_id": window_id, "window_energy_kwh": energy}
        return [AssetInput(entry.name, "shiftable", entry, series)]

    def site_inputs(self, ctx: InputContext) -> list[AssetInput]:
        """None: every shiftable load is an entry."""
        return []

    def idle(self, asset: AssetInput, series: pd.DataFrame) -> Idle:
        """It runs at its default: ``<name>_power_kw`` = ``<name>_default_kw`` [kW]."""
        default = series[f"{asset.name}_default_kw"].to_numpy()
        return Idle(demand_kw=default, columns={f"{asset.name}_power_kw": default})

    def delivered(
        self, asset: AssetInput, series: pd.DataFrame, share: np.ndarray
    ) -> dict[str, np.ndarray]:
        """None: a load supplies nothing."""
        return {}
