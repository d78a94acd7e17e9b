"""Where a command's database URL comes from, without the password on a command line.

A PostgreSQL URL holds its password (``postgresql+psycopg://vpp:SECRET@HOST/DB``). A
process's arguments are readable by every local user (``ps``, ``/proc/PID/cmdline``),
its environment only by the same user and root (``/proc/PID/environ``, mode 0400). So
every ``vpp`` command that opens the platform database (``serve``, ``keys``,
``mqtt-access``; ``schedule --db``, ``runs --db``) takes the URL, in this order:

1. ``--db URL`` or ``--db-file PATH`` (one of them; both is an error): the URL on the
   command line, or the first line of a file (``URL`` or ``VPP_DB=URL``, so the
   service's systemd environment file serves as well);
2. the environment variable ``VPP_DB`` (:data:`DB_ENV`), e.g. from systemd's
   ``EnvironmentFile=``;
3. the default, ``sqlite:///runs/platform.sqlite``.

``vpp schedule`` and ``vpp runs`` keep their own registry file unless told to use the
platform database (``--db``, ``--db URL`` or ``--db-file PATH``); ``--db`` without a
URL then reads ``VPP_DB`` before the default. ``vpp serve --demo`` reads only ``--db``
and ``--db-file``: a demo never loads into the database the environment names.

``--db-file`` is refused (exit 2) when others may read or write it (mode ``o+r`` or
``o+w``), and a note is printed when its group may (``chmod 600`` or ``640`` with the
service's group is the fix; ``640 root:vpp`` is a common choice, so it is not refused).
A ``--db URL`` holding a password that is on this process's command line prints a note
pointing to ``VPP_DB`` and ``--db-file``. Every message names the source (``--db``,
``$VPP_DB``, ``--db-file PATH``, ``the default``) and shows the URL only with its
password hidden.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpp.errors import Problem, ScenarioError

__all__ = [
    "DB_ENV",
    "DEFAULT_SOURCE",
    "DbSource",
    "add_db_options",
    "check_secret_mode",
    "db_from_args",
    "resolve_db",
]

#: The environment variable that holds the platform database's URL.
DB_ENV = "VPP_DB"
#: The source named when neither an option nor :data:`DB_ENV` gives the URL.
DEFAULT_SOURCE = "the default"
_FILE_HELP = (
    "a file whose first line is the database URL (or VPP_DB=URL, as systemd's "
    "EnvironmentFile); mode 600 or 640, refused when others may read it"
)


@dataclass(frozen=True)
class DbSource:
    """A database URL and where it came from.

    Attributes
    ----------
    url : str
        The URL, password included (never printed: ``repr`` leaves it out).
    source : str
        ``--db``, ``$VPP_DB``, ``--db-file PATH`` or ``the default``.
    notes : tuple of str
        Warnings for the user (a password on the command line, a group-readable file).
    """

    url: str = field(repr=False)
    source: str
    notes: tuple[str, ...] = ()


def add_db_options(
    parser: Any,
    db_help: str,
    *,
    optional_url: bool = False,
    suppress: bool = False,
) -> None:
    """Add ``--db`` and ``--db-file`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser or argument group
        Where the options go.
    db_help : str
        ``--db``'s help; the environment variable and the precedence are appended.
    optional_url : bool
        ``--db`` may come without a URL (``vpp schedule``, ``vpp runs``: "the platform
        database", i.e. ``VPP_DB`` or the default).
    suppress : bool
        Leave the options out of the namespace when not given (a subcommand's copy of
        its parent's options).
    """
    extra: dict[str, object] = {"default": argparse.SUPPRESS} if suppress else {}
    when = "without --db"
    if optional_url:
        extra.update(nargs="?", const="")
        when = "--db without URL"
    parser.add_argument(
        "--db",
        metavar="URL",
        help=f"{db_help}; {when}: ${DB_ENV}, then the default. A URL with a password "
        f"is visible to every local user on a command line: use ${DB_ENV} or --db-file",
        **extra,  # type: ignore[arg-type]
    )
    plain: dict[str, object] = {"default": argparse.SUPPRESS} if suppress else {}
    parser.add_argument("--db-file", metavar="PATH", help=_FILE_HELP, **plain)  # type: ignore[arg-type]


def check_secret_mode(path: str | Path, mode: int, what: str) -> tuple[str | None, str | None]:
    """The refusal (others may read or write ``path``) or the note (its group may) of a
    file holding a secret, ``what`` naming the secret; ``(None, None)``: owner only."""
    shown = f"{stat.S_IMODE(mode):03o}"
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        return (
            f"other users may read or write {path} (mode {shown}), which holds {what}; "
            f"fix: chmod 600 {path} (or 640 with the service's group)",
            None,
        )
    if mode & (stat.S_IRGRP | stat.S_IWGRP):
        return None, f"its group may read it (mode {shown}); keep the group to the service's own"
    return None, None


def _bad(source: str, message: str, fix: str) -> ScenarioError:
    return ScenarioError(Problem(message, key=source, fix=fix))


def _read_file(path: str) -> DbSource:
    """The URL in the first line of ``path`` (module docstring: the mode rules)."""
    source = f"--db-file {path}"
    try:
        mode = os.stat(path).st_mode
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise _bad(
            source,
            f"the database URL file does not read: {reason}",
            "give a UTF-8 text file whose first line is the URL, readable by this user",
        ) from None
    refusal, note = check_secret_mode(path, mode, "the database URL and its password")
    if refusal is not None:
        message, fix = refusal.split("; fix: ")
        raise _bad(source, message, fix)
    notes = [] if note is None else [f"vpp: note: {source}: {note}"]
    url = lines[0].strip() if lines else ""
    if url.startswith(f"{DB_ENV}="):  # the systemd environment file's line
        url = url.removeprefix(f"{DB_ENV}=").strip()
        if len(url) >= 2 and url[0] == url[-1] and url[0] in "'\"":
            url = url[1:-1]
    if not url:
        raise _bad(
            source,
            "the database URL file's first line is empty",
            "write the URL (sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB) "
            "on the first line",
        )
    return DbSource(url, source, tuple(notes))


def _on_command_line(url: str, argv: list[str]) -> bool:
    """Whether ``url`` holds a password and stands in ``argv`` (this process's)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        password = make_url(url).password
    except ArgumentError:
        return False
    return bool(password) and any(url in a for a in argv)


def resolve_db(
    db: str | None,
    db_file: str | None,
    default: Callable[[], str] | None,
    env: Mapping[str, str] | None = None,
    argv: list[str] | None = None,
) -> DbSource | None:
    """The database URL and its source (module docstring: the precedence).

    Parameters
    ----------
    db : str or None
        ``--db``'s value: None when absent, ``""`` for ``--db`` without a URL.
    db_file : str or None
        ``--db-file``'s path.
    default : callable or None
        The default URL; None: no option given means no database (returns None), as
        ``vpp schedule`` and ``vpp runs`` without ``--db``.
    env, argv
        The environment and the process's arguments (default: this process's).

    Raises
    ------
    ScenarioError
        Both options given, or the file does not read, is open to others or is empty.
    """
    env = os.environ if env is None else env
    argv = sys.argv if argv is None else argv
    if db and db_file is not None:
        raise _bad("--db", "--db and --db-file both give the database URL", "give one")
    if db:
        notes = ()
        if _on_command_line(db, argv):
            notes = (
                f"vpp: note: --db: the URL's password is on the command line, where every "
                f"local user can read it (ps); set ${DB_ENV} or give --db-file instead",
            )
        return DbSource(db, "--db", notes)
    if db_file is not None:
        return _read_file(db_file)
    if db is None and default is None:
        return None  # no --db: the caller's own store (the job's registry file)
    if env.get(DB_ENV, "").strip():
        return DbSource(env[DB_ENV].strip(), f"${DB_ENV}")
    if default is None:  # --db alone, no VPP_DB: the platform's default database
        from vpp.platform.db import default_url

        return DbSource(default_url(), DEFAULT_SOURCE)
    return DbSource(default(), DEFAULT_SOURCE)


def db_from_args(
    args: argparse.Namespace, default: Callable[[], str] | None, *, use_env: bool = True
) -> DbSource | None:
    """:func:`resolve_db` of ``args.db`` and ``args.db_file``; its notes go to stderr.

    ``use_env=False`` ignores ``VPP_DB`` (``vpp serve --demo``).
    """
    found = resolve_db(
        getattr(args, "db", None),
        getattr(args, "db_file", None),
        default,
        env=None if use_env else {},
    )
    for note in found.notes if found is not None else ():
        print(note, file=sys.stderr)
    return found
