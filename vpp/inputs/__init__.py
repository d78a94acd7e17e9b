"""Inputs: a scenario's site turned into time series on the horizon (every asset unit's
``inputs``), checked, with every problem collected (:mod:`vpp.inputs.site`)."""
