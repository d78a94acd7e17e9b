"""The park's platform: an HTTP service over a database (``vpp serve``, docs/platform.md).

Public entry points: :class:`Platform` (the database and hooks:
:mod:`vpp.platform.service`), :func:`create_app` (the FastAPI app:
:mod:`vpp.platform.app`), :class:`ScheduleCommitted` and the refusals
(:mod:`vpp.platform.refusals`). They are loaded on first use, so that ``vpp``'s other
commands do not import SQLAlchemy and FastAPI.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "BadRequest",
    "Platform",
    "PlatformRefusal",
    "ReadingConflict",
    "ScheduleCommitted",
    "StoreResult",
    "TelemetryRefused",
    "UnknownSite",
    "create_app",
]

_HOMES = {
    "BadRequest": "vpp.platform.refusals",
    "PlatformRefusal": "vpp.platform.refusals",
    "ReadingConflict": "vpp.platform.refusals",
    "TelemetryRefused": "vpp.platform.refusals",
    "UnknownSite": "vpp.platform.refusals",
    "Platform": "vpp.platform.service",
    "ScheduleCommitted": "vpp.platform.schedules",
    "StoreResult": "vpp.platform.readings",
    "create_app": "vpp.platform.app",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'vpp.platform' has no attribute {name!r}")
