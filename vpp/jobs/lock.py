"""The per-date lock of the daily job: one run per date at a time, never interleaved.

An exclusive ``flock`` on ``<out_dir>/.locks/<date>.lock`` (released by the kernel when the
holder exits or is killed); a second start for the same date is refused at once with
:class:`JobBusyError` (exit code :data:`EXIT_BUSY`), naming the holder. Also here: whether
the process that started a run still runs (pid and start time, so a reused pid is not
mistaken for it), which the registry uses to mark killed runs failed.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from vpp.errors import Problem, VppError

#: Exit code of a run refused because another run holds the same date.
EXIT_BUSY = 5
#: Folder of the lock files, inside the job's output folder.
LOCKS_DIR = ".locks"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_date(text: str) -> str:
    """Return ``text`` if it is a calendar date ``YYYY-MM-DD``, else raise ValueError."""
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        raise ValueError(f"date must be YYYY-MM-DD, got {text!r}")
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"date must be a calendar date YYYY-MM-DD, got {text!r}") from None
    return text


def utc_now() -> str:
    """The present as ISO 8601 in UTC with milliseconds: ``2026-05-01T16:00:00.000Z``."""
    return iso_utc(datetime.now(UTC))


def iso_utc(moment: datetime) -> str:
    """``moment`` as ISO 8601 in UTC with milliseconds and a ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JobBusyError(VppError):
    """Another run for the same date holds the date's lock (exit code 5).

    The message names the date, the pid holding the lock and since when, and what to do.
    """

    exit_code = EXIT_BUSY

    def __init__(
        self,
        *,
        date: str,
        lock_path: str | Path,
        pid: int | None = None,
        since: str | None = None,
        host: str | None = None,
    ):
        self.date, self.lock_path, self.pid, self.since = date, Path(lock_path), pid, since
        holder = f"pid {pid}" if pid else "a process that has not yet written its pid"
        if host and host != socket.gethostname():
            holder += f" on host {host}"
        if since:
            holder += f" since {since}"
        stop = f"stop pid {pid} (kill {pid})" if pid else "stop it"
        super().__init__(
            Problem(
                f"another run of the daily job for {date} is in progress: {holder} "
                "holds the date's lock, so this run did nothing",
                file=str(lock_path),
                fix=f"let that run finish (`vpp runs --date {date}` shows it) and run again "
                f"if needed; if it hangs, {stop}: the lock is released when its process "
                "ends. Do not delete the lock file",
            )
        )


def _read_holder(fd: int) -> dict:
    """Pid, start time and host written by the lock's holder (retried while still empty)."""
    for _ in range(20):
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
        if text:
            try:
                data = json.loads(text)
            except ValueError:
                break
            return {k: data.get(k) for k in ("pid", "since", "host")}
        time.sleep(0.025)  # the holder locks first, then writes
    return {}


@contextmanager
def date_lock(out_dir: str | Path, date: str) -> Iterator[Path]:
    """Hold the lock of ``date``'s run, or raise :class:`JobBusyError` at once.

    An exclusive ``flock`` on ``<out_dir>/.locks/<date>.lock``, which then holds the
    holder's pid, host and start time as JSON so that a refused run can name them. The
    kernel releases it when the block ends or the process dies, however it dies; forked
    children that outlive the block keep it. The lock file is never deleted (deleting
    it would let two runs lock two different files).

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The job's output folder.
    date : str
        The day the run schedules, ``YYYY-MM-DD``.

    Yields
    ------
    pathlib.Path
        The lock file.
    """
    check_date(date)
    folder = Path(out_dir) / LOCKS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{date}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobBusyError(date=date, lock_path=path, **_read_holder(fd)) from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": utc_now()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode("utf-8"), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """State (field 3) and start time (field 22, clock ticks after boot) of a process.

    None where ``/proc`` does not exist or the process is gone.
    """
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def process_start(pid: int) -> int | None:
    """Start time of process ``pid`` [clock ticks after boot]; None where unknown."""
    stat = _proc_stat(pid)
    return None if stat is None else stat[1]


def process_gone(pid: int, proc_start: int | None) -> bool:
    """Whether the process that started a run (pid and start time) no longer runs."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # it exists, under another user
    stat = _proc_stat(pid)
    if stat is None:
        return False  # no /proc: trust os.kill
    state, start = stat
    if state in ("Z", "X"):  # killed, not yet reaped by its parent
        return True
    return proc_start is not None and start != proc_start
