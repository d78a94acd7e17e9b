"""Registry files made by earlier versions of vpp keep opening, with their history.

The old code's tables are in ``registry_fixtures.OLD_SCHEMA`` (its CREATE statements,
copied as data): a file built with them, rows written as the old code wrote them, is
opened by today's :class:`vpp.jobs.registry.Registry` and listed by ``vpp runs``; and a
file today's code makes has the old tables, so an earlier vpp opens it too.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from registry_fixtures import OLD_APPLICATION_ID, make_old_registry

from vpp.cli import main
from vpp.jobs.registry import Registry

#: Tolerance on a float read back from the file [CNY] or [s].
FLOAT_TOL = 1e-9


def dead_pid() -> int:
    """The pid of a process that has ended."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def old_rows(pid_gone: int) -> list[dict]:
    """Three runs as the old code stored them: ok, failed, and one left running by a
    process that is gone (this host)."""
    host = socket.gethostname()
    common = {"job": "schedule", "park": "xushuguan", "scenario_hash": "ab" * 32, "host": host}
    return [
        {
            **common,
            "date": "2026-05-01",
            "inputs": '{"park": "cd", "prices": "TOU table"}',
            "out_dir": "runs/schedule/2026-05-01",
            "pid": 4242,
            "proc_start": 123456,
            "started_at": "2026-04-30T07:00:00.000Z",
            "ended_at": "2026-04-30T07:00:12.500Z",
            "duration_s": 12.5,
            "status": "ok",
            "exit_code": 0,
            "objective_cny": 98765.4,
            "kpis": '{"flags": 1, "sites": {"electronics": {"bill_cny": 1234.5}}}',
            "outputs": '["runs/schedule/2026-05-01"]',
            "note": "first run",
        },
        {
            **common,
            "date": "2026-05-02",
            "inputs": "{}",
            "out_dir": "runs/schedule/2026-05-02",
            "pid": 4343,
            "proc_start": None,
            "started_at": "2026-05-01T07:00:00.000Z",
            "ended_at": "2026-05-01T07:00:03.000Z",
            "duration_s": 3.0,
            "status": "failed",
            "exit_code": 3,
            "message": "infeasible: the grid limit",
        },
        {
            **common,
            "date": "2026-05-03",
            "inputs": "{}",
            "out_dir": "runs/schedule/2026-05-03",
            "pid": pid_gone,
            "proc_start": None,
            "started_at": "2026-05-02T07:00:00.000Z",
            "status": "running",
        },
    ]


def expected(rows: list[dict]) -> list[dict]:
    """The dicts ``runs()`` gives for ``rows`` (ids 1, 2, ...), newest first: every
    column, JSON columns parsed, absent ones None."""
    columns = (
        "id",
        "job",
        "date",
        "park",
        "scenario_hash",
        "inputs",
        "out_dir",
        "pid",
        "proc_start",
        "host",
        "started_at",
        "ended_at",
        "duration_s",
        "status",
        "exit_code",
        "objective_cny",
        "kpis",
        "outputs",
        "message",
        "note",
    )
    out = []
    for run_id, row in enumerate(rows, start=1):
        full = {c: row.get(c) for c in columns} | {"id": run_id}
        for c in ("inputs", "kpis", "outputs"):
            full[c] = None if full[c] is None else json.loads(full[c])
        out.append(full)
    return out[::-1]


def same_rows(got: list[dict], want: list[dict]) -> None:
    assert [list(r) for r in got] == [list(r) for r in want]  # columns in the old order
    for g, w in zip(got, want, strict=True):
        for column, value in w.items():
            if isinstance(value, float):
                assert g[column] == pytest.approx(value, abs=FLOAT_TOL), column
            else:
                assert g[column] == value, column


def table_sql(path: Path) -> dict[str, str]:
    con = sqlite3.connect(path)
    rows = con.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
    con.close()
    return dict(rows)


@pytest.mark.parametrize("application_id", [True, False], ids=["app-id", "before-app-id"])
def test_an_old_registry_file_opens_with_its_history(
    tmp_path: Path, application_id: bool, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "registry.sqlite"
    gone = dead_pid()
    rows = old_rows(gone)
    make_old_registry(path, application_id=application_id, rows=rows)
    tables_before = table_sql(path)

    # listing (read-only, as `vpp runs` opens it) gives the old rows as they were
    same_rows(Registry(path, read_only=True).runs(), expected(rows))
    assert main(["runs", "--registry", str(path), "--json"]) == 0
    same_rows(json.loads(capsys.readouterr().out), expected(rows))
    assert main(["runs", "--registry", str(path), "--site", "electronics"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2  # header and run 1

    # the job opens it for writing: the history stays, the next id follows, the dead
    # run is reaped as before
    registry = Registry(path)
    new_id = registry.start(
        job="schedule",
        date="2026-05-04",
        park="xushuguan",
        scenario_hash="ef",
        inputs={},
        out_dir="runs/schedule/2026-05-04",
    )
    assert new_id == len(rows) + 1
    registry.finish(new_id, status="ok", exit_code=0, objective_cny=1.5)
    now = registry.runs()
    assert [r["id"] for r in now] == [4, 3, 2, 1]
    same_rows(now[2:], expected(rows)[1:])  # the finished runs untouched
    assert now[1]["status"] == "failed"
    assert now[1]["message"] == (
        f"killed or crashed: pid {gone} was no longer running when run {new_id} started"
    )
    assert now[0]["status"] == "ok" and now[0]["objective_cny"] == pytest.approx(1.5)

    # the file's tables are the old ones, unchanged; its version and id as they were
    assert table_sql(path) == tables_before
    con = sqlite3.connect(path)
    assert con.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    app = con.execute("PRAGMA application_id").fetchone()[0]
    con.close()
    assert app == (OLD_APPLICATION_ID if application_id else 0)


def test_a_new_registry_file_has_the_old_tables(tmp_path: Path) -> None:
    """What today's code creates is what the old code created: an earlier vpp opens it."""
    old, new = tmp_path / "old.sqlite", tmp_path / "new.sqlite"
    make_old_registry(old, application_id=True, rows=[])
    Registry(new)

    def shape(path: Path) -> dict:
        con = sqlite3.connect(path)
        out = {
            "runs": con.execute("PRAGMA table_info(runs)").fetchall(),
            "schema_version": con.execute("PRAGMA table_info(schema_version)").fetchall(),
            "indexes": sorted(
                (name, tuple(c[2] for c in con.execute(f"PRAGMA index_info({name})")))
                for _, name, *_ in con.execute("PRAGMA index_list(runs)")
            ),
            "tables": sorted(
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ),  # sqlite_sequence: AUTOINCREMENT, ids never given twice
            "application_id": con.execute("PRAGMA application_id").fetchone()[0],
            "journal_mode": con.execute("PRAGMA journal_mode").fetchone()[0],
            "versions": con.execute("SELECT version FROM schema_version").fetchall(),
        }
        con.close()
        return out

    assert shape(new) == shape(old)
    # the old code's writes work on the new file, its check included
    con = sqlite3.connect(new)
    row = old_rows(1)[1]
    con.execute(
        f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        tuple(row.values()),
    )
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        con.execute("UPDATE runs SET status = 'done'")
    con.commit()
    con.close()
    assert [r["message"] for r in Registry(new).runs()] == ["infeasible: the grid limit"]
