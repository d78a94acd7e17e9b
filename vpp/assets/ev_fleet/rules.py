"""The ev fleet unit: its input series, idle and rule-based behaviour."""

from __future__ import annotations


class EVFleetRules:
    """Its input series, idle and rule-based behaviour."""
