"""What a unit's ``inputs`` capability works with: the scenario, the horizon, a series
reader that collects problems, and everything built so far.

:func:`vpp.inputs.site.build_inputs` makes one :class:`InputContext` per site and hands it
to every unit (see the ``rules.py`` section of :mod:`vpp.assets.base`). Problems are
collected, never raised one at a time: a unit reads with :meth:`InputContext.read` (a
bad series gives zeros and a problem) or raises a :class:`~vpp.errors.VppError` with
every problem of its entry, and the run raises them all together at the end, as the
class of the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vpp.errors import DataError, Problem, VppError
from vpp.model import AssetInput
from vpp.scenario.schema import SeriesSpec
from vpp.series_bounds import Bound
from vpp.timeseries import Horizon, read_series

#: The ways of planning a site's inputs may serve, which some units' notes depend on
#: (:attr:`InputContext.planning`): ``perfect``, one optimization over the horizon;
#: ``rolling``, windows whose last one ends at the horizon's end (a rolling run);
#: ``open-end``, windows whose horizon's end is not the end of operation (the park
#: backtest); ``job``, the daily job's window from ``now``, which carries what it cuts
#: from one run to the next (``state.json``).
PLANNING = ("perfect", "rolling", "open-end", "job")


def read_spec(
    spec: Any,
    horizon: Horizon,
    where: str,
    problems: list[Problem],
    *,
    nonnegative: str | None = None,
    unit: str = "kW",
    bounds: Sequence[Bound] = (),
) -> np.ndarray | None:
    """Read the series of a scenario's series entry on ``horizon``.

    Bounds are checked on each row of the file the horizon uses, before ``resample:
    mean`` averages rows (:mod:`vpp.series_bounds`): a negative row is refused even
    where the mean of its step is not.

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
    bounds : sequence of vpp.series_bounds.Bound
        Further bounds of the values [``unit``] (an upper one).

    Returns
    -------
    numpy.ndarray or None
        The values [``unit``], or None when the series cannot be used.
    """
    if nonnegative is not None:
        negative = Bound(
            "values must not be negative", f">= 0 {unit}", nonnegative, lower=0.0, unit=unit
        )
        bounds = (negative, *bounds)
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
            bounds=bounds,
        )
    except VppError as exc:
        problems.extend(exc.problems)
        return None
    return values


@dataclass
class InputContext:
    """One site's input reading in progress.

    Attributes
    ----------
    scenario : Scenario
        The validated scenario (``scenario.site`` is the site read).
    horizon : Horizon
        The run's steps.
    columns : dict of str to numpy.ndarray
        The schedule's input columns built so far, in the order they were added (the
        order of ``SiteInputs.series``): ``load_kw``, ``price_cny_per_kwh``, ... [units in
        their names]. A unit adds its own and may read those added before it.
    assets : list of AssetInput
        The block inputs built so far, in reading order.
    problems : list of Problem
        Every problem found so far, in the order found.
    first_error : type of VppError
        The class of the first problem's error (:class:`~vpp.errors.DataError` for a
        series that cannot be read); the run raises this class with all problems.
    info : dict
        What the run's summary reports about the inputs: ``tariff_info`` (the grid
        tariff), ``weather_source`` and ``weather_notes`` (modelled PV arrays).
    shared : dict
        Site-wide results computed once and used by several entries or units (all PV
        arrays' availability from one weather read, the emission factors), by key.
    notes : list of str
        What a unit dropped, clipped or defaulted in the inputs without it being an
        error (EV sessions outside the horizon), one sentence each, times in the
        horizon's time zone; they become ``SiteInputs.notes``.
    planning : str
        The way of planning these inputs serve (:data:`PLANNING`): a unit words its
        notes on what the horizon cuts as that mode treats it.
    """

    scenario: Any
    horizon: Horizon
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    assets: list[AssetInput] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    first_error: type[VppError] = DataError
    info: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    planning: str = "perfect"

    def __post_init__(self) -> None:
        if self.planning not in PLANNING:
            raise ValueError(f"planning {self.planning!r} is not one of {PLANNING}")

    @property
    def site(self) -> Any:
        """The scenario's site."""
        return self.scenario.site

    def read(
        self, spec: Any, where: str, nonnegative: str | None = None, unit: str = "kW"
    ) -> np.ndarray:
        """A number or a series entry on the horizon; zeros when the series is bad.

        Parameters
        ----------
        spec : float or SeriesSpec
            A constant [``unit``] or a series entry.
        where : str
            Its scenario key, for messages (``site.load.series``).
        nonnegative : str, optional
            When given, negative values are a problem and this is the fix suggested.
        unit : str
            Unit of the values, for messages.

        Returns
        -------
        numpy.ndarray
            One value per step [``unit``]; zeros when the series cannot be used (its
            problems are collected as :class:`~vpp.errors.DataError` problems).
        """
        if not isinstance(spec, SeriesSpec):
            return np.full(self.horizon.n, float(spec))
        if not self.problems:
            self.first_error = DataError
        values = read_spec(
            spec, self.horizon, where, self.problems, nonnegative=nonnegative, unit=unit
        )
        return np.zeros(self.horizon.n) if values is None else values

    def collect(self, exc: VppError) -> None:
        """Keep the problems of ``exc``; its class is the run's error when they are first."""
        if not self.problems:
            self.first_error = type(exc)
        self.problems.extend(exc.problems)
