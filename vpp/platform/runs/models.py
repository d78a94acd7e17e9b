"""The tables of runs: the daily job's registry and the runs the API was asked for.

=================  =============================================================
table              holds
=================  =============================================================
``job_runs``       the daily job's run registry (the columns of the file registry,
                   :mod:`vpp.jobs.registry_file`): one row per ``vpp schedule`` run
                   that was given ``--db``, or started by the platform
``run_requests``   a run triggered through the API: its kind and arguments, its
                   worker process (pid, start time, host), how it ended, the job's
                   registry row and the schedules it stored
=================  =============================================================

Times in ``job_runs`` are ISO 8601 UTC text as the file registry writes them
(:func:`vpp.jobs.lock.iso_utc`), so both registries give the same rows; times in
``run_requests`` are naive UTC like the platform's other tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vpp.platform.models import Base

__all__ = ["JobRun", "RunRequest"]


class JobRun(Base):
    """A run of the daily job (:class:`vpp.jobs.registry.Registry`'s ``runs`` row)."""

    __tablename__ = "job_runs"
    __table_args__ = (
        Index("ix_job_runs_date", "date"),
        Index("ix_job_runs_status", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(32))
    date: Mapped[str] = mapped_column(String(10))
    park: Mapped[str] = mapped_column(String(200))
    scenario_hash: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[str] = mapped_column(Text)
    out_dir: Mapped[str] = mapped_column(Text)
    pid: Mapped[int] = mapped_column(Integer)
    proc_start: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    host: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[str] = mapped_column(String(32))
    ended_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float(precision=53), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    objective_cny: Mapped[float | None] = mapped_column(Float(precision=53), nullable=True)
    kpis: Mapped[str | None] = mapped_column(Text, nullable=True)
    outputs: Mapped[str | None] = mapped_column(Text, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class RunRequest(Base):
    """A run asked for through the API, carried out by a worker process.

    ``status``: ``queued`` (waiting for a worker), ``starting``, ``running``,
    ``finishing`` (its outcome being stored), then ``ok``, ``fallback`` (a safe fallback
    schedule was written) or ``failed``. ``args`` is the
    request as JSON; ``schedules`` the ids of the ``schedules`` rows the run stored
    (JSON list); ``flag`` is ``fallback`` or ``failed`` when the run needs a look.
    """

    __tablename__ = "run_requests"
    __table_args__ = (Index("ix_run_requests_status", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    park: Mapped[str | None] = mapped_column(String(200), nullable=True)
    date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    args: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    flag: Mapped[str | None] = mapped_column(String(16), nullable=True)
    requested_by: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime)
    work_dir: Mapped[str] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    proc_start: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    job_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    schedules: Mapped[str | None] = mapped_column(Text, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
