"""Runs in worker processes: queued, started, watched, finished, recovered after a restart.

:class:`RunSupervisor` belongs to the server (``create_app`` makes one). A request
(:meth:`RunSupervisor.submit`) becomes a row of ``run_requests`` (``queued``) and a
work folder ``<root>/requests/<id>/``; a watcher thread waits for one of ``workers``
slots, claims the run (``starting``), starts ``python -m vpp.platform.runs.worker <work
folder>`` (:mod:`vpp.platform.runs.worker`) in a new session with its output to
``log.txt``, records its pid and start time (``running``) and waits for it. The request
never waits. Each step is one conditional UPDATE, so a run is started and finished once.

When the worker ends (:meth:`RunSupervisor.finish_run`, ``finishing``): the exit code
comes from the process, or from the worker's ``exit.json`` when another server started
it; a worker killed or gone without one is ``failed`` with the signal named. A job run's registry
row (``job_runs``, found by the worker's pid) gives the status (``ok``, ``fallback``,
``failed``) and the folder it wrote; that folder is copied to the run's ``outputs/`` and
its schedules are stored through :meth:`vpp.platform.Platform.record_day_folder`, so
the ``schedule_committed`` hooks fire after the commit. A ``fallback`` or ``failed`` run
has its ``flag`` set.

Restart (:meth:`RunSupervisor.recover`, at construction): a ``running`` row of this host
whose worker is gone is finished from its ``exit.json``, else marked ``failed``; a
worker still alive is watched again; a ``queued`` row is queued again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from vpp.errors import EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_OK, EXIT_SOLVER, VppError
from vpp.jobs.args import parse_now
from vpp.jobs.registry import EXIT_BUSY, check_date, iso_utc, process_gone, process_start
from vpp.platform.models import Park
from vpp.platform.refusals import BadRequest, PlatformRefusal, UnknownSite
from vpp.platform.runs.files import DB_ENV, EXIT_FILE, LOG_FILE, REQUEST_FILE
from vpp.platform.runs.models import RunRequest
from vpp.platform.runs.registry_db import DbRegistry

__all__ = ["KINDS", "EXIT_MEANINGS", "OPEN_STATUSES", "RunBusy", "RunSupervisor", "exit_meaning"]

LOG = logging.getLogger("vpp.platform.runs")
#: What the API may start: the daily job, its intraday re-plan, a scenario run.
KINDS = ("day-ahead", "intraday", "scenario")
#: What a worker's exit code means (vpp's codes, the job's busy code).
EXIT_MEANINGS = {
    EXIT_OK: "ok",
    1: "error: an I/O error or a bug (see the log)",
    EXIT_BAD_INPUT: "bad input",
    EXIT_INFEASIBLE: "infeasible",
    EXIT_SOLVER: "solver failure or time limit",
    EXIT_BUSY: "busy: another run holds the date",
}
#: How often a worker started by an earlier server is looked at [s].
ADOPT_POLL_S = 0.5
#: Statuses of a run not finished: waiting, its worker being started, running, its
#: outcome being stored. Each step is claimed by one conditional UPDATE, so two watchers
#: (two supervisors on one database) never start or finish a run twice.
OPEN_STATUSES = ("queued", "starting", "running", "finishing")


#: The runs some watcher thread of this process has (database URL, run id): a second
#: supervisor on the same database (another app in the same process) leaves them alone.
_WATCHED: set[tuple[str, int]] = set()
_WATCHED_LOCK = threading.Lock()


class RunBusy(PlatformRefusal):
    """A run of the same kind, park and date is queued or running (409)."""

    status = 409


def exit_meaning(code: int | None) -> str:
    """What exit code ``code`` means (None: no exit code known)."""
    if code is None:
        return "unknown: the worker ended without an exit record (killed, or a crash)"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return EXIT_MEANINGS.get(code, "error (see the log)")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _time(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.replace(tzinfo=dt.UTC).isoformat()


class RunSupervisor:
    """The server's runs: a small pool of worker processes (module docstring).

    Parameters
    ----------
    platform : vpp.platform.Platform
        The database and hooks.
    root : pathlib.Path
        Work folders go to ``<root>/requests/<id>/``; the daily job of park ``P`` writes
        ``<root>/P/`` (its dates, locks and logs, as ``vpp schedule --out``).
    workers : int
        Most runs at once [-].
    forecasts_dir : pathlib.Path, optional
        The job's weather-forecast folder (``vpp schedule --forecasts``).
    scenario_roots : list of pathlib.Path, optional
        Folders a scenario run's file may be in (default: ``scenarios/``).
    url : str, optional
        The database URL for the workers (default: the platform engine's, password
        included; it goes to the worker in its environment).
    """

    def __init__(
        self,
        platform: Any,
        root: Path,
        *,
        workers: int = 2,
        forecasts_dir: Path | None = None,
        scenario_roots: list[Path] | None = None,
        url: str | None = None,
    ):
        self.platform = platform
        self.root = Path(root).resolve()
        self.forecasts_dir = forecasts_dir
        self.scenario_roots = [Path(p).resolve() for p in (scenario_roots or [Path("scenarios")])]
        self.url = url or platform.engine.url.render_as_string(hide_password=False)
        self.registry = DbRegistry(self.url, engine=platform.engine)
        self._slots = threading.BoundedSemaphore(max(1, int(workers)))
        self._submit_lock = threading.Lock()
        self.host = socket.gethostname()
        self.recovered = self.recover()

    # -- requests ---------------------------------------------------------------------
    def submit(
        self,
        kind: str,
        *,
        requested_by: str,
        park: str | None = None,
        date: str | None = None,
        now: str | None = None,
        time_limit_s: float | None = None,
        scenario: str | None = None,
    ) -> dict[str, Any]:
        """Queue a run; returns its status (:meth:`status`) at once.

        Raises
        ------
        BadRequest
            An unknown kind, a missing park or date, a scenario outside the roots.
        UnknownSite
            The park is not registered.
        RunBusy
            The same kind, park and date is queued or running.
        """
        request: dict[str, Any] = {"kind": kind, "time_limit_s": time_limit_s}
        if kind not in KINDS:
            raise BadRequest(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        if kind == "scenario":
            request["scenario"] = str(self._scenario_path(scenario))
        else:
            request.update(self._job_request(park, date, now))
        with self._submit_lock, self.platform.sessions() as session, session.begin():
            if kind != "scenario":
                busy = session.scalars(
                    select(RunRequest.id).where(
                        RunRequest.kind == kind,
                        RunRequest.park == park,
                        RunRequest.date == date,
                        RunRequest.status.in_(OPEN_STATUSES),
                    )
                ).first()
                if busy is not None:
                    raise RunBusy(f"run {busy} ({kind} {park} {date}) is not finished yet")
            row = RunRequest(
                kind=kind,
                park=park if kind != "scenario" else None,
                date=date if kind != "scenario" else None,
                args=json.dumps(request, sort_keys=True),
                status="queued",
                requested_by=requested_by,
                requested_at=_now(),
                work_dir="",
                message="",
            )
            session.add(row)
            session.flush()
            work = self.root / "requests" / str(row.id)
            row.work_dir = str(work)
            work.mkdir(parents=True, exist_ok=True)
            (work / REQUEST_FILE).write_text(
                json.dumps({**request, "id": row.id}, indent=2), encoding="utf-8"
            )
            run_pk = row.id
        self._watch(run_pk)
        return self.status(run_pk)

    def _scenario_path(self, scenario: str | None) -> Path:
        if not scenario:
            raise BadRequest("a scenario run needs `scenario`: a scenario or park file")
        path = Path(scenario).resolve()
        if not any(path.is_relative_to(root) for root in self.scenario_roots):
            raise BadRequest(
                "the scenario file is not in a folder the server runs scenarios from",
                [
                    {
                        "field": "scenario",
                        "value": scenario[:200],
                        "message": "outside",
                        "allowed": ", ".join(str(r) for r in self.scenario_roots),
                    }
                ],
            )
        return path

    def _job_request(self, park: str | None, date: str | None, now: str | None) -> dict:
        if not park or not date:
            raise BadRequest("a day-ahead or intraday run needs `park` and `date` (YYYY-MM-DD)")
        try:
            check_date(date)
        except ValueError as exc:
            raise BadRequest(
                str(exc), [{"field": "date", "value": date[:40], "allowed": "YYYY-MM-DD"}]
            ) from None
        try:
            parse_now(now)
        except VppError as exc:
            problem = exc.problems[0]
            raise BadRequest(
                f"now: {problem.message}",
                [{"field": "now", "value": str(now)[:40], "allowed": problem.allowed}],
            ) from None
        with self.platform.sessions() as session:
            row = session.scalars(select(Park).where(Park.name == park)).first()
        if row is None:
            raise UnknownSite(f"park {park[:200]!r} is not registered (POST /api/v1/parks)")
        return {
            "park": park,
            "park_file": row.file,
            "date": date,
            "now": now,
            "jobs_out": str(self.root / park),
            "forecasts": None if self.forecasts_dir is None else str(self.forecasts_dir),
        }

    # -- workers ----------------------------------------------------------------------
    def _watch(self, run_pk: int, pid: int | None = None) -> None:
        key = (self.url, run_pk)
        with _WATCHED_LOCK:
            if key in _WATCHED:
                return
            _WATCHED.add(key)
        target = self._run if pid is None else self._adopt

        def watch() -> None:
            try:
                target(run_pk)
            finally:
                with _WATCHED_LOCK:
                    _WATCHED.discard(key)

        threading.Thread(target=watch, name=f"vpp-run-{run_pk}", daemon=True).start()

    def _run(self, run_pk: int) -> None:
        with self._slots:
            try:
                code = self._spawn_and_wait(run_pk)
            except Exception as exc:  # the worker could not start: the run failed
                LOG.exception("run %s: the worker did not start", run_pk)
                self._close(run_pk, "failed", None, f"the worker did not start: {exc}")
                return
            if code is not None:
                self.finish_run(run_pk, code)

    def _claim(self, run_pk: int, before: tuple[str, ...], after: str, **values: Any) -> bool:
        """Move the run from one of ``before`` to ``after``; False when another did."""
        with self.platform.sessions() as session, session.begin():
            done = session.execute(
                update(RunRequest)
                .where(RunRequest.id == run_pk, RunRequest.status.in_(before))
                .values(status=after, **values)
            )
        return bool(done.rowcount)

    def _spawn_and_wait(self, run_pk: int) -> int | None:
        if not self._claim(run_pk, ("queued",), "starting", host=self.host):
            return None  # another watcher has it
        with self.platform.sessions() as session:
            work = Path(session.get(RunRequest, run_pk).work_dir)
        env = {**os.environ, DB_ENV: self.url, "PYTHONUNBUFFERED": "1"}
        with open(work / LOG_FILE, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "vpp.platform.runs.worker", str(work)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # a signal to the server's group spares it
            )
        self._claim(
            run_pk,
            ("starting",),
            "running",
            pid=proc.pid,
            proc_start=process_start(proc.pid),
            started_at=_now(),
        )
        return proc.wait()

    def _adopt(self, run_pk: int) -> None:
        """Watch a worker an earlier server started until it is gone, then finish it."""
        with self.platform.sessions() as session:
            row = session.get(RunRequest, run_pk)
            pid, start = row.pid, row.proc_start
        while not process_gone(pid, start):
            time.sleep(ADOPT_POLL_S)
        self.finish_run(run_pk, None)

    def finish_run(self, run_pk: int, code: int | None) -> None:
        """Record how run ``run_pk`` ended; ``code`` None: read ``exit.json``."""
        if not self._claim(run_pk, ("running", "finishing", "starting"), "finishing"):
            return  # finished already, or by another watcher
        with self.platform.sessions() as session:
            row = session.get(RunRequest, run_pk)
            kind, work, pid, started = row.kind, Path(row.work_dir), row.pid, row.started_at
        if code is None:
            code = _exit_file_code(work)
        notes: list[str] = []
        status = "ok" if code == EXIT_OK else "failed"
        job_id, schedules = None, []
        if kind in ("day-ahead", "intraday"):
            status, job_id, schedules = self._job_outcome(work, pid, started, code, notes)
        elif code == EXIT_OK:
            notes.append(f"outputs in {work / 'outputs'}")
        if code != EXIT_OK:
            notes.insert(0, f"exit {code}: {exit_meaning(code)}")
            error = _last_error(work / LOG_FILE)
            if error:
                notes.append(error)
        self._close(run_pk, status, code, "; ".join(notes), job_id, schedules)

    def _job_outcome(
        self,
        work: Path,
        pid: int | None,
        started: dt.datetime | None,
        code: int | None,
        notes: list[str],
    ) -> tuple[str, int | None, list[int]]:
        """The status of a job run from its registry row; its schedules stored."""
        if code is None or code < 0:
            self.registry.reap()  # the worker died: its job row is failed from now on
        job = None
        if pid is not None and started is not None:
            since = iso_utc(started.replace(tzinfo=dt.UTC) - dt.timedelta(seconds=1))
            job = self.registry.run_of_process(pid, self.host, since)
        if job is None:
            notes.append("the job recorded no run (it stopped before it started)")
            return "failed", None, []
        status = job["status"] if job["status"] != "running" else "failed"
        if job["message"]:
            notes.append(str(job["message"]))
        if status not in ("ok", "fallback") or not job["outputs"]:
            return status, job["id"], []
        folder = Path(job["outputs"][0])
        _copy_outputs(folder, work / "outputs")
        try:
            events = self.platform.record_day_folder(folder, run_id=str(job["id"]))
        except PlatformRefusal as exc:
            notes.append(f"the schedule was not stored: {exc.message}")
            return "failed", job["id"], []
        return status, job["id"], [e.schedule_id for e in events]

    def _close(
        self,
        run_pk: int,
        status: str,
        code: int | None,
        message: str,
        job_id: int | None = None,
        schedules: list[int] | None = None,
    ) -> None:
        with self.platform.sessions() as session, session.begin():
            session.execute(
                update(RunRequest)
                .where(RunRequest.id == run_pk, RunRequest.status.in_(OPEN_STATUSES))
                .values(
                    status=status,
                    flag=status if status in ("fallback", "failed") else None,
                    exit_code=code,
                    ended_at=_now(),
                    message=message[:4000],
                    job_run_id=job_id,
                    schedules=json.dumps(schedules or []),
                )
            )
        LOG.info("run %s %s (exit %s)", run_pk, status, code)

    def recover(self) -> dict[str, int]:
        """After a restart: finish or watch again this host's ``running`` rows, queue the
        ``queued`` ones again. Returns how many of each."""
        with self.platform.sessions() as session:
            rows = session.execute(
                select(RunRequest.id, RunRequest.status, RunRequest.pid, RunRequest.proc_start)
                .where(RunRequest.status.in_(OPEN_STATUSES))
                .where((RunRequest.host == self.host) | RunRequest.host.is_(None))
                .order_by(RunRequest.id)
            ).all()
        counts = {"finished": 0, "watched": 0, "queued": 0}
        with _WATCHED_LOCK:
            rows = [r for r in rows if (self.url, r[0]) not in _WATCHED]
        for run_pk, status, pid, start in rows:
            if status == "queued":
                self._watch(run_pk)
                counts["queued"] += 1
            elif pid is None or process_gone(pid, start):
                self.finish_run(run_pk, None)
                counts["finished"] += 1
            else:
                self._watch(run_pk, pid)
                counts["watched"] += 1
        return counts

    # -- reading ----------------------------------------------------------------------
    def status(self, run_pk: int) -> dict[str, Any] | None:
        """A run's status (None: no such run)."""
        with self.platform.sessions() as session:
            row = session.get(RunRequest, run_pk)
            return None if row is None else _status(row)

    def list(self, limit: int = 100, park: str | None = None) -> list[dict[str, Any]]:
        """The newest runs first (of ``park`` when given).

        Raises
        ------
        UnknownSite
            ``park`` is not registered.
        """
        query = select(RunRequest).order_by(RunRequest.id.desc()).limit(limit)
        if park is not None:
            query = query.where(RunRequest.park == park)
        with self.platform.sessions() as session:
            if (
                park is not None
                and session.scalars(select(Park.id).where(Park.name == park)).first() is None
            ):
                raise UnknownSite(f"no registered park {park[:200]!r}")
            rows = session.scalars(query).all()
            return [_status(r) for r in rows]

    def work_dir(self, run_pk: int) -> Path | None:
        """A run's work folder (None: no such run)."""
        with self.platform.sessions() as session:
            row = session.get(RunRequest, run_pk)
            return None if row is None else Path(row.work_dir)


