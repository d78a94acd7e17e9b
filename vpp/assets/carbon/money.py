"""The carbon unit: its cost, bill and carbon terms from a schedule."""

from __future__ import annotations


class CarbonMoney:
    """Its cost, bill and carbon terms from a schedule."""
