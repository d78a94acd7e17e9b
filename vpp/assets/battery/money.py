"""The battery unit: its cost, bill and carbon terms from a schedule."""

from __future__ import annotations


class BatteryMoney:
    """Its cost, bill and carbon terms from a schedule."""
