"""Dispatch runs: perfect foresight, baselines, bills."""

from vpp.sim.run import RunResult, run

__all__ = ["RunResult", "run"]
