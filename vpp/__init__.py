"""vpp: virtual power plant and PV/storage dispatch optimizer for industrial parks.

Python API, mirroring the command line::

    import vpp
    scenario = vpp.load_scenario("scenarios/xushuguan-factory.yaml")
    result = vpp.run(scenario)
    result.schedule, result.summary, result.baseline
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

if TYPE_CHECKING:
    from vpp.scenario import Scenario
    from vpp.sim import RunResult


def load_scenario(path: Any, *, allow_outside: bool = False) -> Scenario:
    """Load and validate a scenario YAML file (see :func:`vpp.scenario.load_scenario`).

    The files it names must lie in its project folder unless ``allow_outside``
    (:mod:`vpp.scenario.reach`).
    """
    from vpp.scenario import load_scenario as _load

    return _load(path, allow_outside=allow_outside)


def run(scenario: Scenario, **options: Any) -> RunResult:
    """Optimize a scenario and compare it with its baseline (see :func:`vpp.sim.run`)."""
    from vpp.sim import run as _run

    return _run(scenario, **options)


__all__ = ["__version__", "load_scenario", "run"]
