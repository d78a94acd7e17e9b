"""The shiftable unit: its input series, idle and rule-based behaviour."""

from __future__ import annotations


class ShiftableRules:
    """Its input series, idle and rule-based behaviour."""
