"""The asset-unit contract, one module per concern (:mod:`vpp.assets.base` joins them)."""
