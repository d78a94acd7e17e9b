"""The daily scheduling job (``vpp schedule``), its inputs, and its run registry.

:mod:`vpp.jobs.registry` records every run of the job in an SQLite file and holds the
per-date lock that keeps two runs for the same day from interleaving.
"""
