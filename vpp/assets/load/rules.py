"""The load unit: its input series, idle and rule-based behaviour."""

from __future__ import annotations


class LoadRules:
    """Its input series, idle and rule-based behaviour."""
