"""A battery's block on typical days: Kotzur et al. 2018's inter-period state in place of
the block's state bounds, start and end rows (equations: :mod:`vpp.planning.typical`)."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from vpp.assets.storage import StorageDynamics
from vpp.assets.typical_days import Aggregation
from vpp.model.blocks.contract import linear


def relink_state(block: Any, asset: Any, horizon: Any, agg: Aggregation, target_kwh: float) -> None:
    """Kotzur's inter-period state (module docstring) in place of the block's bounds,
    start and end rows."""
    spec = asset.spec
    s = agg.steps_per_day
    k_count = len(agg.day_of_typical)
    n_days = len(agg.order)
    keep = StorageDynamics.of(spec, horizon.step_h).keep
    soc = block.soc_kwh
    sized = hasattr(block, "energy_kwh")
    for name in ("soc_below_max", "soc_above_min", "soc_start", "soc_final"):
        if hasattr(block, name):
            block.del_component(getattr(block, name))
    for v in soc.values():
        v.setlb(None)
        v.setub(None)
    soc[0].setlb(0.0)  # the chain's offset: any value, pinned to 0
    soc[0].setub(0.0)
    lo, hi, s0 = spec.soc_min_fraction, spec.soc_max_fraction, spec.soc_initial_fraction
    if sized:
        e_terms: tuple[list[float], list[Any]] = ([1.0], [block.energy_kwh])
        start, end_fraction = (
            0.0,
            s0 if spec.final_target_kwh() is None else spec.final_soc.fraction,
        )
    else:
        e = float(spec.energy_kwh)
        e_terms = ([], [])
        start = s0 * e
        end_fraction = 0.0
    rule = spec.final_rule()
    block.inter_kwh = pyo.Var(range(n_days + 1), bounds=(0.0, None))
    block.intra_max_kwh = pyo.Var(range(k_count))
    block.intra_min_kwh = pyo.Var(range(k_count))
    inter, up, down = block.inter_kwh, block.intra_max_kwh, block.intra_min_kwh
    pw = [keep**j for j in range(s + 1)]

    def delta(k: int, j: int) -> tuple[list[float], list[Any]]:
        """:math:`\\delta_{k,j}` as coefficients and variables."""
        if j == 0:
            return [], []
        return [1.0, -pw[j]], [soc[k * s + j], soc[k * s]]

    def times_e(f: float) -> tuple[list[float], list[Any]]:
        """:math:`f E` as terms (sized) or a constant (given, folded into the bound)."""
        return ([f * c for c in e_terms[0]], list(e_terms[1])) if sized else ([], [])

    e_given = 0.0 if sized else float(spec.energy_kwh)
    pairs = [(k, j) for k in range(k_count) for j in range(s + 1)]
    block.intra_max_def = pyo.Constraint(
        range(len(pairs)),
        rule=lambda b, i: (
            None,
            linear(*_plus(delta(*pairs[i]), ([-1.0], [up[pairs[i][0]]]))),
            0.0,
        ),
    )
    block.intra_min_def = pyo.Constraint(
        range(len(pairs)),
        rule=lambda b, i: (
            0.0,
            linear(*_plus(delta(*pairs[i]), ([-1.0], [down[pairs[i][0]]]))),
            None,
        ),
    )
    order = agg.order.tolist()

    def upper_row(b: Any, d: int) -> Any:  # I_d + up_c - hi E <= 0 (or <= hi e)
        cf, vs = _plus(([1.0, 1.0], [inter[d], up[order[d]]]), times_e(-hi))
        return (None, linear(cf, vs), hi * e_given)

    def lower_row(b: Any, d: int) -> Any:  # keep^S I_d + down_c - lo E >= 0 (or >= lo e)
        cf, vs = _plus(([pw[s], 1.0], [inter[d], down[order[d]]]), times_e(-lo))
        return (lo * e_given, linear(cf, vs), None)

    def step_row(b: Any, d: int) -> Any:  # I_{d+1} - keep^S I_d - delta_{c,S} = 0
        dc, dv = delta(order[d], s)
        cf, vs = _plus(([1.0, -pw[s]], [inter[d + 1], inter[d]]), ([-c for c in dc], dv))
        return (0.0, linear(cf, vs), 0.0)

    block.inter_upper = pyo.Constraint(range(n_days), rule=upper_row)
    block.inter_lower = pyo.Constraint(range(n_days), rule=lower_row)
    block.inter_step = pyo.Constraint(range(n_days), rule=step_row)
    last = inter[n_days]
    cf, vs = _plus(([1.0], [last]), times_e(-hi))
    block.inter_end_upper = pyo.Constraint(expr=(None, linear(cf, vs), hi * e_given))
    cf, vs = _plus(([1.0], [last]), times_e(-lo))
    block.inter_end_lower = pyo.Constraint(expr=(lo * e_given, linear(cf, vs), None))
    cf, vs = _plus(([1.0], [inter[0]]), times_e(-s0))
    block.inter_start = pyo.Constraint(expr=(start, linear(cf, vs), start))
    if sized:
        cf, vs = _plus(([1.0], [last]), times_e(-end_fraction))
        target = 0.0
    else:
        cf, vs = [1.0], [last]
        target = target_kwh
    del end_fraction
    if rule == "at_least":
        block.inter_final = pyo.Constraint(expr=(target, linear(cf, vs), None))
    elif rule == "equal":
        block.inter_final = pyo.Constraint(expr=(target, linear(cf, vs), target))


def _plus(*parts: tuple[list[float], list[Any]]) -> tuple[list[float], list[Any]]:
    """Terms joined: coefficients and variables [-]."""
    return [c for p in parts for c in p[0]], [v for p in parts for v in p[1]]
