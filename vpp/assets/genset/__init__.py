"""The diesel generator set unit (see :mod:`vpp.assets.base`; scenario entry
:class:`vpp.scenario.genset.Genset` under ``site.gensets``).

Files: ``block.py`` (Pyomo block, updater, signature), ``money.py`` (bill and carbon
terms), ``rules.py`` (input series; off in baselines and the fallback), ``operation.py``
(rolling windows, real-time rule, settlement hold), ``controller.py`` (its real-time
controller), ``diesel.py`` (litres, tonnes and the carbon price of its diesel).
"""

from __future__ import annotations

from vpp.assets.base import AssetUnit
from vpp.assets.genset.block import GensetBlock
from vpp.assets.genset.money import GensetMoney
from vpp.assets.genset.operation import GensetOperation
from vpp.assets.genset.rules import GensetRules
from vpp.scenario.genset import Genset


class GensetUnit(GensetBlock, GensetMoney, GensetRules, GensetOperation, AssetUnit):
    """The diesel generator set: scenario entries under ``site.gensets``."""

    kind = "genset"
    site_key = "gensets"
    spec_model = Genset
    columns: dict[str, str] = {
        "power_kw": "kW: output to the site bus",
        "running_fraction": "-: running: 1 on, 0 off (with a minimum stable load); the "
        "output's share of rated power (without one)",
    }
    roles: dict[str, str] = {"generation": "power_kw"}
    on_site = True
