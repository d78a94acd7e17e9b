"""Operation: a horizon run as it would be operated, re-optimized on forecasts over
rolling windows (:mod:`vpp.operation.windows`, :mod:`vpp.operation.prepare`), applied
by the real-time rule (:mod:`vpp.operation.real_time`) and settled over the whole
horizon (:mod:`vpp.operation.settlement`), with load forecasts
(:mod:`vpp.operation.load_forecast`) and the rolling summary."""
