"""Schedules out: a job run's day folder stored, the hooks told after the commit, a
site's day served as JSON and CSV, a fallback never replacing a good schedule."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from platform_helpers import PARK

from vpp.platform.models import Schedule
from vpp.report.atomic import write_csv

SITE = f"/api/v1/parks/{PARK}/sites/electronics/schedule"


def day_folder(root: Path, status: str, run_id: str, bess_kw: float) -> Path:
    """A job's ``<out>/<date>/`` as :mod:`vpp.jobs.outputs` writes it (two sites)."""
    folder = root / f"{run_id}" / "2026-07-16"
    index = pd.date_range("2026-07-16", periods=96, freq="15min", tz="Asia/Shanghai")
    index.name = "timestamp"
    for site in ("electronics", "biomedicine"):
        (folder / "sites" / site).mkdir(parents=True)
        frame = pd.DataFrame(
            {
                "load_kw": np.full(96, 1000.0),
                "grid_import_kw": np.full(96, 900.0),
                "bess_power_kw": np.full(96, bess_kw),
            },
            index=index,
        )
        write_csv(frame, folder / "sites" / site / "schedule.csv")
    summary = {"date": "2026-07-16", "park": PARK, "status": status, "run_id": run_id}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


def test_a_stored_day_is_served_and_announced_after_commit(api, tmp_path):
    client, platform = api["client"], api["platform"]
    seen = []

    def hook(event):  # a fresh session sees the row: the commit came first
        with platform.sessions() as session:
            seen.append((event.site, event.status, session.get(Schedule, event.schedule_id).date))

    platform.schedule_committed.append(hook)
    platform.schedule_committed.insert(0, lambda event: 1 / 0)  # a broken hook stops nothing
    events = platform.record_day_folder(day_folder(tmp_path, "ok", "r1", -250.0))
    assert [(e.site, e.run_id) for e in events] == [("biomedicine", "r1"), ("electronics", "r1")]
    assert [s[:2] for s in seen] == [("biomedicine", "ok"), ("electronics", "ok")]
    answer = client.get(SITE, params={"date": "2026-07-16"}, headers=api["headers"]["electronics"])
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["run_id"], len(body["timestamps"])) == ("ok", "r1", 96)
    assert body["timestamps"][0] == "2026-07-16T00:00:00+08:00"
    assert body["columns"] == ["load_kw", "grid_import_kw", "bess_power_kw"]
    assert body["data"][0] == [1000.0, 900.0, -250.0]
    csv = client.get(
        SITE, params={"date": "2026-07-16", "format": "csv"}, headers=api["headers"]["operator"]
    )
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.headers["x-schedule-status"] == "ok"
    table = pd.read_csv(io.StringIO(csv.text), index_col=0)
    assert table.index[95] == "2026-07-16T23:45:00+08:00"
    assert table["bess_power_kw"].tolist() == [-250.0] * 96
    missing = client.get(SITE, params={"date": "2026-07-17"}, headers=api["headers"]["admin"])
    assert missing.status_code == 404


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_fallback_never_replaces_a_good_schedule(api, tmp_path):
    client, platform, h = api["client"], api["platform"], api["headers"]["electronics"]
    platform.record_day_folder(day_folder(tmp_path, "fallback", "r1", 0.0))
    assert client.get(SITE, params={"date": "2026-07-16"}, headers=h).json()["run_id"] == "r1"
    platform.record_day_folder(day_folder(tmp_path, "ok", "r2", -100.0))
    platform.record_day_folder(day_folder(tmp_path, "fallback", "r3", 0.0))
    body = client.get(SITE, params={"date": "2026-07-16"}, headers=h).json()
    assert (body["run_id"], body["status"], body["data"][0][2]) == ("r2", "ok", -100.0)
    platform.record_day_folder(day_folder(tmp_path, "ok", "r4", -50.0))
    assert client.get(SITE, params={"date": "2026-07-16"}, headers=h).json()["run_id"] == "r4"
    latest = platform.latest_schedules()
    assert [(e.site, e.run_id) for e in latest] == [("biomedicine", "r4"), ("electronics", "r4")]
    frame = platform.schedule_table(PARK, "electronics", pd.Timestamp("2026-07-16").date())
    assert frame["bess_power_kw"].iloc[0] == -50.0
