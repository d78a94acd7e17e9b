"""What a block changes between solves of one compiled model (rolling horizon).

A rolling horizon solves many windows whose models have the same structure (the same
variables and rows) and differ only in numbers: prices, available PV, loads, the
state of charge now, the peak already set this month. Rather than rebuild and
recompile each window, :class:`vpp.model.update.ReusableModel` asks each block's
*updater* for its numbers on the new window and writes them into the HiGHS instance.

An updater, registered with :func:`register_update` next to the block's builder,
has the builder's signature and returns a list of changes:

- :class:`ColBounds`: new lower and/or upper bounds of variables [their unit];
- :class:`ColCost`: new objective coefficients of variables [CNY per unit];
- :class:`RowBounds`: new bounds of constraints (their bodies carry no constant);
- :class:`BusConstant`: the constant part of the block's ``net_kw`` port [kW].

Its *signature* function returns what must be equal for two windows to share a
model (for example a shiftable load's window pattern). The numbers an updater returns
must be the numbers its builder would have used: the rolling-versus-rebuild test
(``tests/test_rolling.py``) checks that on every block kind that has one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

Updater = Callable[..., list[Any]]
Signature = Callable[..., Hashable]

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


def _no_structure(asset: Any, horizon: Any, series: dict[str, np.ndarray]) -> Hashable:
    return ()


def register_update(
    kind: str, signature: Signature = _no_structure
) -> Callable[[Updater], Updater]:
    """Register ``func`` as the updater of asset kind ``kind``, with its ``signature``."""

    def wrap(func: Updater) -> Updater:
        if kind in _UPDATERS:
            raise ValueError(f"asset kind '{kind}' has two updaters")
        _UPDATERS[kind] = (func, signature)
        return func

    return wrap


def updater(kind: str) -> tuple[Updater, Signature] | None:
    """The updater and signature of ``kind``, or None if the kind cannot be updated."""
    return _UPDATERS.get(kind)
