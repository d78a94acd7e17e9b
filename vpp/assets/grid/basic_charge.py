"""The monthly basic charge a grid connection is billed under.

One definition for the grid block's inputs (:mod:`vpp.sim.tariff_inputs`) and the bill
(:mod:`vpp.assets.grid.money`), so the model and the bill apply the same charge.
"""

from __future__ import annotations

from vpp.scenario.schema import Grid
from vpp.tariffs.basic import BasicChargeTerms, capacity_terms, contracted_terms, demand_terms

__all__ = ["basic_charge_terms"]


def basic_charge_terms(grid: Grid) -> BasicChargeTerms:
    """The monthly basic charge the grid connection is billed under.

    ``basic_charge`` (or the shorthand ``demand_charge_cny_per_kw_month``): by capacity,
    by contracted demand when ``contracted_demand_kw`` is given, else by actual
    maximum demand; ``none`` without either.
    """
    spec = grid.basic_charge_spec()
    if spec is None:
        return BasicChargeTerms("none")
    if spec.method == "capacity":
        assert spec.capacity_cny_per_kva_month is not None and spec.transformer_kva is not None
        return capacity_terms(spec.capacity_cny_per_kva_month, spec.transformer_kva)
    assert spec.demand_cny_per_kw_month is not None
    if spec.contracted_demand_kw is not None:
        return contracted_terms(
            spec.demand_cny_per_kw_month, spec.contracted_demand_kw, spec.transformer_kva
        )
    return demand_terms(spec.demand_cny_per_kw_month)