def _status(row: RunRequest) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "park": row.park,
        "date": row.date,
        "status": row.status,
        "flag": row.flag,
        "exit_code": row.exit_code,
        "exit_meaning": None if row.status in OPEN_STATUSES else exit_meaning(row.exit_code),
        "message": row.message,
        "requested_by": row.requested_by,
        "requested_at": _time(row.requested_at),
        "started_at": _time(row.started_at),
        "ended_at": _time(row.ended_at),
        "pid": row.pid,
        "job_run_id": row.job_run_id,
        "schedule_ids": json.loads(row.schedules) if row.schedules else [],
        "args": json.loads(row.args),
        "log": f"/api/v1/runs/{row.id}/log",
        "outputs": f"/api/v1/runs/{row.id}/outputs",
    }


def _exit_file_code(work: Path) -> int | None:
    try:
        code = json.loads((work / EXIT_FILE).read_text(encoding="utf-8"))["exit_code"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, int) else None


def _last_error(log: Path) -> str:
    """The log's last ``vpp: error`` line (the reason a run failed), clipped."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    found = [line for line in lines if line.startswith("vpp: error")]
    return found[-1][:1000] if found else ""


def _copy_outputs(folder: Path, target: Path) -> None:
    """Copy a job's outputs (a date folder without later runs' sub-folders)."""
    skip = {"intraday", "fallback"}
    shutil.copytree(
        folder,
        target,
        ignore=lambda where, names: [n for n in names if Path(where) == folder and n in skip],
        dirs_exist_ok=True,
    )
