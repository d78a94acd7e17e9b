"""The names a run's server and worker share (:mod:`vpp.platform.runs.worker`)."""

from __future__ import annotations

__all__ = ["DB_ENV", "EXIT_FILE", "LOG_FILE", "REQUEST_FILE"]

#: The environment variable that carries the database URL to the worker.
DB_ENV = "VPP_PLATFORM_DB"
#: The request the server wrote into the work folder.
REQUEST_FILE = "request.json"
#: The exit code the worker wrote last (absent: the worker was killed).
EXIT_FILE = "exit.json"
#: The worker's standard output and error.
LOG_FILE = "log.txt"
