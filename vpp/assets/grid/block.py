"""The grid unit: its Pyomo block, updater and signature, sizing keys."""

from __future__ import annotations


class GridBlock:
    """Its Pyomo block, updater and signature, sizing keys."""
