"""Scenario files: the pydantic schema and the YAML loader."""

from vpp.scenario.load import load_scenario, validate_scenario
from vpp.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario", "validate_scenario"]
