"""The pv unit: its Pyomo block, updater and signature, sizing keys."""

from __future__ import annotations


class PVBlock:
    """Its Pyomo block, updater and signature, sizing keys."""
