"""The pv unit: its cost, bill and carbon terms from a schedule."""

from __future__ import annotations


class PVMoney:
    """Its cost, bill and carbon terms from a schedule."""
