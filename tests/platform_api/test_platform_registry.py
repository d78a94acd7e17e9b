"""The job's one registry on every database: two concurrent claims cannot both win.

The daily job keeps two runs of a date apart with the date's lock (an ``flock`` in its
output folder, :func:`vpp.jobs.lock.date_lock`), whichever database holds its registry;
and a run is finished once (a conditional ``UPDATE``; ``BEGIN IMMEDIATE`` on SQLite, the
row locked on PostgreSQL). Both are checked on the registry file and on the platform
database (SQLite and PostgreSQL, ``db_url``), with processes and threads that really race.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from platform_helpers import REPO

from vpp.jobs.registry import Registry
from vpp.platform.runs.registry_db import DbRegistry

#: How long a child may take to say it is ready [s].
READY_TIMEOUT_S = 30.0
#: Threads finishing the same run at once.
FINISHERS = 8
DATE = "2026-07-16"

CLAIM = """
import sys
from vpp.jobs.lock import JobBusyError, date_lock
kind, where, out, date = sys.argv[1:5]
if kind == "file":
    from vpp.jobs.registry import Registry
    registry = Registry(where)
else:
    from vpp.platform.runs.registry_db import DbRegistry
    registry = DbRegistry(where)
print("ready", flush=True)
sys.stdin.readline()
try:
    with date_lock(out, date):  # the job's claim: the date's lock, then its row
        run_id = registry.start(job="schedule", date=date, park="p", scenario_hash="h",
                                inputs={}, out_dir=out)
        print(f"won {run_id}", flush=True)
        sys.stdin.readline()  # hold the date until told
        registry.finish(run_id, status="ok", exit_code=0)
except JobBusyError:
    print("busy", flush=True)
"""


def stores(db_url: str, tmp_path: Path) -> dict[str, tuple[object, str]]:
    """The registry file and the platform database's registry, each with where it is."""
    file = tmp_path / "registry.sqlite"
    return {"file": (Registry(file), str(file)), "db": (DbRegistry(db_url), db_url)}


def line_of(proc: subprocess.Popen) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], READY_TIMEOUT_S)
    line = proc.stdout.readline().strip() if ready else ""
    if not line:
        proc.kill()
        pytest.fail(f"child said nothing: {proc.communicate()[1]}")
    return line


@pytest.mark.parametrize("kind", ["file", "db"])
def test_two_jobs_for_one_date_cannot_both_run(db_url, tmp_path, kind):
    registry, where = stores(db_url, tmp_path)[kind]  # made (and migrated) before the race
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    out = tmp_path / "out"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIM, kind, where, str(out), DATE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    try:
        assert [line_of(p) for p in procs] == ["ready", "ready"]
        for p in procs:  # go, both at once
            p.stdin.write("go\n")
            p.stdin.flush()
        said = [line_of(p) for p in procs]
        assert sorted(s.split()[0] for s in said) == ["busy", "won"], said
        for p in procs:  # the winner may finish now
            out_text, err = p.communicate("\n", timeout=READY_TIMEOUT_S)
            assert p.returncode == 0, err
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    won = int(next(s for s in said if s.startswith("won")).split()[1])
    assert [(r["id"], r["status"]) for r in registry.runs()] == [(won, "ok")]


def race_to_finish(registry: object, run_id: int) -> tuple[list[int], list[str]]:
    """:data:`FINISHERS` threads finish run ``run_id`` at once; who won, what the others
    were told."""
    barrier = threading.Barrier(FINISHERS)
    won: list[int] = []
    refused: list[str] = []

    def finish(i: int) -> None:
        barrier.wait()
        try:
            registry.finish(
                run_id,
                status=("ok", "fallback", "failed")[i % 3],
                exit_code=i,
                message=f"finisher {i}",
            )
        except ValueError as exc:
            refused.append(str(exc))
        else:
            won.append(i)

    threads = [threading.Thread(target=finish, args=(i,)) for i in range(FINISHERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return won, refused


def test_two_concurrent_finishes_cannot_both_win(db_url, tmp_path):
    for name, (registry, _) in stores(db_url, tmp_path).items():
        run_id = registry.start(
            job="schedule", date=DATE, park="p", scenario_hash="h", inputs={}, out_dir="out"
        )
        won, refused = race_to_finish(registry, run_id)
        assert len(won) == 1, (name, won, refused)
        [row] = registry.runs(limit=10**30)  # a limit past the integers is no limit
        assert row["exit_code"] == won[0] and row["message"] == f"finisher {won[0]}", name
        assert len(refused) == FINISHERS - 1
        told = f"already finished with status {row['status']!r} (finisher {won[0]})"
        assert all(told in r for r in refused), (name, refused)
