"""The shiftable unit: its rolling-window inputs, plan, real-time rule and settlement hold."""

from __future__ import annotations


class ShiftableOperation:
    """Its rolling-window inputs, plan, real-time rule and settlement hold."""
