"""Runs through the API: the daily job in a worker process on the platform's database.

A daily run of the demo park is triggered, polled until done; its schedules are stored
(GET-able) and announced after their commit; the job read the telemetry stored in the
database; its registry row is the one `vpp runs --db` lists. A bad scenario fails with
exit 2 and its log; a worker killed with SIGKILL, and a worker lost with a dead server,
are marked failed; a site key may not start a run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest
from platform_helpers import PARK, REPO
from sqlalchemy import update

from vpp.cli import main as vpp_main
from vpp.jobs.registry import process_start
from vpp.platform.models import Schedule
from vpp.platform.runs.models import JobRun, RunRequest
from vpp.platform.runs.supervisor import RunSupervisor, exit_meaning

#: Longest wait for a run to finish [s] (a daily run of the demo park takes ~10 s).
RUN_TIMEOUT_S = 120.0
POLL_S = 0.3
DAY = "2026-07-16"
#: The job's present for DAY: 15:00 the day before (park time).
NOW = "2026-07-15T15:00:00+08:00"
#: The month-to-date peak posted for electronics before the run [kW].
POSTED_PEAK_KW = 3_812.5
#: Tolerance on a peak read back through the job [kW].
PEAK_TOL_KW = 1e-6


@pytest.fixture
def runs_api(platform, tmp_path):
    """A TestClient whose runs work in ``tmp_path``; keys as request headers."""
    from fastapi.testclient import TestClient

    from vpp.platform import create_app
    from vpp.platform.keys import create_key

    keys = {
        "operator": create_key(platform.sessions, "operator")[1],
        "electronics": create_key(platform.sessions, "site", park=PARK, site="electronics")[1],
    }
    runs = RunSupervisor(
        platform,
        tmp_path / "runs",
        forecasts_dir=REPO / "forecasts",
        scenario_roots=[tmp_path],
    )
    with TestClient(create_app(platform, runs=runs)) as client:
        yield {
            "client": client,
            "platform": platform,
            "runs": runs,
            "tmp": tmp_path,
            "headers": {role: {"X-API-Key": key} for role, key in keys.items()},
        }


def wait(client, headers, run_id: int, until=("ok", "fallback", "failed")) -> dict:
    """Poll ``GET /runs/{id}`` until its status is one of ``until``."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        answer = client.get(f"/api/v1/runs/{run_id}", headers=headers)
        assert answer.status_code == 200, answer.text
        if answer.json()["status"] in until:
            return answer.json()
        time.sleep(POLL_S)
    pytest.fail(f"run {run_id} did not reach {until} in {RUN_TIMEOUT_S} s")


