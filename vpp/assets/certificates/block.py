"""The certificates unit: its Pyomo block, updater and signature, sizing keys."""

from __future__ import annotations


class CertificatesBlock:
    """Its Pyomo block, updater and signature, sizing keys."""
