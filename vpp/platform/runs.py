"""Runs the platform starts: the daily job in a worker process, never in the request.

:func:`start_run` records a run (``queued``), writes the park's telemetry from the
database as the job's telemetry folder (:mod:`vpp.platform.job_inputs`) and starts
``vpp schedule`` in its own process (``python -m vpp.cli schedule PARK --date D --now T
--out OUT --telemetry DIR --forecasts DIR [--intraday]``). A watcher thread waits for
it, stores the day it published (:meth:`vpp.platform.service.Platform.record_day_folder`:
schedules, then the hooks) and ends the run ``ok``, ``fallback`` or ``failed`` with the
log's tail. Runs still ``queued`` or ``running`` when a server starts are ended
``failed`` (:func:`end_orphans`): their watcher died with the previous server.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from vpp.platform.job_inputs import export_telemetry
from vpp.platform.models import Park, Run
from vpp.platform.parks import list_sites
from vpp.platform.refusals import BadRequest, PlatformRefusal, UnknownSite

__all__ = ["LOG_TAIL_CHARS", "RunSettings", "end_orphans", "list_runs", "run_facts", "start_run"]

#: Characters of a run's log kept in its row and shown by the API: the platform's own
#: lines first (at most half), then the job's last lines [-].
LOG_TAIL_CHARS = 4000
#: ``vpp schedule``'s first line: ``<park> <date>: <status> (run <id>); ... outputs <dir>``.
_FIRST_LINE = re.compile(r": (?P<status>\w+) \(run (?P<run>[^)]+)\);.* outputs (?P<out>.+)$")
KINDS = ("day-ahead", "intraday")


@dataclass(frozen=True)
class RunSettings:
    """Where runs write and read.

    Attributes
    ----------
    out_root : pathlib.Path
        Each park's job output root is ``out_root/<park>/`` (the job's registry there).
    forecasts_dir : pathlib.Path
        The weather-forecast folder the job reads.
    """

    out_root: Path = Path("runs") / "platform"
    forecasts_dir: Path = Path("forecasts")


def _utc_naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def run_facts(run: Run, park: str) -> dict[str, Any]:
    """A run as the API shows it."""
    return {
        "id": run.id,
        "park": park,
        "kind": run.kind,
        "date": run.date.isoformat(),
        "status": run.status,
        "run_id": run.run_id,
        "out_dir": run.out_dir,
        "log": run.message,
        "recorded_at": run.recorded_at.replace(tzinfo=dt.UTC).isoformat(),
    }


def start_run(
    platform: Any, park: str, kind: str, day: dt.date, now: dt.datetime, settings: RunSettings
) -> dict[str, Any]:
    """Record a run and start its worker process; returns its facts (status ``running``).

    Raises
    ------
    UnknownSite
        The park is not registered.
    BadRequest
        An unknown kind, or ``now`` without its UTC offset.
    """
    if kind not in KINDS:
        raise BadRequest(f"unknown run kind {kind!r}; allowed: {', '.join(KINDS)}")
    if now.tzinfo is None:
        raise BadRequest("now has no UTC offset; give e.g. 2026-07-15T15:00:00+08:00")
    sites = list_sites(platform.sessions, park)
    with platform.sessions() as session, session.begin():
        row = session.execute(select(Park).where(Park.name == park)).scalar_one_or_none()
        if row is None or not sites:
            raise UnknownSite(f"no registered park {park[:200]!r}")
        run = Run(
            kind=kind,
            park_id=row.id,
            date=day,
            status="running",
            out_dir="",
            message="",
            recorded_at=_utc_naive(platform.clock()),
        )
        session.add(run)
        session.flush()
        run_pk, park_file = run.id, row.file
    try:
        worker, log = _launch(platform, run_pk, park, park_file, kind, day, now, sites, settings)
    except Exception as exc:  # nothing started: the run ends here, and the caller is told
        _end(platform, run_pk, "failed", f"the run could not start: {exc!r}"[:LOG_TAIL_CHARS])
        raise
    watcher = threading.Thread(
        target=_watch, args=(platform, run_pk, worker, log), name=f"vpp-run-{run_pk}", daemon=True
    )
    watcher.start()
    with platform.sessions() as session:
        return run_facts(session.get(Run, run_pk), park)


def _launch(
    platform: Any,
    run_pk: int,
    park: str,
    park_file: str,
    kind: str,
    day: dt.date,
    now: dt.datetime,
    sites: list[Any],
    settings: RunSettings,
) -> tuple[subprocess.Popen, Path]:
    """Write the run's telemetry folder and start ``vpp schedule`` in its own process."""
    folder = Path(settings.out_root) / park
    telemetry = folder / "telemetry" / f"run-{run_pk}"
    notes = export_telemetry(platform.sessions, sites, now, telemetry)
    command = [
        sys.executable,
        "-m",
        "vpp.cli",
        "schedule",
        park_file,
        "--date",
        day.isoformat(),
        "--now",
        now.isoformat(),
        "--out",
        str(folder),
        "--telemetry",
        str(telemetry),
        "--forecasts",
        str(settings.forecasts_dir),
    ]
    if kind == "intraday":
        command.append("--intraday")
    log = folder / "logs" / f"platform-run-{run_pk}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as out:
        for note in notes:
            out.write(f"platform: {note}\n")
        out.flush()
        worker = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    return worker, log


