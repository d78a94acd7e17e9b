"""The pv unit: its input series, idle and rule-based behaviour."""

from __future__ import annotations


class PVRules:
    """Its input series, idle and rule-based behaviour."""
