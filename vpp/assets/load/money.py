"""The load unit: its cost, bill and carbon terms from a schedule."""

from __future__ import annotations


class LoadMoney:
    """Its cost, bill and carbon terms from a schedule."""
