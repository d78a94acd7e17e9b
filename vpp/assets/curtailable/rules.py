"""The curtailable unit: its input series, idle and rule-based behaviour."""

from __future__ import annotations


class CurtailableRules:
    """Its input series, idle and rule-based behaviour."""
