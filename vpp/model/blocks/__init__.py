"""One Pyomo block builder per asset kind (see DESIGN.md).

The block contract (ports, cost, elastic slacks) is described in
:mod:`vpp.model.blocks.contract`; the registry that finds a kind's builder is
:mod:`vpp.model.blocks.registry`. Importing this package registers the built-in
kinds: each block module below registers its builder when it is imported, and
imports only the registry and the contract, never this package.
"""

from vpp.model.blocks import (  # noqa: F401  (register the built-in kinds)
    battery,
    carbon,
    certificates,
    curtailable,
    ev_fleet,
    fixed_load,
    green_contract,
    grid,
    pv,
    shiftable,
)
