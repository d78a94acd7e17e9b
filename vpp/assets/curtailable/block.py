"""The curtailable unit: its Pyomo block, updater and signature, sizing keys."""

from __future__ import annotations


class CurtailableBlock:
    """Its Pyomo block, updater and signature, sizing keys."""
