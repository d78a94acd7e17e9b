"""The grid unit: its cost, bill and carbon terms from a schedule."""

from __future__ import annotations


class GridMoney:
    """Its cost, bill and carbon terms from a schedule."""
