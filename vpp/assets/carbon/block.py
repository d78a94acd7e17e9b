"""The carbon unit: its Pyomo block, updater and signature, sizing keys."""

from __future__ import annotations


class CarbonBlock:
    """Its Pyomo block, updater and signature, sizing keys."""