def test_daily_run_through_the_api_stores_announces_and_lists(runs_api, db_url, capsys):
    client, platform = runs_api["client"], runs_api["platform"]
    operator = runs_api["headers"]["operator"]
    # electronics' grid telemetry in the database: 15-min steps of the month so far (the
    # job's month-to-date peak needs them all), one peak on July 9
    start = dt.datetime.fromisoformat("2026-07-01T00:00:00+08:00")
    readings = []
    for step in range(14 * 96 + 60):  # to 07-15 14:45, all before the job's present
        moment = (start + dt.timedelta(minutes=15 * step)).isoformat()
        peak = POSTED_PEAK_KW if step == 8 * 96 + 40 else 2_000.0
        readings += [
            {"channel": "import_kw", "timestamp": moment, "value": peak},
            {"channel": "export_kw", "timestamp": moment, "value": 0.0},
        ]
    platform.store_readings(PARK, "electronics", readings)
    seen = []

    def hook(event):  # a fresh session sees the row: the commit came first
        with platform.sessions() as session:
            seen.append((event.site, event.run_id, session.get(Schedule, event.schedule_id).date))

    platform.schedule_committed.append(hook)
    answer = client.post(
        "/api/v1/runs",
        json={"kind": "day-ahead", "park": PARK, "date": DAY, "now": NOW},
        headers=operator,
    )
    assert answer.status_code == 202, answer.text
    # the request did not wait for the run
    assert answer.json()["status"] in ("queued", "starting", "running")
    run = wait(client, operator, answer.json()["id"])
    log = client.get(f"/api/v1/runs/{run['id']}/log", headers=operator).text
    assert (run["status"], run["flag"], run["exit_code"]) == ("ok", None, 0), log
    assert run["pid"] != os.getpid()  # a worker process ran it
    job_id = run["job_run_id"]
    sites = ["biomedicine", "electronics", "logistics", "rnd-offices"]
    assert sorted(seen) == [(s, str(job_id), dt.date(2026, 7, 16)) for s in sites]
    assert len(run["schedule_ids"]) == len(sites)
    # the stored schedule is served
    got = client.get(
        f"/api/v1/parks/{PARK}/sites/electronics/schedule", params={"date": DAY}, headers=operator
    )
    assert got.status_code == 200
    assert (got.json()["run_id"], got.json()["status"]) == (str(job_id), "ok")
    # the job read the database's telemetry: electronics' month-to-date peak is the posted one
    files = {
        f["path"]: f
        for f in client.get(f"/api/v1/runs/{run['id']}/outputs", headers=operator).json()
    }
    assert "summary.json" in files and "sites/electronics/schedule.csv" in files
    summary = client.get(files["summary.json"]["url"], headers=operator).json()
    assert summary["sites"]["electronics"]["mtd_peak_kw"] == pytest.approx(
        POSTED_PEAK_KW, abs=PEAK_TOL_KW
    )
    assert not any("grid-electronics.csv" in f for f in summary["flags"])
    assert any("grid-biomedicine.csv" in f for f in summary["flags"])  # none posted there
    # a run out of time writes a fallback: flagged, stored, never replacing the good one
    answer = client.post(
        "/api/v1/runs",
        json={"kind": "day-ahead", "park": PARK, "date": DAY, "now": NOW, "time_limit_s": 0.01},
        headers=operator,
    )
    late = wait(client, operator, answer.json()["id"])
    assert (late["status"], late["flag"], late["exit_code"]) == ("fallback", "fallback", 4)
    assert late["exit_meaning"] == "solver failure or time limit"
    assert len(late["schedule_ids"]) == len(sites)
    assert seen[-1][1] == str(late["job_run_id"])  # announced too (a fallback topic)
    got = client.get(
        f"/api/v1/parks/{PARK}/sites/electronics/schedule", params={"date": DAY}, headers=operator
    )
    assert (got.json()["run_id"], got.json()["status"]) == (str(job_id), "ok")
    # one history: `vpp runs --db` lists the API's run from the same database
    capsys.readouterr()
    assert vpp_main(["runs", "--db", db_url, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["status"], r["date"], r["park"]) for r in rows] == [
        (late["job_run_id"], "fallback", DAY, PARK),
        (job_id, "ok", DAY, PARK),
    ]
    listed = client.get("/api/v1/job-runs", headers=operator).json()
    assert [(r["id"], r["pid"]) for r in listed] == [
        (late["job_run_id"], late["pid"]),
        (job_id, run["pid"]),
    ]
    # no way out of the run's outputs
    assert (
        client.get(
            f"/api/v1/runs/{run['id']}/outputs/..%2F..%2Frequest.json", headers=operator
        ).status_code
        == 404
    )


def test_a_bad_scenario_fails_with_exit_2_and_its_log(runs_api):
    client, tmp = runs_api["client"], runs_api["tmp"]
    operator = runs_api["headers"]["operator"]
    bad = tmp / "bad.yaml"
    bad.write_text("name: bad\nhorizon: {start: 2026-07-15, days: 1, step: 7min}\n")
    answer = client.post(
        "/api/v1/runs", json={"kind": "scenario", "scenario": str(bad)}, headers=operator
    )
    assert answer.status_code == 202, answer.text
    run = wait(client, operator, answer.json()["id"])
    assert (run["status"], run["flag"], run["exit_code"]) == ("failed", "failed", 2)
    assert run["exit_meaning"] == "bad input"
    log = client.get(f"/api/v1/runs/{run['id']}/log", headers=operator).text
    assert "vpp: error" in log and "exit code 2" in log
    assert "vpp: error" in run["message"]
    # a scenario outside the server's scenario folders is refused before any run
    outside = client.post(
        "/api/v1/runs", json={"kind": "scenario", "scenario": "/etc/passwd"}, headers=operator
    )
    assert outside.status_code == 400


