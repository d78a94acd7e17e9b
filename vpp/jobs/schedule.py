"""The daily scheduling job: ``vpp schedule PARK --date YYYY-MM-DD``.

Run every afternoon by the park's energy platform (cron or a systemd timer, see
``docs/operations.md``), unattended:

1. checks its arguments (:mod:`vpp.jobs.args`: ``--date`` a local calendar date,
   ``--now`` a local date-time, ``--time-limit`` a positive number): a bad one is refused
   with exit 2 before anything is recorded or written;
2. takes the date's lock (a second start for the same date is refused, exit 5) and
   records the run in the registry (:mod:`vpp.jobs.registry`), marking runs killed
   earlier as failed. Every failure from here on has its row: a park file that cannot be
   read is recorded ``failed`` under the file's stem;
3. reads the demand-response notices (a notice that cannot be used is dropped and
   flagged, :func:`read_notices`), then the day (:mod:`vpp.jobs.day`): forecasts PV and
   load and takes each battery's state site by site, recording every source and flag;
4. optimizes the park within the time budget (the solver gets what is left after
   reading, minus :data:`~vpp.jobs.day.WRITE_MARGIN_S` for writing);
5. writes ``<out>/<date>/`` atomically (:mod:`vpp.jobs.outputs`); a re-run replaces the
   date's folder.

On any failure after the park is read (bad input, infeasible, solver error or time
limit) it writes a **safe fallback schedule** for every site that can be read
(:mod:`vpp.jobs.fallback`), marks it ``fallback`` in ``summary.json`` with the reason,
records the failure and exits with the code of the failure (2, 3 or 4). A fallback never
replaces an earlier good schedule of the date: it then goes to ``<date>/fallback/``.

The outputs are the truth. When the registry cannot record how a run ended (disk I/O
error), the outputs stay; their ``summary.json`` says under ``registry`` that the
registry was not updated, the exit code is the failure's, or 1 (:data:`EXIT_IO`) after a
good run, and the next run records the row from the summary. The run's log goes to
standard error and to ``<out>/logs/<date>-run<id>.log``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd

from vpp.errors import Problem, VppError, clip
from vpp.jobs.args import (
    ArgumentError,
    check_now,
    check_time_limit,
    local_now,
    parse_date,
    parse_now,
)
from vpp.jobs.day import (  # noqa: F401  (public here too)
    WRITE_MARGIN_S,
    JobFolders,
    JobOutcome,
    Notice,
    run_day,
)
from vpp.jobs.notes import capture_warnings
from vpp.jobs.outputs import FALLBACK_DIR, SCHEDULE_COLUMNS, stale_temporaries  # noqa: F401
from vpp.jobs.registry import (
    REGISTRY_NAME,
    Registry,
    RegistryError,
    RunRegistry,
    date_lock,
    sha256_file,
)
from vpp.portfolio.park import Park, load_park
from vpp.report.atomic import recover

#: Exit code of an I/O error: here, a good run whose registry row could not be updated.
EXIT_IO = 1
#: Characters of an error kept in a flag or a registry message.
MESSAGE_CHARS = 2000


def read_notices(folder: Path | None, flags: list[str]) -> list[Notice]:
    """Demand-response notices: every ``*.yaml`` in the folder, each a list of events.

    A notice is optional news from the grid company: a file that cannot be read, or an
    event in it that is not valid, is dropped and named in ``flags``; the other events
    are kept.
    """
    from pydantic import ValidationError

    from vpp.scenario.dr import DemandResponseEvent
    from vpp.scenario.yaml_io import read_yaml

    out: list[Notice] = []
    if folder is None or not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = read_yaml(path, what="notice") or []
        except VppError as exc:
            flags.append(f"demand-response notice {path.name} dropped: {clip(str(exc), 300)}")
            continue
        for i, entry in enumerate(data if isinstance(data, list) else [data]):
            where = f"{path.name}[{i}]"
            try:
                out.append(Notice(DemandResponseEvent.model_validate(entry), where))
            except ValidationError as exc:
                error = exc.errors()[0]
                key = ".".join(str(k) for k in error.get("loc", ()))
                flags.append(
                    f"demand-response notice {where}{f' {key}' if key else ''} dropped: not "
                    f"valid: {clip(str(error['msg']), 300)}"
                )
    return out


def files_hash(paths: list[Path]) -> str:
    """SHA-256 over the contents of the files, in order."""
    digest = hashlib.sha256()
    for p in paths:
        digest.update(Path(p).read_bytes())
    return digest.hexdigest()


def _site_files(park: Park) -> list[Path]:
    files = [Path(park.file)] if park.file else []
    files += [Path(s.file) for s in park.spec.sites if s.file is not None]
    return files


def _input_hashes(folders: JobFolders) -> dict[str, str]:
    """Each input file's SHA-256 (forecasts, telemetry, notices); never fails."""
    found = []
    for folder, pattern, prefix in (
        (folders.forecasts, "*.csv", ""),
        (folders.telemetry, "*.csv", "telemetry/"),
        (folders.notices, "*.yaml", "notices/"),
    ):
        if folder is not None and folder.is_dir():
            found += [(f"{prefix}{p.name}", p) for p in sorted(folder.glob(pattern))]
    out = {}
    for name, path in found:
        try:
            out[name] = sha256_file(path)
        except OSError as exc:
            out[name] = f"unreadable: {exc.strerror or type(exc).__name__}"
    return out


