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
they never compare a kind's name. A unit provides
every capability (``tests/test_assets.py`` checks that). The contract of each concern
is declared in :mod:`vpp.assets.contract` (``model``, ``money``, ``rules``,
``operation``); the output columns and their roles below.
"""

from __future__ import annotations

from typing import Any, ClassVar

from vpp.assets.contract.model import ModelCapabilities
from vpp.assets.contract.money import MoneyCapabilities
from vpp.assets.contract.operation import OperationCapabilities
from vpp.assets.contract.rules import RulesCapabilities


class AssetUnit(ModelCapabilities, MoneyCapabilities, RulesCapabilities, OperationCapabilities):
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

    def with_event_steps(self, asset: Any, in_event: Any) -> Any:
        """Its block input when a park joins demand-response events covering ``in_event``
        (a bool per step); unchanged unless the kind is used only in events (a genset
        with ``use: dr_events`` overrides this)."""
        return asset

    def claims(self, entry: Any) -> bool:
        """Whether an entry of ``site_key`` is of this kind (lists shared by kinds)."""
        return True

    # Output columns: ``columns`` (above), ``roles`` and ``on_site``, class attributes set in
    # each unit's ``__init__``. Modes read a column by its role, never by a kind's name.
    roles: ClassVar[dict[str, str]]
    """What modes read from its columns by meaning: role -> key of :attr:`columns`.

    Roles (:data:`vpp.assets.columns.ROLES`; a unit declares those its columns play):

    ``pv_available``, ``pv_forecast``, ``pv_output``, ``pv_curtailed``
        PV power available (actual), as forecast (rolling runs), used or exported, and
        curtailed [kW].
    ``storage_charge``, ``storage_discharge``, ``storage_soc``
        A stationary store's charging and discharging power, bus side [kW], and its
        state of charge [kWh]. Its scenario entry gives ``energy_kwh`` [kWh] and the
        usable window ``soc_min_fraction`` .. ``soc_max_fraction`` [-].
    ``flexible_demand``, ``shed``
        A flexible load's consumption before shedding, and the power shed [kW] (what it
        draws is ``flexible_demand - shed``).
    ``grid_import``, ``grid_export``
        The site's import from and export to the grid [kW].
    ``generation``
        An on-site generator's output into the bus [kW] (a genset).
    """

    on_site: ClassVar[bool]
    """Whether its entries are equipment the site dispatches (PV, storage, flexible
    loads, vehicles): the daily job's site schedule carries every column of its entries."""

    def column(self, entry: Any, key: str) -> str:
        """The schedule column of ``entry`` for ``key`` (a key of :attr:`columns`).

        Entries with a ``name`` prefix it (``bess`` and ``charge_kw`` give
        ``bess_charge_kw``); the site's single entries (grid, load, green account, carbon
        price) declare their columns in full.
        """
        name = getattr(entry, "name", None)
        return key if name is None else f"{name}_{key}"

    def role_column(self, entry: Any, role: str) -> str | None:
        """The schedule column of ``entry`` that plays ``role``; None if none does."""
        key = self.roles.get(role)
        return None if key is None else self.column(entry, key)


def _declared(*concerns: type) -> tuple[str, ...]:
    """The capabilities a concern declares: its methods and its class attributes."""
    names: list[str] = []
    for concern in concerns:
        attributes = list(vars(concern).get("__annotations__", {}))
        methods = [n for n, v in vars(concern).items() if callable(v) and not n.startswith("_")]
        names += attributes + methods
    return tuple(names)


#: Every capability a unit provides, concern by concern.
CAPABILITIES: tuple[str, ...] = _declared(
    ModelCapabilities, MoneyCapabilities, RulesCapabilities, OperationCapabilities
)
