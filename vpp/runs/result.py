"""The outcome of one site's run, whatever its mode, and the progress callback of a run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from vpp.scenario.schema import Scenario
from vpp.timeseries import Horizon

__all__ = ["Progress", "RunResult"]

Progress = Callable[[str], None]
"""Called with a short message at each stage of a run."""


@dataclass(frozen=True)
class RunResult:
    """The outcome of :func:`vpp.sim.run.run`.

    Attributes
    ----------
    scenario : Scenario
        What was run.
    schedule : pandas.DataFrame
        Inputs and optimized dispatch on the horizon's index (units in column names).
    baseline : pandas.DataFrame
        The same site without batteries and flexibility.
    summary : dict
        Bill, peak shaving, energy totals, baseline figures and timings (see README);
        ``savings_cny`` against the pv-only baseline and its parts ``savings_dispatch_cny``,
        ``savings_green_contracts_cny``, ``savings_certificates_cny`` and
        ``savings_carbon_cny`` (:func:`vpp.runs.kpis.savings_split`); ``baselines`` and
        ``kpis`` (:mod:`vpp.runs.baselines`, :mod:`vpp.runs.kpis`).
    baselines : dict of str to pandas.DataFrame
        The schedules of the ``no-assets``, ``pv-only`` and ``rule-based`` baselines.
    horizon : Horizon
        The run's time axis (its step [h]); readers take the step from here, never from
        the schedule's index.
    """

    scenario: Scenario
    schedule: pd.DataFrame
    baseline: pd.DataFrame
    horizon: Horizon
    summary: dict[str, Any] = field(default_factory=dict)
    baselines: dict[str, pd.DataFrame] = field(default_factory=dict)
