"""What a block changes between solves of one compiled model (rolling horizon).

A rolling horizon solves many windows whose models have the same structure (the same
variables and rows) and differ only in numbers: prices, available PV, loads, the
state of charge now, the peak already set this month. Rather than rebuild and
recompile each window, :class:`vpp.model.update.ReusableModel` asks each block's
*updater* for its numbers on the new window and writes them into the HiGHS instance.

An updater (an asset unit's ``update``, registered with :func:`register_update` by
:func:`vpp.assets.registry.register`) has the builder's signature and returns a list of
changes:

- :class:`ColBounds`: new lower and/or upper bounds of variables [their unit];
- :class:`ColCost`: new objective coefficients of variables [CNY per unit];
- :class:`RowBounds`: new bounds of constraints (their bodies carry no constant);
- :class:`BusConstant`: the constant part of the block's ``net_kw`` port [kW].

or None when the kind cannot be updated in place (its structure changes with the
window): a window holding such a block is rebuilt. Its *signature* function returns
what must be equal for two windows to share a model (for example a shiftable load's
window pattern), or None for a kind that cannot be updated. The numbers an updater returns
must be the numbers its builder would have used: the rolling-versus-rebuild test
(``tests/test_rolling.py``) checks that on every block kind that has one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

Updater = Callable[..., list[Any] | None]
Signature = Callable[..., Hashable | None]

_UPDATERS: dict[str, tuple[Updater, Signature]] = {}


@dataclass(frozen=True)
class ColBounds:
    """New bounds of variables (an indexed Var in index order, or a list); None = keep."""

    variables: Any
    lower: Any = None
    upper: Any = None


@dataclass(frozen=True)
class ColCost:
    """New objective coefficients of variables [CNY per unit of the variable]."""

    variables: Any
    cost: Any


@dataclass(frozen=True)
class RowBounds:
    """New bounds of constraints (indexed Constraint or list); None = keep."""

    constraints: Any
    lower: Any = None
    upper: Any = None


@dataclass(frozen=True)
class BusConstant:
    """The constant part of the block's ``net_kw`` port on the window [kW]."""

    kw: np.ndarray


def register_update(kind: str, update: Updater, signature: Signature) -> None:
    """Register the updater and signature of asset kind ``kind``.

    Parameters
    ----------
    kind : str
        The asset kind, as :class:`vpp.model.build.AssetInput` names it.
    update : callable
        ``update(block, asset, horizon, series, *, elastic=False)``: the changes of a new
        window, or None when the kind cannot be updated in place.
    signature : callable
        ``signature(asset, horizon, series)``: what two windows must share to reuse a
        model (hashable), or None when the kind cannot be updated in place.
    """
    if kind in _UPDATERS:
        raise ValueError(f"asset kind '{kind}' has two updaters")
    _UPDATERS[kind] = (update, signature)


def updater(kind: str) -> tuple[Updater, Signature] | None:
    """The updater and signature of ``kind``, or None if none is registered."""
    return _UPDATERS.get(kind)
