"""Runs on the platform: started through the API in worker processes, and the daily
job's registry in the platform database.

Modules: :mod:`~vpp.platform.runs.models` (tables ``job_runs``, ``run_requests``),
:mod:`~vpp.platform.runs.registry_db` (the job's registry in the database),
:mod:`~vpp.platform.runs.telemetry_files` (the job's telemetry folder from stored
readings), :mod:`~vpp.platform.runs.supervisor` (the pool of workers, restart recovery),
:mod:`~vpp.platform.runs.worker` (a worker process), :mod:`~vpp.platform.runs.api` (the
routes).
"""
