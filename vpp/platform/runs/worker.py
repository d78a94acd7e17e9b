"""A run's worker process: ``python -m vpp.platform.runs.worker WORK_DIR``.

Started by :class:`vpp.platform.runs.supervisor.RunSupervisor` in its own session (a
crash or a kill of the worker never touches the server, and the worker outlives a
server restart), with the database URL in the environment variable :data:`DB_ENV`
(never on the command line, where ``ps`` would show a password). It reads
``WORK_DIR/request.json``; for the daily job and the intraday re-plan it writes the
telemetry folder from the database (:mod:`vpp.platform.runs.telemetry_files`) and runs
``vpp schedule ... --db URL`` in this process (the job records itself in the platform's
registry); for a scenario it runs ``vpp run SCENARIO --out WORK_DIR/outputs``. Its
standard output and error are the run's log. Last it writes ``WORK_DIR/exit.json``
(``{"exit_code": N}``): how the run ended, even when the server was gone meanwhile.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from vpp.platform.runs.files import DB_ENV, EXIT_FILE, REQUEST_FILE

__all__ = ["job_argv", "main"]


def _say(line: str) -> None:
    print(f"vpp worker: {line}", file=sys.stderr, flush=True)


def job_argv(request: dict[str, Any], work: Path, url: str) -> list[str]:
    """``vpp``'s arguments for ``request``; writes the telemetry folder of a job run."""
    if request["kind"] == "scenario":
        argv = ["run", request["scenario"], "--out", str(work / "outputs")]
    else:
        argv = _schedule_argv(request, work, url)
    if request.get("time_limit_s") is not None:
        argv += ["--time-limit", str(request["time_limit_s"])]
    return argv


def _schedule_argv(request: dict[str, Any], work: Path, url: str) -> list[str]:
    from vpp.jobs.args import local_now, parse_date, parse_now
    from vpp.platform.db import make_engine, make_sessions
    from vpp.platform.runs.telemetry_files import write_job_telemetry
    from vpp.portfolio.park import load_park

    intraday = request["kind"] == "intraday"
    park = load_park(request["park_file"])
    day = parse_date(request["date"])
    moment = parse_now(request.get("now"))
    if moment is None and intraday:
        import datetime as dt

        moment = dt.datetime.now(dt.UTC).replace(microsecond=0)
    now = local_now(moment, park.spec.timezone, day)
    engine = make_engine(url)
    try:
        folder = work / "telemetry"
        for note in write_job_telemetry(make_sessions(engine), park, now, folder):
            _say(f"telemetry from the database: {note}")
    finally:
        engine.dispose()
    argv = ["schedule", request["park_file"], "--date", request["date"], "--out"]
    argv += [request["jobs_out"], "--telemetry", str(folder), "--db", url]
    argv += ["--now", now.isoformat()]
    if request.get("forecasts"):
        argv += ["--forecasts", request["forecasts"]]
    if intraday:
        argv.append("--intraday")
    return argv


def _write_exit(work: Path, code: int) -> None:
    part = work / f"{EXIT_FILE}.part"
    part.write_text(json.dumps({"exit_code": code}), encoding="utf-8")
    with open(part, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(part, work / EXIT_FILE)


def main(argv: list[str] | None = None) -> int:
    """Carry out the run of the work folder ``argv[0]``; returns its exit code."""
    from vpp.cli import main as vpp_main
    from vpp.errors import VppError

    work = Path((argv if argv is not None else sys.argv[1:])[0])
    url = os.environ.get(DB_ENV, "")
    request = json.loads((work / REQUEST_FILE).read_text(encoding="utf-8"))
    _say(f"run {request['id']} ({request['kind']}), pid {os.getpid()}")
    try:
        args = job_argv(request, work, url)
        shown = ["URL" if a == url else a for a in args]  # no password in the log
        _say("vpp " + " ".join(shown))
        code = vpp_main(args)
    except VppError as exc:
        print(f"vpp: error ({type(exc).__name__.removesuffix('Error').lower()}): {exc}")
        code = exc.exit_code
    except Exception:  # a bug: its trace in the log, exit 1
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    _write_exit(work, code)
    _say(f"run {request['id']} ended with exit code {code}")
    return code


if __name__ == "__main__":
    os._exit(main())
