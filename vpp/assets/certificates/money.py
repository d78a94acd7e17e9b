"""The certificates unit: its cost, bill and carbon terms from a schedule."""

from __future__ import annotations


class CertificatesMoney:
    """Its cost, bill and carbon terms from a schedule."""