def _describe(exc: BaseException) -> tuple[int, str]:
    """The exit code and registry message of a failure that ends a run."""
    if isinstance(exc, VppError):
        kind = type(exc).__name__.removesuffix("Error").lower()
        return exc.exit_code, clip(f"{kind}: {exc}", MESSAGE_CHARS)
    if isinstance(exc, OSError):
        return EXIT_IO, clip(f"I/O error: {exc}", MESSAGE_CHARS)
    return EXIT_IO, clip(f"internal error: {type(exc).__name__}: {exc}", MESSAGE_CHARS)


class _Log:
    """The run's log: ``<out>/logs/<date>-run<id>.log`` and the caller's ``log``; each line
    starts with the wall-clock time in the park's time zone and the seconds since the
    run started."""

    def __init__(self, path: Path, clock: float, log: Any, timezone: str = "Asia/Shanghai"):
        path.parent.mkdir(exist_ok=True)
        self.handle = open(path, "a", encoding="utf-8")  # closed by close()
        self.clock, self.log, self.timezone = clock, log, timezone

    def __call__(self, message: str) -> None:
        wall = pd.Timestamp.now(tz=self.timezone).floor("s").isoformat()
        line = f"{wall} [{time.perf_counter() - self.clock:6.1f} s] {message}"
        self.handle.write(line + "\n")
        self.handle.flush()
        if self.log is not None:
            self.log(line)

    def close(self) -> None:
        self.handle.close()


def run_schedule(
    park_path: str | Path,
    date: str,
    *,
    out_dir: str | Path = "runs/schedule",
    forecasts_dir: str | Path | None = "forecasts",
    telemetry_dir: str | Path | None = None,
    notices_dir: str | Path | None = None,
    now: str | None = None,
    time_limit_s: float | None = None,
    allow_outside: bool = False,
    log: Any = None,
    intraday: bool = False,
    registry: RunRegistry | None = None,
) -> JobOutcome:
    """Run the daily job for ``date`` (module docstring).

    ``registry`` records the run (default: the file ``<out_dir>/registry.sqlite``; the
    platform's database: ``vpp.platform.runs.registry_db.DbRegistry``).

    ``intraday`` re-plans the rest of ``date`` (today) from the latest telemetry at
    ``now`` (default: the wall clock), keeping the committed demand-response offers and
    the day-ahead plan's peak targets unless it must break them (flagged), and writes
    ``<out>/<date>/intraday/<HHMM>/``.

    Never raises for a failure of the day (bad input after the park is read, infeasible,
    solver failure): that is recorded, and a fallback schedule is written.

    Raises
    ------
    ArgumentError
        A bad ``date``, ``now`` or ``time_limit_s``, or an ``out_dir`` that cannot be
        created; nothing was recorded or written.
    RegistryError
        The registry cannot be opened (or is another application's database).
    JobBusyError
        Another run holds the date (exit 5); nothing was recorded or written.
    ScenarioError
        The park file cannot be read; the run is recorded ``failed``.
    """
    clock = time.perf_counter()
    day = parse_date(date)
    moment = parse_now(now)
    if intraday and moment is None:
        moment = pd.Timestamp.now(tz="UTC").floor("s").to_pydatetime()
    time_limit_s = check_time_limit(time_limit_s)
    day_key = day.strftime("%Y-%m-%d")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArgumentError(
            Problem(
                f"the output folder cannot be created ({exc.strerror or type(exc).__name__})",
                key="--out",
                value=clip(str(out), 200),
                allowed="a folder this user can create and write, or an existing one",
                fix="give --out a writable folder (not a file, not on a read-only disk)",
            )
        ) from None
    folders = JobFolders(
        out,
        Path(forecasts_dir) if forecasts_dir else None,
        Path(telemetry_dir) if telemetry_dir else None,
        Path(notices_dir) if notices_dir else None,
    )
    if registry is None:
        registry = Registry(out / REGISTRY_NAME)
    with date_lock(out, day_key):
        # a run killed while writing leaves side folders: first let the writer restore a
        # date folder a kill left half-swapped; then, as nobody else writes this date while
        # we hold its lock, any side folder still there is stale
        recover(out / day_key)
        recover(out / day_key / FALLBACK_DIR)
        for stale in stale_temporaries(out, day_key):
            shutil.rmtree(stale, ignore_errors=True)
        record = {
            "job": "intraday" if intraday else "schedule",
            "date": day_key,
            "inputs": _input_hashes(folders),
            "out_dir": str(out / day_key),
        }
        park = None
        try:
            park = load_park(park_path, allow_outside=allow_outside)
            present = local_now(moment, park.spec.timezone, day)
            check_now(present, day, park.spec.timezone, intraday)
            scenario_hash = files_hash(_site_files(park))
        except BaseException as exc:  # recorded (under the file's stem if need be), raised
            name = park.name if park is not None else Path(park_path).stem
            _record_early_failure(registry, record, name, park_path, exc, (clock, log))
            raise
        run_id = registry.start(park=park.name, scenario_hash=scenario_hash, **record)
        say = None
        try:
            say = _Log(out / "logs" / f"{day_key}-run{run_id}.log", clock, log, park.spec.timezone)
            say(f"run {run_id}: park {park.name}, date {day_key}, pid {os.getpid()}")
            outcome = _run(park, day, present, folders, time_limit_s, clock, say, intraday)
            outcome.run_id = run_id
            _record(registry, run_id, outcome, say)
        except BaseException as exc:  # a bug or an I/O error, not a failure of the day
            _record_failure(registry, run_id, exc, say)
            raise
        finally:
            if say is not None:
                say.close()
    return outcome


