"""The certificates unit: its input series, idle and rule-based behaviour."""

from __future__ import annotations


class CertificatesRules:
    """Its input series, idle and rule-based behaviour."""
