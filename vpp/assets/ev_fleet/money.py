"""The ev fleet unit: its cost, bill and carbon terms from a schedule."""

from __future__ import annotations


class EVFleetMoney:
    """Its cost, bill and carbon terms from a schedule."""
