"""The optimization model: build from asset blocks, solve with HiGHS, read results."""

from vpp.model.build import AssetInput, build_model
from vpp.model.results import Solved, extract
from vpp.model.solve import SolveResult, solve

__all__ = ["AssetInput", "SolveResult", "Solved", "build_model", "extract", "solve"]
