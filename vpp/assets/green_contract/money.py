"""The green contract unit: its cost, bill and carbon terms from a schedule."""

from __future__ import annotations


class GreenContractMoney:
    """Its cost, bill and carbon terms from a schedule."""
