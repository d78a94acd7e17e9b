"""The run of one site in the mode asked for (:func:`vpp.sim.run.run`): perfect
foresight (:mod:`vpp.runs`) or rolling operation (:mod:`vpp.operation`)."""

from vpp.sim.run import RunResult, run

__all__ = ["RunResult", "run"]
