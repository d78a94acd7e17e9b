"""The battery unit: its input series, idle and rule-based behaviour."""

from __future__ import annotations


class BatteryRules:
    """Its input series, idle and rule-based behaviour."""
