"""The deferrable-load unit in rolling operation: not built yet, refused at its start.

A deferrable load is a mixed-integer block whose runs span re-optimizations; carrying a
run that is under way from one window into the next is not built. Rolling runs, the
park backtest and the daily job refuse a scenario that holds one when they read its
initial state (:meth:`DeferrableOperation.initial_state`,
:meth:`DeferrableOperation.job_initial_state`; a park, perfect or rolling, already when
it joins its sites' inputs, :meth:`vpp.assets.deferrable.DeferrableUnit.with_event_steps`),
before any window is solved, with exit code 2 and a message for each case
(:data:`REFUSALS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vpp.assets.control import Applied, Window
from vpp.assets.hold import hold_at
from vpp.errors import Problem, ScenarioError
from vpp.timeseries import Horizon


@dataclass(frozen=True)
class Refusal:
    """What a mode that does not run deferrable loads says: why, what runs them, the fix."""

    what: str
    allowed: str
    fix: str


#: The refusal of each mode: a rolling run of one site, a park (``vpp run`` of a park
#: file, perfect or rolling), the daily job (``vpp schedule``).
REFUSALS = {
    "rolling": Refusal(
        "deferrable loads run in perfect-foresight runs (vpp run); rolling operation of "
        "them is not built yet",
        "operation.mode: perfect (vpp run without --mode rolling)",
        "run the scenario with perfect foresight, or replace the load by a shiftable one "
        "(kind: shiftable) for rolling operation",
    ),
    "park": Refusal(
        "deferrable loads run in perfect-foresight runs of one site (vpp run); a park "
        "with them is not built yet, in perfect foresight or rolling",
        "a single-site scenario in perfect foresight (vpp run <the site's file>)",
        "run the site's own scenario file alone, or replace the load by a shiftable one "
        "(kind: shiftable) in the park's site",
    ),
    "job": Refusal(
        "the daily job (vpp schedule) plans its park in rolling windows, and rolling "
        "operation of deferrable loads is not built yet",
        "a perfect-foresight run of the site alone (vpp run <the site's file>)",
        "remove the load from the job's site or replace it by a shiftable one "
        "(kind: shiftable); plan the site with vpp run",
    ),
}
#: What a rolling run with a deferrable load is told.
ROLLING_REFUSED = REFUSALS["rolling"].what


def refused(asset: Any, case: str = "rolling") -> ScenarioError:
    """The bad-input error of a mode that does not run deferrable loads (exit 2).

    Parameters
    ----------
    asset : AssetInput
        The deferrable load.
    case : str
        ``rolling``, ``park`` or ``job`` (:data:`REFUSALS`).
    """
    refusal = REFUSALS[case]
    return ScenarioError(
        Problem(
            f"deferrable load '{asset.name}': {refusal.what}",
            key=f"site.flexible_loads '{asset.name}'",
            value="kind: deferrable",
            allowed=refusal.allowed,
            fix=refusal.fix,
        )
    )


class DeferrableOperation:
    """Rolling operation refuses it (module docstring); the answers below are those of a
    load that runs as planned, for a settlement that holds a perfect schedule."""

    def in_windows(self, asset: Any) -> bool:
        """A deferrable load would be planned in every window."""
        return True

    def initial_state(self, asset: Any, horizon: Horizon) -> None:
        """Refused: rolling operation of deferrable loads is not built yet.

        Raises
        ------
        ScenarioError
            Always (``REFUSALS["rolling"]``).
        """
        raise refused(asset)

    def job_initial_state(self, asset: Any, horizon: Horizon) -> None:
        """Refused: the daily job (:func:`vpp.jobs.states.site_states`) plans in rolling
        windows, which deferrable loads do not run in yet.

        Raises
        ------
        ScenarioError
            Always (``REFUSALS["job"]``).
        """
        raise refused(asset, "job")

    def window_import_price_cny_per_kwh(
        self, asset: Any, scenario: Any, start: int, stop: int
    ) -> float:
        """A deferrable load adds nothing to the import price."""
        return 0.0

    def window(self, asset: Any, state: Any, window: Window) -> Any:
        """Refused (:meth:`initial_state`)."""
        raise refused(asset)

    def plan_columns(self, block: Any, asset: Any, values: Any) -> dict[str, np.ndarray]:
        """The planned power [kW], on and start flags [0/1]."""
        return {
            f"{asset.name}_power_kw": values(block.power_kw),
            f"{asset.name}_on": values(block.on),
            f"{asset.name}_start": values(block.start),
        }

    def operated_columns(self, asset: Any, n: int) -> dict[str, np.ndarray]:
        """The settled power [kW], on and start flags [0/1], zero before settling."""
        return {f"{asset.name}_{k}": np.zeros(n) for k in ("power_kw", "on", "start")}

    def controller(self, asset: Any, state: Any, applied: Applied) -> Any:
        """Refused (:meth:`initial_state`)."""
        raise refused(asset)

    def carry(self, asset: Any, state: Any, controller: Any) -> Any:
        """Refused (:meth:`initial_state`)."""
        raise refused(asset)

    def hold(self, block: Any, asset: Any, columns: dict[str, np.ndarray]) -> None:
        """Power, on and start held at their settled values."""
        for key in ("power_kw", "on", "start"):
            hold_at(getattr(block, key), columns[f"{asset.name}_{key}"])

    def final_shortfall(self, asset: Any, final_kwh: Any, price_cny_per_kwh: float) -> None:
        """A deferrable load has no final-state rule."""
        return None

    def measured_state(self, entry: Any) -> None:
        """A deferrable load has no measured state."""
        return None

    def with_forecasts(self, asset: Any, forecasts: dict[str, Any], state: float | None) -> Any:
        """Its windows and runs are declared: the input as it is."""
        return asset
