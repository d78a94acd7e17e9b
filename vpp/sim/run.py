"""A run of one site: perfect foresight (:mod:`vpp.runs.perfect`) or rolling operation
(:mod:`vpp.operation.rolling`), with its baselines and summary."""

from __future__ import annotations

from pyomo.common.gc_manager import PauseGC

from vpp.errors import Problem, ScenarioError
from vpp.runs.perfect import run_perfect
from vpp.runs.result import Progress, RunResult
from vpp.scenario.schema import Scenario

__all__ = ["MODES", "RunResult", "run"]

#: Operation modes of :func:`run`.
MODES = ("perfect", "rolling")


def run(
    scenario: Scenario,
    *,
    mode: str | None = None,
    time_limit_s: float | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Optimize the scenario's site over its horizon.

    Parameters
    ----------
    scenario : Scenario
        What to run.
    mode : {"perfect", "rolling"}, optional
        ``perfect``: one optimization with perfect foresight. ``rolling``: daily
        re-optimization on forecasts, settled against actuals (:mod:`vpp.operation.rolling`).
        Default: the scenario's ``operation.mode``.
    time_limit_s : float, optional
        HiGHS time limit per solve [s].
    progress : callable, optional
        Called with a short message at each stage.

    Raises
    ------
    ScenarioError, DataError
        Bad input (exit code 2).
    InfeasibleError
        No dispatch meets every limit; the message names the limit and the hours.
    SolverError
        HiGHS failed or hit its time limit.
    """
    mode = mode or scenario.operation.mode
    if mode not in MODES:
        raise ScenarioError(
            Problem(
                "unknown operation mode",
                key="operation.mode",
                value=repr(mode),
                allowed=", ".join(MODES),
            )
        )
    # The cyclic garbage collector would scan the model's millions of small objects
    # again and again while they are created; nothing here makes reference cycles
    # that need it during the run.
    with PauseGC():
        if mode == "rolling":
            from vpp.operation.rolling import run_rolling

            return run_rolling(scenario, time_limit_s=time_limit_s, progress=progress)
        return run_perfect(scenario, time_limit_s=time_limit_s, progress=progress)
