"""The ev fleet unit: its Pyomo block, updater and signature, sizing keys."""

from __future__ import annotations


class EVFleetBlock:
    """Its Pyomo block, updater and signature, sizing keys."""