def _run(
    park: Park,
    day: Any,
    present: Any,
    folders: JobFolders,
    time_limit_s: float | None,
    clock: float,
    say: Any,
    intraday: bool = False,
) -> JobOutcome:
    flags: list[str] = []
    with capture_warnings(flags, say):  # never raw on the operator's terminal
        notices = read_notices(folders.notices, flags)
        return run_day(
            park, day, present, notices, folders, flags, time_limit_s, clock, say, intraday=intraday
        )


def _record_early_failure(
    registry: RunRegistry,
    record: dict,
    name: str,
    park_path: str | Path,
    exc: BaseException,
    logging: tuple[float, Any],
) -> None:
    """Record a run that failed before it could start (its park file, most often)."""
    code, message = _describe(exc)
    try:
        scenario_hash = sha256_file(park_path)
    except OSError:
        scenario_hash = ""
    try:
        run_id = registry.start(park=name, scenario_hash=scenario_hash, **record)
        registry.finish(run_id, status="failed", exit_code=code, message=message)
    except RegistryError:
        return  # the error being raised is the one to report
    logs = Path(record["out_dir"]).parent / "logs"
    say = _Log(logs / f"{record['date']}-run{run_id}.log", *logging)
    say(f"run {run_id} failed before it could start: {message}")
    say.close()


def _record(registry: RunRegistry, run_id: int, outcome: JobOutcome, say: Any) -> None:
    """Record how the run ended; if the registry cannot, the outputs say so (and win)."""
    summary = outcome.summary
    kpis = {
        "sites": {
            n: {k: v for k, v in s.items() if isinstance(v, (int, float))}
            for n, s in summary.get("sites", {}).items()
        },
        "flags": len(summary.get("flags", [])),
    }
    message = summary.get("failure")
    if "kept_schedule" in summary:
        message = f"{message}; {summary['kept_schedule']['rule']}"
    try:
        registry.finish(
            run_id,
            status=outcome.status,
            exit_code=outcome.exit_code or 0,
            objective_cny=summary.get("net_cost_cny"),
            kpis=kpis,
            outputs=[str(outcome.out_dir)],
            message=message,
        )
    except RegistryError as exc:
        outcome.exit_code = outcome.exit_code or EXIT_IO
        summary["registry"] = {
            "run_id": run_id,
            "recorded": False,
            "exit_code": outcome.exit_code,
            "error": clip(exc.problems[0].message, 300),
            "file": str(registry.path),
        }
        say(f"run {run_id}: the registry could not record the run: {exc}")
        if outcome.outputs is not None:
            outcome.outputs.write()  # the same outputs, their summary saying so
        say(
            f"run {run_id} {outcome.status} (exit {outcome.exit_code}); outputs "
            f"{outcome.out_dir} (the registry was not updated; the outputs hold)"
        )
        return
    say(f"run {run_id} {outcome.status} (exit {outcome.exit_code}); outputs {outcome.out_dir}")


def _record_failure(
    registry: RunRegistry, run_id: int, exc: BaseException, say: _Log | None
) -> None:
    """Record a run ended by an I/O error or a bug (it is raised again by the caller)."""
    code, message = _describe(exc)
    try:
        registry.finish(run_id, status="failed", exit_code=code, message=message)
    except (RegistryError, ValueError):
        pass  # already finished, or the registry is gone: the error raised tells
    if say is not None:
        try:
            say(f"run {run_id} failed: {message}")
        except (OSError, ValueError):
            pass  # the log itself failed: the error raised tells
