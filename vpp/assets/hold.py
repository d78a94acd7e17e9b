"""Holding a variable at operated values in the settlement model (:mod:`vpp.operation.settlement`).

The settlement of a rolling run builds the full-horizon model and holds every
physical quantity at what was operated (each unit's
:meth:`~vpp.assets.base.AssetUnit.hold`), by equal bounds so that it stays a column.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Operated values smaller than this [kW] are rounding residues of the real-time rule
#: (1e-13 kW and the like) and are held at zero: as bounds they would be far below
#: HiGHS's tolerances, which it reports as "excessively small bounds".
RESIDUE_KW = 1e-9


def hold_at(var: Any, values: np.ndarray) -> None:
    """Hold an indexed variable at ``values`` by equal bounds (it stays a column);
    residues below :data:`RESIDUE_KW` in magnitude are held at zero."""
    held = np.where(np.abs(values) < RESIDUE_KW, 0.0, values)
    for v, x in zip(var.values(), held.tolist()):
        v.setlb(x)
        v.setub(x)


def release_upper(var: Any) -> None:
    """Remove the upper bound of every element of an indexed variable."""
    for v in var.values():
        v.setub(None)
