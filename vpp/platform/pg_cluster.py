"""A throwaway PostgreSQL cluster for tests and benchmarks (never for production).

:func:`throwaway_cluster` starts a cluster with Debian's binaries
(``/usr/lib/postgresql/<version>/bin``: ``initdb``, ``pg_ctl``, newest version first) on
a free loopback port with its socket in a temporary folder, ``fsync=on`` (commits are as
durable as in production), trust authentication for the ``postgres`` user on loopback
only. Run as root (containers), the binaries run as the ``postgres`` system user (else
``nobody``) through ``runuser``. The cluster is stopped (``immediate``) and its folder
removed when the context ends. ``tests/platform_api/conftest.py`` and
``benchmarks/bench_platform_load.py`` use it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["PG_ROOTS", "PgClusterUnavailable", "missing", "new_database", "throwaway_cluster"]

#: Debian's PostgreSQL binaries, newest major version first.
PG_ROOTS = sorted(
    Path("/usr/lib/postgresql").glob("*/bin"),
    key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()],
    reverse=True,
)
_TIMEOUT_S = 120  # longest wait for initdb or pg_ctl [s]


class PgClusterUnavailable(RuntimeError):
    """No cluster can be started here (binaries missing, no user to run them)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user() -> tuple[list[str], str | None]:
    """The command prefix to run PostgreSQL's binaries, and the user to own its files."""
    if os.geteuid() != 0:
        return [], None
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"], user
    raise PgClusterUnavailable(
        "running as root, and neither the postgres nor the nobody user exists"
    )


def missing() -> str | None:
    """Why no cluster can be started here, or None."""
    if not PG_ROOTS or not (PG_ROOTS[0] / "initdb").is_file():
        return (
            "PostgreSQL's server binaries are not installed (/usr/lib/postgresql/*/bin/initdb):"
            " install Debian's postgresql package (apt-get install postgresql)"
        )
    try:
        _as_user()
    except PgClusterUnavailable as exc:
        return str(exc)
    return None


@contextmanager
def throwaway_cluster() -> Iterator[dict[str, object]]:
    """A running cluster: ``{"port": int, "user": "postgres"}`` (module docstring).

    Raises
    ------
    PgClusterUnavailable
        No cluster can be started here (:func:`missing` says why).
    """
    reason = missing()
    if reason is not None:
        raise PgClusterUnavailable(reason)
    bin_dir = PG_ROOTS[0]
    prefix, owner = _as_user()
    root = Path(tempfile.mkdtemp(prefix="vpp-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if owner is not None:
        record = pwd.getpwnam(owner)
        for path in (root, sock):
            os.chown(path, record.pw_uid, record.pw_gid)
    port = _free_port()
    run = {"check": True, "capture_output": True, "text": True, "timeout": _TIMEOUT_S}
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
    subprocess.run([*prefix, *initdb, "-E", "UTF8", "--no-sync"], **run)
    options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=on"
    pg_ctl = str(bin_dir / "pg_ctl")
    log = str(root / "log.txt")
    try:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-o", options, "-l", log, "-w", "-t", "60", "start"],
            **run,
        )
        yield {"port": port, "user": "postgres"}
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


def new_database(cluster: dict[str, object]) -> str:
    """A fresh, empty database in ``cluster``; its SQLAlchemy URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        host="127.0.0.1",
        port=cluster["port"],
        user="postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:{cluster['port']}/{name}"
