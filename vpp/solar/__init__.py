"""Solar: PV output models (clear-sky stand-in; weather-driven arrays to come)."""
