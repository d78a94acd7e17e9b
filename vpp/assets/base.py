"""The asset-unit contract: everything one asset kind does, declared in one place.

An asset kind (grid, load, PV, battery, ...) is one *unit*: a small package
``vpp/assets/<kind>/`` whose ``__init__`` defines one subclass of :class:`AssetUnit`,
registered by one line in :mod:`vpp.assets`. The unit's files are split by concern:

``block.py``
    its Pyomo block: one builder whose capacities are numbers or sizing variables,
    its parameter updater and structure signature for model reuse, its sizing keys;
``money.py``
    its cost and bill terms computed from a schedule (used by the bill, by the
    objective check on every solve) and its carbon terms;
``rules.py``
    how its input series are built from the scenario, its idle and rule-based
    behaviour (baselines, the daily job's fallback);
``operation.py``
    what a rolling window gives it (forecasts, the state now), how its plan is read,
    its real-time rule (settlement of rolling runs), and how the settlement holds it.

Modes (build, bill, baselines, rolling, settlement, the park, the job, sizing, the
report) iterate over :func:`vpp.assets.registry.units` and call these capabilities;
they never compare a kind's name. Each section below is one concern; a unit provides
every capability (``tests/test_assets.py`` checks that).
"""

from __future__ import annotations

from typing import Any, ClassVar


class AssetUnit:
    """One asset kind. Subclasses set the class attributes and provide every capability.

    Attributes
    ----------
    kind : str
        The kind's name (``AssetInput.kind``, the block registry key).
    site_key : str
        The ``Site`` field its scenario entries live under (``batteries``, ``grid``).
    spec_model : type
        Its scenario model (a frozen pydantic model with field descriptions and units).
    columns : dict of str to str
        Its schedule output columns, ``<name>_<suffix>`` -> "unit: meaning"
        (``{"charge_kw": "kW: charging power, bus side"}``); site-level columns (the
        grid's) are given in full.
    """

    kind: ClassVar[str]
    site_key: ClassVar[str]
    spec_model: ClassVar[type]
    columns: ClassVar[dict[str, str]]

    def entries(self, site: Any) -> list[Any]:
        """The site's scenario entries of this kind, in scenario order."""
        value = getattr(site, self.site_key)
        if value is None:
            return []
        return list(value) if isinstance(value, (list, tuple)) else [value]

    def claims(self, entry: Any) -> bool:
        """Whether an entry of ``site_key`` is of this kind (lists shared by kinds)."""
        return True

    # ----------------------------------------------------------------- block.py (model)
    # build(block, asset, horizon, series, *, elastic=False) -> None
    # update(block, asset, horizon, series, *, elastic=False) -> list[change] | None
    # signature(asset, horizon, series) -> Hashable

    # ----------------------------------------------------------------- money.py (money)

    # ----------------------------------------------------------------- rules.py (inputs, idle)

    # ----------------------------------------------------------------- operation.py (rolling)


CAPABILITIES: tuple[str, ...] = (
    "build",
    "update",
    "signature",
)
