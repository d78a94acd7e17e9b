"""The block contract and the registries that find each asset kind's block.

The block contract (ports, cost, elastic slacks) is described in
:mod:`vpp.model.blocks.contract`; :mod:`vpp.model.blocks.registry` finds a kind's
builder and :mod:`vpp.model.blocks.updates` its updater and signature. The builders
themselves live in the asset units (``vpp/assets/<kind>/block.py``), which
:func:`vpp.assets.registry.register` enters here: anything that builds a model imports
:mod:`vpp.assets` first. This package imports nothing of the units.
"""
