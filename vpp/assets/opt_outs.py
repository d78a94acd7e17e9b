"""Shared answers of units that have nothing to give for a group of capabilities.

A unit inherits one of these in its concern's class line to say so once, instead of
writing out the empty answers (``tests/test_assets.py`` accepts exactly these, with
:class:`vpp.assets.sizing.NotSized` and :class:`vpp.assets.settled.SettledOverTheHorizon`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from vpp.errors import Problem, ScenarioError


class RebuiltEachWindow:
    """The model capabilities of a block that is not updated in place: a rolling window
    holding it is built afresh (its rows span the window, or its structure follows the
    window's data)."""

    def update(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> None:
        """None: not updated in place; the window is rebuilt."""
        return None

    def signature(self, asset: Any, horizon: Any, series: dict[str, np.ndarray]) -> None:
        """None: no two windows share its model."""
        return None


class NoShortfallToExplain:
    """The diagnosis capability of a block without elastic slacks of its own."""

    def explain_shortfall(
        self, block: Any, asset: Any, values: Callable[[Any], np.ndarray], horizon: Any
    ) -> list[Problem]:
        """Empty: this kind has no elastic slack of its own to explain."""
        return []


class PassiveInRules:
    """The rule capabilities of a unit that does not act in the rule-based baseline or in
    the daily job's fallback (it stays at its idle behaviour there)."""

    def rule_power_kw(self, asset: Any) -> float:
        """0: it adds no discharge power to the rule's set point [kW]."""
        return 0.0

    def rule(self, asset: Any, step: Any) -> None:
        """None: the rule-based baseline leaves it at its idle behaviour."""
        return None

    def fallback_final_kwh(self, asset: Any, schedule: Any, dt_h: float) -> None:
        """None: it holds no state to carry out of a fallback schedule."""
        return None


class PerStepRows:
    """A block whose rows are per step only: built on typical days, it stands for every
    day of the horizon as it is (the step costs are weighted by the sizing)."""

    def typical_days(self, block: Any, asset: Any, horizon: Any, days: Any) -> None:
        """Nothing to relink: every row is one step's."""
        return None


class NotOnTypicalDays:
    """A block with rows that span days in a way typical days cannot stand for yet (an
    energy owed over a window, a state carried from day to day)."""

    def typical_days(self, block: Any, asset: Any, horizon: Any, days: Any) -> None:
        """Refused (exit 2): its rows span days."""
        raise ScenarioError(
            Problem(
                f"typical days cannot yet size a site with a {asset.kind} entry "
                f"('{asset.name}': rows that span days)",
                key="planning.representative_periods",
                allowed=f"a site without {asset.kind} entries",
                fix="drop representative_periods, or size the site without those entries",
            )
        )
