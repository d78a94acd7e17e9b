"""The carbon unit: its input series, idle and rule-based behaviour."""

from __future__ import annotations


class CarbonRules:
    """Its input series, idle and rule-based behaviour."""
