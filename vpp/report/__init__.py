"""Figures and output files (the only place that imports matplotlib)."""
