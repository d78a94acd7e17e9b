"""The curtailable unit: its cost, bill and carbon terms from a schedule."""

from __future__ import annotations


class CurtailableMoney:
    """Its cost, bill and carbon terms from a schedule."""
