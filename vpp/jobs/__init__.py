"""The daily scheduling job (``vpp schedule``), its inputs, and its run registry.

:mod:`vpp.jobs.schedule` runs the job: :mod:`vpp.jobs.args` checks its arguments,
:mod:`vpp.jobs.day` reads the day site by site and optimizes it, :mod:`vpp.jobs.fallback`
builds the safe schedule per site, :mod:`vpp.jobs.outputs` writes the date's folder.
:mod:`vpp.jobs.registry` records every run of the job in an SQLite file
(:mod:`vpp.jobs.registry_file`) and holds the per-date lock (:mod:`vpp.jobs.lock`) that
keeps two runs for the same day from interleaving; the registry's rows and rules are
:mod:`vpp.jobs.registry_store`'s, which the platform's database shares.
"""
