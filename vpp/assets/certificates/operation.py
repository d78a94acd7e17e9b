"""The certificates unit's operation: settled over the whole horizon, not in windows.

The renewable target and the certificates bought to meet it are settled over the
horizon: the unit is left out of the rolling windows and optimized over
the whole horizon afterwards (:class:`vpp.assets.settled.SettledOverTheHorizon`).
"""

from __future__ import annotations

from vpp.assets.settled import SettledOverTheHorizon


class CertificatesOperation(SettledOverTheHorizon):
    """Not in the rolling windows; settled over the horizon."""
