"""The curtailable unit: its rolling-window inputs, plan, real-time rule and settlement hold."""

from __future__ import annotations


class CurtailableOperation:
    """Its rolling-window inputs, plan, real-time rule and settlement hold."""
