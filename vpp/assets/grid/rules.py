"""The grid unit: its input series, idle and rule-based behaviour."""

from __future__ import annotations


class GridRules:
    """Its input series, idle and rule-based behaviour."""
