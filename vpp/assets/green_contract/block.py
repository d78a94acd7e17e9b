"""The green contract unit: its Pyomo block, updater and signature, sizing keys."""

from __future__ import annotations


class GreenContractBlock:
    """Its Pyomo block, updater and signature, sizing keys."""
