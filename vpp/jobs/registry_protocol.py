"""What the daily job needs of a run registry (:class:`RunRegistry`)."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["RunRegistry"]


class RunRegistry(Protocol):
    """What the daily job needs of a run registry: a file (:class:`Registry`) or the
    platform database (``vpp.platform.runs.registry_db.DbRegistry``).

    ``path`` names it in messages (a file, or a database URL without its password).
    """

    path: Any

    def start(
        self,
        *,
        job: str,
        date: str,
        park: str,
        scenario_hash: str,
        inputs: dict[str, str],
        out_dir: str,
        note: str | None = None,
    ) -> int:
        """Record a run as ``running``; returns its id (:meth:`Registry.start`)."""
        ...

    def finish(
        self,
        run_id: int,
        *,
        status: str,
        exit_code: int,
        objective_cny: float | None = None,
        kpis: dict | None = None,
        outputs: list[str] | None = None,
        message: str | None = None,
    ) -> None:
        """Record how a run ended (:meth:`Registry.finish`)."""
        ...

    def reap(self) -> int:
        """Mark this host's dead runs ``failed`` (:meth:`Registry.reap`)."""
        ...

    def runs(
        self,
        *,
        date: str | None = None,
        status: str | None = None,
        site: str | None = None,
        park: str | None = None,
        since: str | None = None,
        limit: int | None = None,
    ) -> list[dict]:
        """The matching runs, newest first (:meth:`Registry.runs`)."""
        ...
