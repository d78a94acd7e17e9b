"""The green contract unit: its input series, idle and rule-based behaviour."""

from __future__ import annotations


class GreenContractRules:
    """Its input series, idle and rule-based behaviour."""
