"""The certificates unit: the site's green account (built at site level, after every
asset it couples), idle behaviour (no account in the baselines)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.certificates.block import GreenAccount
from vpp.assets.idle import Idle
from vpp.assets.inputs import InputContext
from vpp.assets.opt_outs import PassiveInRules
from vpp.errors import Problem, ScenarioError
from vpp.model import AssetInput

#: Asset name of the site's green account.
GREEN_ASSET = "green"


class CertificatesRules(PassiveInRules):
    """Its input series, idle and rule-based behaviour."""

    input_stage = 2

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """None here: the account couples to other assets and exists with contracts but
        no target too; it is built in :meth:`site_inputs`."""
        return []

    def site_inputs(self, ctx: InputContext) -> list[AssetInput]:
        """The green account (asset ``green``) when the site has green contracts or a
        renewable target: the grid, contracts, PV, consumers and the batteries named in
        ``green_storage`` it couples to (no series).

        Raises
        ------
        ScenarioError
            A ``green_storage`` name that is not a battery, or whose green-state columns
            would clash with an asset's.
        """
        site = ctx.site
        target = site.renewable_target
        batteries = {b.name: b for b in site.batteries}
        names = {a.name for a in site.pv} | set(batteries) | {f.name for f in site.flexible_loads}
        problems: list[Problem] = []
        storage = []
        for name in target.green_storage if target else []:
            if name not in batteries:
                problems.append(
                    Problem(
                        f"green_storage names '{name}', which is not a battery of the site",
                        key="site.renewable_target.green_storage",
                        value=repr(name),
                        allowed=", ".join(sorted(batteries)) or "no batteries at this site",
                    )
                )
            elif f"{GREEN_ASSET}_{name}" in names:
                problems.append(
                    Problem(
                        f"an asset is named '{GREEN_ASSET}_{name}', which clashes with the "
                        f"result columns of the green state of battery '{name}'",
                        key="site.renewable_target.green_storage",
                        fix=f"rename the asset '{GREEN_ASSET}_{name}'",
                    )
                )
            else:
                storage.append((name, batteries[name]))
        if problems:
            raise ScenarioError(problems)
        contracts = tuple(c.name for c in site.green_contracts)
        if not contracts and target is None:
            return []
        account = GreenAccount(
            grid="grid",
            contracts=contracts,
            pv=tuple(a.name for a in site.pv),
            consumers=("load", *(f.name for f in site.flexible_loads)),
            storage=tuple(storage),
            target=target,
        )
        return [AssetInput(GREEN_ASSET, "certificates", account, {})]

    def idle(self, asset: AssetInput, series: pd.DataFrame) -> Idle:
        """Nothing: the baselines have no certificates."""
        return Idle()

    def delivered(
        self, asset: AssetInput, series: pd.DataFrame, share: np.ndarray
    ) -> dict[str, np.ndarray]:
        """None: the account supplies no power."""
        return {}
