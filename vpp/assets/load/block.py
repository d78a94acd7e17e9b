"""The load unit: its Pyomo block, updater and signature, sizing keys."""

from __future__ import annotations


class LoadBlock:
    """Its Pyomo block, updater and signature, sizing keys."""
