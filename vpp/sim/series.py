"""Read one series named in a scenario, collecting its problems instead of raising."""

from __future__ import annotations

from typing import Any

import numpy as np

from vpp.errors import Problem, VppError
from vpp.timeseries import Horizon, read_series


def read_spec(
    spec: Any,
    horizon: Horizon,
    where: str,
    problems: list[Problem],
    *,
    nonnegative: str | None = None,
    unit: str = "kW",
) -> np.ndarray | None:
    """Read the series of a scenario's series entry on ``horizon``.

    Parameters
    ----------
    spec : vpp.scenario.common.SeriesSpec
        File, column, time zone, resampling and scale.
    horizon : Horizon
        The run's steps.
    where : str
        The scenario key of the entry, for messages.
    problems : list of Problem
        Problems found are appended here; nothing is raised.
    nonnegative : str, optional
        When given, negative values are a problem and this is the fix suggested.
    unit : str
        Unit of the values, for messages.

    Returns
    -------
    numpy.ndarray or None
        The values [``unit``], or None when the series cannot be used.
    """
    try:
        values = read_series(
            spec.file,
            spec.column,
            horizon,
            timestamp_column=spec.timestamp_column,
            timezone=spec.timezone,
            resample=spec.resample,
            scale=spec.scale,
            where=where,
        )
    except VppError as exc:
        problems.extend(exc.problems)
        return None
    negative = np.flatnonzero(values < 0.0)
    if nonnegative is not None and negative.size:
        problems.append(
            Problem(
                f"values must not be negative ({negative.size} step(s))",
                file=str(spec.file),
                key=f"{where} column '{spec.column}'",
                timestamp=horizon.index[negative[0]].isoformat(),
                value=f"{values[negative[0]]:g} {unit}",
                allowed=f">= 0 {unit}",
                fix=nonnegative,
            )
        )
        return None
    return values
