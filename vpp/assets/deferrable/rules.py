"""The deferrable unit: its windows, input checks and idle behaviour (as soon as the
window opens, at ``power_kw``, for ``run_h`` in one block)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.deferrable.windows import asap_on, deferrable_windows
from vpp.assets.deferrable.wording import occurrence_notes
from vpp.assets.idle import Idle
from vpp.assets.inputs import InputContext
from vpp.assets.opt_outs import PassiveInRules
from vpp.errors import Problem, ScenarioError
from vpp.model import AssetInput


def step_problems(entry: Any, step_h: float) -> list[Problem]:
    """``run_h``, ``min_run_h`` and ``max_run_h`` that are not whole numbers of steps."""
    problems = []
    for key, hours in (
        ("run_h", entry.run_h),
        ("min_run_h", entry.min_run_h),
        ("max_run_h", entry.max_run_h),
    ):
        if hours is not None and entry.steps(hours, step_h) is None:
            problems.append(
                Problem(
                    f"deferrable load '{entry.name}': {key} {hours:g} h is not a whole number "
                    f"of the run's {step_h * 60:g}-minute steps",
                    key=f"site.flexible_loads '{entry.name}' {key}",
                    value=f"{hours:g} h",
                    allowed=f"a multiple of {step_h:g} h",
                    fix=f"round {key} to a multiple of {step_h:g} h, or change the step",
                )
            )
    return problems


class DeferrableRules(PassiveInRules):
    """Its input series, idle behaviour; it does not act in the rule-based baseline
    (:class:`PassiveInRules`: it stays at its as-soon-as-possible default there)."""

    input_stage = 2

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """``<name>_default_kw`` (as soon as the window opens) [kW]; the block gets
        ``window_id`` (per step). Occurrences cut by the horizon are notes, worded as the
        inputs' planning treats them (:func:`~vpp.assets.deferrable.wording.occurrence_notes`).

        Raises
        ------
        ScenarioError
            ``run_h``, ``min_run_h`` or ``max_run_h`` not a whole number of steps.
        """
        problems = step_problems(entry, ctx.horizon.step_h)
        if problems:
            raise ScenarioError(problems)
        occ = deferrable_windows(entry, ctx.horizon)
        ctx.notes.extend(occurrence_notes(entry, occ, ctx.planning))
        ctx.columns[f"{entry.name}_default_kw"] = entry.power_kw * asap_on(
            entry, occ.window_id, ctx.horizon.step_h
        )
        return [AssetInput(entry.name, "deferrable", entry, {"window_id": occ.window_id})]

    def site_inputs(self, ctx: InputContext) -> list[AssetInput]:
        """None: every deferrable load is an entry."""
        return []

    def idle(self, asset: AssetInput, series: pd.DataFrame) -> Idle:
        """It runs at its default: ``<name>_power_kw`` = ``<name>_default_kw`` [kW], on
        while it draws, one start at each run's first step [0/1]."""
        default = series[f"{asset.name}_default_kw"].to_numpy()
        on = (default > 0.0).astype(float)
        start = np.maximum(0.0, np.diff(on, prepend=0.0))
        return Idle(
            demand_kw=default,
            columns={
                f"{asset.name}_power_kw": default,
                f"{asset.name}_on": on,
                f"{asset.name}_start": start,
            },
        )

    def delivered(
        self, asset: AssetInput, series: pd.DataFrame, share: np.ndarray
    ) -> dict[str, np.ndarray]:
        """None: a load supplies nothing."""
        return {}
