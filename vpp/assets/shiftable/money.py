"""The shiftable unit: its cost, bill and carbon terms from a schedule."""

from __future__ import annotations


class ShiftableMoney:
    """Its cost, bill and carbon terms from a schedule."""
