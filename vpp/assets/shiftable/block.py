"""The shiftable unit: its Pyomo block, updater and signature, sizing keys."""

from __future__ import annotations


class ShiftableBlock:
    """Its Pyomo block, updater and signature, sizing keys."""
