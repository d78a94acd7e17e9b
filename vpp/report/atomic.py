"""Write output folders atomically, and schedules as CSV (no Pyomo, no matplotlib here).

How a folder is written (:func:`write_folder_atomically`):

1. :func:`vpp.report.outdir.check_output_folder` refuses a path that is not a place for
   an output (exit 2) and a folder holding files vpp did not write;
2. what a killed earlier writer left beside the folder is cleaned (:func:`recover`);
3. ``fill`` writes into ``.<name>.vpp-tmp-<pid>-<host>-<token>`` beside the folder,
   created with mode ``0o777`` less the umask (as any new folder); the manifest
   ``.vpp-manifest.json`` is added and every file flushed to disk;
4. the swap. On Linux one ``renameat2(RENAME_EXCHANGE)`` exchanges the new folder and
   the old one: there is no moment without ``<name>``. Where the exchange is missing
   (other systems, some file systems) the old folder is renamed to
   ``.<name>.vpp-old-...`` and the new one into place; a kill between the two renames
   leaves no ``<name>``, and the next writer renames the old folder back;
5. vpp outputs nested in the old folder (``forecast-<day>/`` in ``runs/<scenario>/``)
   are moved into the new one, and the old folder is removed.

A kill at any step leaves ``<name>`` either as it was or complete and new. The next
writer removes side folders whose process is gone (same host: the pid no longer runs;
another host: older than a day), after saving nested outputs from them; it never
touches those of a live process. Any failure before the swap removes the new folder
and leaves ``<name>`` as it was.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import platform
import re
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from vpp.report.outdir import (
    MANIFEST_NAME,
    check_output_folder,
    folder_contents,
    fsync_folder,
    write_manifest,
)

#: A side folder of another host is taken as abandoned after this long [s].
FOREIGN_STALE_S = 24 * 3600
#: ``renameat2`` flag: exchange the two paths atomically.
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
#: ``renameat2`` system call numbers where the C library lacks the wrapper (glibc < 2.28).
_SYS_RENAMEAT2 = {"x86_64": 316, "aarch64": 276, "riscv64": 276}
#: errno values meaning "no exchange here": fall back to two renames.
_NO_EXCHANGE = {errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM}
#: Side folders this process is using (a pid of an earlier container may equal ours).
_IN_USE: set[str] = set()


class OutputWriteError(OSError):
    """Writing an output folder failed (disk full, permissions): nothing was replaced."""


def write_folder_atomically(
    out_dir: str | Path,
    names: Sequence[str],
    fill: Callable[[Path], None],
    *,
    kind: str = "output",
    inputs: Iterable[str | Path] = (),
) -> list[Path]:
    """Create ``out_dir`` with the files ``fill(tmp)`` writes, all at once or not at all.

    ``fill`` writes into a new folder beside ``out_dir``; only when it returns is the
    manifest added and the folder swapped into place, replacing an earlier output as a
    whole (the module's docstring gives each step and what a kill at it leaves).

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The output folder: new, empty, or written by vpp (see
        :func:`vpp.report.outdir.check_output_folder`).
    names : sequence of str
        The files to return, relative to ``out_dir``.
    fill : callable
        Writes the outputs into the folder it is given.
    kind : str
        What the folder is, for its manifest (``run``, ``park``, ``sizing``, ...).
    inputs : iterable of str or pathlib.Path
        Inputs of the command, which ``out_dir`` may not hold.

    Returns
    -------
    list of pathlib.Path
        ``out_dir / name`` for each of ``names``.

    Raises
    ------
    OutputError
        ``out_dir`` cannot be used (exit 2); nothing was written.
    OutputWriteError
        Writing failed (an :class:`OSError`, exit 1); ``out_dir`` is as it was.
    """
    given, inputs = Path(out_dir), tuple(inputs)
    out = check_output_folder(given, inputs=inputs)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if recover(out):
            out = check_output_folder(given, inputs=inputs)
        tmp = _side_path(out, "tmp")
        _IN_USE.add(tmp.name)
        try:
            os.mkdir(tmp, 0o777)  # the umask applies, as to any new folder
            try:
                fill(tmp)
                write_manifest(tmp, kind=kind)
                previous = _swap(tmp, out)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            if previous is not None:
                _retire(previous, out)
            fsync_folder(out.parent)
        finally:
            _IN_USE.discard(tmp.name)
    except OSError as exc:
        if isinstance(exc, OutputWriteError):
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        raise OutputWriteError(
            exc.errno, f"{exc.strerror or exc}{where}; {given} was left as it was"
        ) from exc
    return [given / n for n in names]


def exchange_paths(first: Path, second: Path) -> bool:
    """Exchange two existing paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns
    -------
    bool
        False where the system or the file system has no exchange (nothing was done).

    Raises
    ------
    OSError
        The exchange exists but failed (a path missing, no permission, ...).
    """
    call = _renameat2()
    if call is None:
        return False
    if call(os.fsencode(first), os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _NO_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


@cache
def _renameat2() -> Callable[[bytes, bytes, int], int] | None:
    """``renameat2`` from the C library, or through ``syscall``; None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    func = getattr(libc, "renameat2", None)
    if func is not None:
        func.argtypes = [
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_uint,
        ]
        func.restype = ctypes.c_int
        return lambda a, b, flags: func(_AT_FDCWD, a, _AT_FDCWD, b, flags)
    number = _SYS_RENAMEAT2.get(platform.machine())
    syscall = getattr(libc, "syscall", None)
    if number is None or syscall is None:
        return None
    syscall.restype = ctypes.c_long
    return lambda a, b, flags: syscall(
        ctypes.c_long(number),
        ctypes.c_int(_AT_FDCWD),
        ctypes.c_char_p(a),
        ctypes.c_int(_AT_FDCWD),
        ctypes.c_char_p(b),
        ctypes.c_uint(flags),
    )


def _swap(new: Path, out: Path) -> Path | None:
    """Put ``new`` at ``out``; return where the previous ``out`` now is (None if none).

    On failure ``out`` is as it was and ``new`` still holds the new folder.
    """
    if not os.path.lexists(out):
        os.rename(new, out)
        return None
    if exchange_paths(new, out):
        return new
    old = _side_path(out, "old")
    _IN_USE.add(old.name)
    os.rename(out, old)
    try:
        os.rename(new, out)
    except BaseException:
        with suppress(OSError):
            os.rename(old, out)
        raise
    return old


def _retire(previous: Path, out: Path) -> None:
    """Move nested outputs of the previous folder into ``out``, then remove the rest.

    If a nested output cannot be moved, the previous folder stays; the next writer
    tries again (:func:`recover`).
    """
    try:
        if _carry_nested(previous, out):
            shutil.rmtree(previous, ignore_errors=True)
    finally:
        _IN_USE.discard(previous.name)


def _carry_nested(source: Path, out: Path) -> bool:
    """Move the vpp outputs nested in ``source`` to the same place in ``out``.

    A nested output that the new folder also has is replaced by the new one. Returns
    whether everything that had to move did.
    """
    moved = True
    for rel in folder_contents(source).kept:
        target = out / rel
        if os.path.lexists(target):
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(source / rel, target)
        except OSError:
            moved = False
    return moved


# ------------------------------------------------------------------ side folders


@dataclass(frozen=True)
class SideFolder:
    """A folder a writer made beside an output folder (see the module docstring)."""

    path: Path
    state: str  # "tmp" (being written, or the old folder after an exchange) or "old"
    pid: int
    host: str | None  # None: written before side folders named their host (this one)


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def _stem(name: str) -> str:
    return name[:180]  # leaves room for the suffix within the 255-byte name limit


def _side_path(out: Path, state: str) -> Path:
    suffix = f"vpp-{state}-{os.getpid()}-{_host_tag()}-{secrets.token_hex(4)}"
    return out.with_name(f".{_stem(out.name)}.{suffix}")


def side_folders(out: Path) -> list[SideFolder]:
    """The side folders beside ``out`` (temporary and old folders of writers).

    Also those of vpp before side folders named their writer: ``.<name>.old-<pid>``.
    """
    pattern = re.compile(
        rf"\.{re.escape(_stem(out.name))}\."
        r"(?:vpp-(tmp|old)-(\d{1,10})-([0-9a-f]{8})-[0-9a-f]{1,32}|(old)-(\d{1,10}))"
    )
    found = []
    try:
        entries = list(os.scandir(out.parent))
    except OSError:
        return []
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match and entry.is_dir(follow_symlinks=False):
            state, pid, host, legacy_state, legacy_pid = match.groups()
            found.append(
                SideFolder(Path(entry.path), state or legacy_state, int(pid or legacy_pid), host)
            )
    return sorted(found, key=lambda s: s.path.name)


def _abandoned(side: SideFolder) -> bool:
    """Whether the writer of a side folder is gone (never true for a live process)."""
    if side.host is not None and side.host != _host_tag():
        try:
            return time.time() - side.path.stat().st_mtime > FOREIGN_STALE_S
        except OSError:
            return False
    if side.pid == os.getpid():
        return side.path.name not in _IN_USE
    if side.pid <= 0:
        return False
    try:
        os.kill(side.pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by another user
        return False
    return False


def recover(out: str | Path) -> bool:
    """Clean what killed writers left beside ``out``; restore ``out`` if it went missing.

    If ``out`` is missing and a killed writer left the previous folder as an old side
    folder, that folder is renamed back to ``out``. Nested outputs inside abandoned
    side folders are moved into ``out``; then the side folders are removed. Side folders
    of live processes are left alone.

    Returns
    -------
    bool
        Whether ``out`` was restored.
    """
    out = Path(out)
    stale = [side for side in side_folders(out) if _abandoned(side)]
    restored = False
    if not os.path.lexists(out):
        olds = [side for side in stale if side.state == "old"]
        if olds:
            with suppress(OSError):
                newest = max(olds, key=lambda side: side.path.stat().st_ctime)
                os.rename(newest.path, out)
                stale.remove(newest)
                restored = True
    for side in stale:
        complete = side.state == "old" or (side.path / MANIFEST_NAME).is_file()
        if complete and out.is_dir() and not _carry_nested(side.path, out):
            continue
        shutil.rmtree(side.path, ignore_errors=True)
    return restored


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a time-indexed frame as CSV: ISO 8601 timestamps with offset, then the columns.

    pyarrow's writer is about ten times faster than pandas' for a year of steps.
    """
    index = frame.index
    offset = index.strftime("%z")
    stamps = index.strftime("%Y-%m-%dT%H:%M:%S") + offset.str[:3] + ":" + offset.str[3:]
    columns = {index.name or "timestamp": pa.array(np.asarray(stamps, dtype=object))}
    columns.update({str(c): pa.array(frame[c].to_numpy()) for c in frame.columns})
    with open(path, "wb") as out:
        out.write((",".join(columns) + "\n").encode("utf-8"))
        pa_csv.write_csv(
            pa.table(columns),
            out,
            write_options=pa_csv.WriteOptions(include_header=False, quoting_style="none"),
        )