def _end(platform: Any, run_pk: int, status: str, message: str, **facts: Any) -> None:
    with platform.sessions() as session, session.begin():
        run = session.get(Run, run_pk)
        run.status = status
        run.message = message
        for name, value in facts.items():
            if value:
                setattr(run, name, value)


def _watch(platform: Any, run_pk: int, worker: subprocess.Popen, log: Path) -> None:
    """Wait for the worker, store what it published, end the run."""
    code = worker.wait()
    text = log.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines()
    ours = [line for line in lines if line.startswith("platform: ")]  # never cut off
    found = next((m for m in map(_FIRST_LINE.search, lines) if m), None)
    status, out_dir, run_id = "failed", "", None
    if found is not None:
        out_dir, run_id = found["out"].strip(), found["run"]
        try:
            platform.record_day_folder(out_dir, run_id=run_id, run_pk=run_pk)
            status = found["status"]
        except PlatformRefusal as exc:
            ours.append(f"platform: the schedules were not stored: {exc.message}")
        except Exception as exc:  # the database failed: the run must still end
            ours.append(f"platform: the schedules were not stored: {exc!r}")
    if status == "failed":
        ours.append(f"platform: vpp schedule exited {code}")
    head = "\n".join(ours)[: LOG_TAIL_CHARS // 2]
    job = "\n".join(line for line in lines if not line.startswith("platform: "))
    message = f"{head}\n...\n{job[-(LOG_TAIL_CHARS - len(head) - 5) :]}"
    _end(platform, run_pk, status, message, out_dir=out_dir, run_id=run_id)


def end_orphans(platform: Any) -> int:
    """End the runs a previous server left ``running`` as ``failed``; how many."""
    with platform.sessions() as session, session.begin():
        result = session.execute(
            update(Run)
            .where(Run.status == "running")
            .values(status="failed", message="the server stopped while the run was in progress")
        )
    return int(result.rowcount or 0)


def list_runs(platform: Any, park: str, limit: int = 50) -> list[dict[str, Any]]:
    """A park's runs, newest first.

    Raises
    ------
    UnknownSite
        The park is not registered.
    """
    with platform.sessions() as session:
        if session.execute(select(Park.id).where(Park.name == park)).first() is None:
            raise UnknownSite(f"no registered park {park[:200]!r}")
        rows = session.execute(
            select(Run, Park.name)
            .join(Park)
            .where(Park.name == park)
            .order_by(Run.id.desc())
            .limit(limit)
        ).all()
    return [run_facts(r, p) for r, p in rows]
