"""A park's run through ``POST /parks/{park}/runs``: the daily job in a worker process
reads the platform's telemetry (a battery's state of charge, grid steps lacking a column
left out and said), and its schedules come back into the database (hooks after the
commit). (plat's test of its first runs endpoint, on the runs supervisor.)"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from job_parks import EVENING_BESS, EVENING_LOAD_KW, EVENING_PRICES, write_park, write_site

from vpp.platform import create_app
from vpp.platform.keys import create_key
from vpp.platform.parks import register_park
from vpp.platform.runs.supervisor import RunSupervisor

#: How long a small park's job may take in its worker process [s].
RUN_TIMEOUT_S = 90.0
PARK = "small-park"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_run_plans_from_the_platforms_telemetry(platform, tmp_path: Path):
    folder = tmp_path / "park"
    folder.mkdir()
    site = write_site(folder, "plant", EVENING_LOAD_KW, EVENING_PRICES, bess=EVENING_BESS)
    register_park(platform.sessions, write_park(folder, [site]))
    keys = {r: create_key(platform.sessions, r)[1] for r in ("admin", "operator")}
    keys["plant"] = create_key(platform.sessions, "site", park=PARK, site="plant")[1]
    told = []
    platform.schedule_committed.append(told.append)
    runs = RunSupervisor(platform, tmp_path / "runs", forecasts_dir=tmp_path / "no-forecasts")
    client = TestClient(create_app(platform, runs=runs))
    operator = {"X-API-Key": keys["operator"]}
    site_path = f"/api/v1/parks/{PARK}/sites/plant/telemetry"
    readings = [
        {"channel": "bess_soc_kwh", "timestamp": "2026-07-15T14:45:00+08:00", "value": 150.0},
        {"channel": "import_kw", "timestamp": "2026-07-15T14:00:00+08:00", "value": 100.0},
        {"channel": "export_kw", "timestamp": "2026-07-15T14:00:00+08:00", "value": 0.0},
        {"channel": "import_kw", "timestamp": "2026-07-15T14:15:00+08:00", "value": 100.0},
    ]
    stored = client.post(
        site_path, json={"readings": readings}, headers={"X-API-Key": keys["plant"]}
    )
    assert stored.json() == {"stored": 4, "repeated": 0}
    body = {"kind": "day-ahead", "date": "2026-07-16", "now": "2026-07-15T15:00:00+08:00"}
    path = f"/api/v1/parks/{PARK}/runs"
    assert client.post(path, json=body, headers={"X-API-Key": keys["plant"]}).status_code == 403
    started = client.post(path, json=body, headers=operator)
    assert started.status_code == 202
    assert started.json()["status"] in ("queued", "starting", "running")  # before the job ran
    run = started.json()["id"]
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        facts = client.get(f"/api/v1/runs/{run}", headers=operator).json()
        if facts["status"] in ("ok", "fallback", "failed"):
            break
        time.sleep(0.25)
    log = client.get(facts["log"], headers=operator).text
    assert facts["status"] == "ok", log
    job_run = str(facts["job_run_id"])
    # the job read the state of charge the platform stored
    summary = client.get(f"{facts['outputs']}/summary.json", headers=operator).json()
    assert summary["sources"]["soc"]["plant"]["bess"].startswith("150.0 kWh from telemetry")
    # the 14:15 step has import without export: left out, and said so
    assert "grid-plant.csv: 1 step(s) left out" in log
    schedule = client.get(
        f"/api/v1/parks/{PARK}/sites/plant/schedule",
        params={"date": "2026-07-16"},
        headers={"X-API-Key": keys["plant"]},
    )
    assert schedule.status_code == 200
    assert (schedule.json()["run_id"], len(schedule.json()["timestamps"])) == (job_run, 24)
    assert [(e.site, e.status, e.run_id) for e in told] == [("plant", "ok", job_run)]
    listed = client.get(path, headers={"X-API-Key": keys["admin"]}).json()
    assert [r["id"] for r in listed] == [run]
    assert client.get("/api/v1/parks/other/runs", headers=operator).status_code == 404