def test_a_killed_worker_is_marked_failed(runs_api):
    client, operator = runs_api["client"], runs_api["headers"]["operator"]
    answer = client.post(
        "/api/v1/runs", json={"kind": "day-ahead", "park": PARK, "date": DAY}, headers=operator
    )
    registry = runs_api["runs"].registry
    run = wait(client, operator, answer.json()["id"], until=("running",))
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while not registry.runs(status="running") and time.monotonic() < deadline:
        time.sleep(POLL_S / 3)  # until the job has recorded itself
    os.kill(run["pid"], signal.SIGKILL)
    run = wait(client, operator, run["id"])
    assert (run["status"], run["flag"], run["exit_code"]) == ("failed", "failed", -9)
    assert run["exit_meaning"] == "killed by SIGKILL"
    assert run["schedule_ids"] == []
    (job,) = registry.runs()  # the job's row, left running by the kill, is reaped
    assert (job["id"], job["status"]) == (run["job_run_id"], "failed")
    assert job["message"].startswith("killed or crashed")


def test_a_run_left_running_by_a_dead_server_is_finished_on_start(platform, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    works = {name: tmp_path / name for name in ("killed", "done", "alive")}
    with platform.sessions() as session, session.begin():
        for name, work in works.items():
            work.mkdir()
            pid = alive.pid if name == "alive" else dead.pid
            session.add(
                RunRequest(
                    kind="scenario",
                    args="{}",
                    status="running",
                    requested_by="k",
                    requested_at=now,
                    work_dir=str(work),
                    pid=pid,
                    proc_start=process_start(pid),
                    host=socket.gethostname(),
                    started_at=now,
                    message="",
                )
            )
    for name in ("done", "alive"):  # their exit records (the live one's, ahead of time)
        (works[name] / "exit.json").write_text('{"exit_code": 0}')
    runs = RunSupervisor(platform, tmp_path / "runs")  # the new server
    rows = {r["id"]: r for r in runs.list()}
    killed, done = rows[1], rows[2]
    assert (killed["status"], killed["flag"], killed["exit_code"]) == ("failed", "failed", None)
    assert killed["exit_meaning"].startswith("unknown")
    assert (done["status"], done["flag"], done["exit_code"]) == ("ok", None, 0)
    assert runs.status(3)["status"] == "running"  # its worker lives on: watched again
    alive.wait()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while runs.status(3)["status"] == "running" and time.monotonic() < deadline:
        time.sleep(POLL_S)
    assert (runs.status(3)["status"], runs.status(3)["exit_code"]) == ("ok", 0)


def test_a_site_key_cannot_start_or_read_runs(runs_api):
    client, site = runs_api["client"], runs_api["headers"]["electronics"]
    body = {"kind": "day-ahead", "park": PARK, "date": DAY}
    assert client.post("/api/v1/runs", json=body, headers=site).status_code == 403
    assert client.get("/api/v1/runs", headers=site).status_code == 403
    assert client.get("/api/v1/runs/1", headers=site).status_code == 403
    assert client.get("/api/v1/job-runs", headers=site).status_code == 403
    assert client.post("/api/v1/runs", json=body).status_code == 401


def test_exit_codes_have_their_meaning():
    assert [exit_meaning(c) for c in (0, 2, 3, 4, 5)] == [
        "ok",
        "bad input",
        "infeasible",
        "solver failure or time limit",
        "busy: another run holds the date",
    ]
    assert exit_meaning(-signal.SIGTERM) == "killed by SIGTERM"


def test_a_second_revision_database_upgrades_to_the_runs_tables_with_its_data(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import inspect, text

    from vpp.platform import migrate
    from vpp.platform.db import make_engine
    from vpp.platform.models import Base

    engine = make_engine(db_url)
    migrate.upgrade(engine, "0002")
    when = dt.datetime(2026, 7, 15, 7, 0)
    with engine.begin() as conn:  # written as the second schema's code would
        conn.execute(
            text(
                "INSERT INTO parks (id, name, file, timezone, registered_at) "
                "VALUES (1, 'p', 'p.yaml', 'Asia/Shanghai', :t)"
            ),
            {"t": when},
        )
        conn.execute(
            text(
                "INSERT INTO runs (id, run_id, kind, park_id, date, status, out_dir, message, "
                "recorded_at) VALUES (1, '7', 'day-ahead', 1, :d, 'ok', '', '', :t)"
            ),
            {"d": dt.date(2026, 7, 16), "t": when},
        )
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert {"job_runs", "run_requests"} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT run_id, status FROM runs")).all() == [("7", "ok")]
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    migrate.downgrade(engine, "0002")
    assert not {"job_runs", "run_requests"} & set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT run_id FROM runs")).all() == [("7",)]
    engine.dispose()


def test_the_database_registry_keeps_the_file_registrys_rows_and_rules(db_url, tmp_path):
    from vpp.jobs.registry import Registry
    from vpp.platform.runs.registry_db import DbRegistry

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stores = {"file": Registry(tmp_path / "registry.sqlite"), "db": DbRegistry(db_url)}
    rows = {}
    for name, store in stores.items():
        base = {"job": "schedule", "park": PARK, "scenario_hash": "ab", "inputs": {"w": "cd"}}
        first = store.start(date="2026-07-15", out_dir=str(tmp_path / "a"), **base)
        store.finish(
            first,
            status="ok",
            exit_code=0,
            objective_cny=float("nan"),  # stored as None
            kpis={"sites": {"electronics": {"import_kwh": 1.5}}},
            outputs=[tmp_path / "a"],
        )
        with pytest.raises(ValueError, match="already finished"):
            store.finish(first, status="failed", exit_code=1)
        second = store.start(date=DAY, out_dir=str(tmp_path / "b"), **base)
        store.finish(second, status="fallback", exit_code=3, message="infeasible")
        crashed = store.start(date=DAY, out_dir=str(tmp_path / "c"), **base)
        if name == "file":  # its process is gone (pid and start time of a dead one)
            with sqlite3.connect(tmp_path / "registry.sqlite") as con:
                con.execute("UPDATE runs SET pid = ? WHERE id = ?", (dead.pid, crashed))
        else:
            with store.engine.begin() as conn:
                conn.execute(update(JobRun).where(JobRun.id == crashed).values(pid=dead.pid))
        assert store.reap() == 1
        rows[name] = store.runs()
        assert [r["id"] for r in store.runs(site="electronics")] == [first]
        assert [r["id"] for r in store.runs(status="fallback", limit=5)] == [second]
        assert store.runs(since="9999-01-01") == []
    changing = {"pid", "proc_start", "started_at", "ended_at", "duration_s", "message"}
    for file_row, db_row in zip(rows["file"], rows["db"], strict=True):
        assert set(file_row) == set(db_row)
        assert {k: v for k, v in file_row.items() if k not in changing} == {
            k: v for k, v in db_row.items() if k not in changing
        }
    assert [r["status"] for r in rows["db"]] == ["failed", "fallback", "ok"]
    assert rows["db"][0]["message"].startswith("killed or crashed")


def test_vpp_runs_db_never_creates_a_database(tmp_path, capsys):
    missing = tmp_path / "none" / "platform.sqlite"
    assert vpp_main(["runs", "--db", f"sqlite:///{missing}"]) == 2
    assert "no platform database there" in capsys.readouterr().err
    assert not missing.parent.exists()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_intraday_run_replans_the_day_and_its_schedule_is_the_one_served(runs_api):
    client, operator = runs_api["client"], runs_api["headers"]["operator"]
    body = {"kind": "intraday", "park": PARK, "date": DAY, "now": "2026-07-16T10:00:00+08:00"}
    answer = client.post("/api/v1/runs", json=body, headers=operator)
    assert answer.status_code == 202, answer.text
    assert client.post("/api/v1/runs", json=body, headers=operator).status_code == 409  # busy
    bad_now = {**body, "date": "2026-07-17", "now": "tomorrow"}
    refused = client.post("/api/v1/runs", json=bad_now, headers=operator)
    assert (refused.status_code, refused.json()["problems"][0]["field"]) == (400, "now")
    run = wait(client, operator, answer.json()["id"])
    assert (run["status"], run["exit_code"]) == ("ok", 0), run["message"]
    (job,) = runs_api["runs"].registry.runs()
    assert (job["id"], job["job"]) == (run["job_run_id"], "intraday")
    assert "/intraday/1000" in job["outputs"][0]  # <out>/<date>/intraday/<HHMM>/
    got = client.get(
        f"/api/v1/parks/{PARK}/sites/electronics/schedule", params={"date": DAY}, headers=operator
    )
    assert got.json()["run_id"] == str(run["job_run_id"])
    assert got.json()["timestamps"][0] >= "2026-07-16T10:00:00+08:00"  # the rest of the day
