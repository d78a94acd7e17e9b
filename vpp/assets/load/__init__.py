"""The load asset unit (see :mod:`vpp.assets.base`)."""

from __future__ import annotations

from vpp.assets.base import AssetUnit
from vpp.assets.load.block import LoadBlock
from vpp.assets.load.money import LoadMoney
from vpp.assets.load.operation import LoadOperation
from vpp.assets.load.rules import LoadRules
from vpp.scenario.schema import LoadSpec


class LoadUnit(LoadBlock, LoadMoney, LoadRules, LoadOperation, AssetUnit):
    """The load: scenario entries under ``site.load``."""

    kind = "load"
    site_key = "load"
    spec_model = LoadSpec
    columns: dict[str, str] = {
        "load_kw": "kW: fixed site load",
        "load_forecast_kw": "kW: fixed site load as forecast for the applied plan (rolling runs)",
    }
    roles: dict[str, str] = {}
    on_site = False
