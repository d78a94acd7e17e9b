"""The green contract unit's operation: settled over the whole horizon, not in windows.

A contract's volumes are settled per month or year: the unit is left out of the rolling
windows and optimized over the whole horizon afterwards
(:class:`vpp.assets.settled.SettledOverTheHorizon`).
"""

from __future__ import annotations

from vpp.assets.settled import SettledOverTheHorizon


class GreenContractOperation(SettledOverTheHorizon):
    """Not in the rolling windows; settled over the horizon."""
