"""The battery unit: its Pyomo block, updater and signature, sizing keys."""

from __future__ import annotations


class BatteryBlock:
    """Its Pyomo block, updater and signature, sizing keys."""
