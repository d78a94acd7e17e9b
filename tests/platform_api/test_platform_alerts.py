"""Targets and early warning: a projected breach by hand-computed numbers, on track, the
webhook (received on a loopback server, retried after a failure), telemetry gaps,
fallback schedules, the month's peak, one alert per condition, and who sees which.

The park's clock is fixed at 2026-12-01 00:00 (+08:00): 31 days are left in the year.
The electronics site imports 1000 kW for the 48 hours before it, and nothing else is
metered, so by hand (GB/T 2589-2020: 0.1229 kgce/kWh):

- year to date: 1000 kW x 48 h = 48,000 kWh -> 48,000 x 0.1229 / 1000 = 5.8992 tce;
- run-rate: 5.8992 tce over 48 metered hours -> 24 x 5.8992 / 48 = 2.9496 tce/day;
- projected: 5.8992 + 2.9496 x 31 = 97.3368 tce (above a target of 90, below 100);
- CO2 at the site's constant location-based factor f [kg/kWh]: 48,000 f / 1000 t so far,
  projected (48 + 24 x 31) f = 792 f t.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from platform_helpers import PARK, REPO, Receiver

from vpp.report.atomic import write_csv

#: Relative tolerance of sums over 192 steps in floating point [-].
REL = 1e-9
#: Longest wait for the webhook's background thread [s].
WAIT_S = 15.0
TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 12, 1, 0, 0, tzinfo=TZ)
TARGETS = f"/api/v1/parks/{PARK}/targets"


@pytest.fixture
def receiver():
    server = Receiver(fail_first=1)
    yield server
    server.close()


@pytest.fixture
def alerting(platform, receiver):
    """The app with alerts sent to ``receiver`` (no periodic evaluation: the tests
    evaluate), the clock at :data:`NOW` (``clock[0]``) and keys."""
    from fastapi.testclient import TestClient

    from vpp.platform import create_app
    from vpp.platform.alerts import configure
    from vpp.platform.alerts.settings import AlertSettings
    from vpp.platform.keys import create_key

    clock = [NOW]
    platform.clock = lambda: clock[0]
    settings = AlertSettings.model_validate(
        {
            "webhook": {"url": receiver.url, "backoff_s": 0.2, "timeout_s": 5},
            "evaluation": {"interval_s": 0},
        }
    )
    configure(platform, settings)
    keys = {"operator": create_key(platform.sessions, "operator")[1]}
    for site in ("electronics", "biomedicine"):
        keys[site] = create_key(platform.sessions, "site", park=PARK, site=site)[1]
    with TestClient(create_app(platform)) as client:
        yield {
            "client": client,
            "platform": platform,
            "engine": client.app.state.alerts,
            "clock": clock,
            "headers": {role: {"X-API-Key": key} for role, key in keys.items()},
        }


def store_import(platform, site: str, start: str, steps: int, kw: float | list[float]) -> None:
    index = pd.date_range(start, periods=steps, freq="15min", tz="Asia/Shanghai")
    values = np.broadcast_to(np.asarray(kw, dtype=float), (steps,))
    readings = [
        {"channel": "import_kw", "timestamp": t.isoformat(), "value": float(v)}
        for t, v in zip(index, values, strict=True)
    ]
    platform.store_readings(PARK, site, readings)


def two_days(platform) -> None:
    store_import(platform, "electronics", "2026-11-29T00:00", 192, 1000.0)


def alerts(client, headers, **params) -> list[dict]:
    answer = client.get("/api/v1/alerts", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["alerts"]


def put_energy_target(client, headers, tce: float) -> None:
    body = {"year": 2026, "sites": {"electronics": {"energy_tce": tce}}}
    answer = client.put(TARGETS, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["stored"] == {"electronics": ["energy_tce"]}


def test_a_projected_breach_by_hand_is_stored_shown_and_sent_after_a_failed_try(alerting, receiver):
    client, engine, ops = alerting["client"], alerting["engine"], alerting["headers"]["operator"]
    two_days(alerting["platform"])
    put_energy_target(client, ops, 90.0)
    report = client.get(TARGETS, headers=ops).json()
    mine = report["sites"]["electronics"]
    assert mine["ytd"]["energy_tce"] == pytest.approx(5.8992, rel=REL)
    assert mine["run_rate"]["energy_tce_per_day"] == pytest.approx(2.9496, rel=REL)
    assert mine["days_left"] == 31.0
    assert mine["projected"]["energy_tce"] == pytest.approx(97.3368, rel=REL)
    factor = mine["ytd"]["co2_t"] / 48.0  # t per 1000 kWh = kg/kWh
    assert factor > 0
    assert mine["projected"]["co2_t"] == pytest.approx(792.0 * factor, rel=REL)
    assert mine["targets"][0]["state"] == "projected breach"

    engine.evaluate(PARK)
    shown = alerts(client, ops, park=PARK)
    assert [(a["kind"], a["site"], a["key"], a["severity"]) for a in shown] == [
        ("target", "electronics", "2026:energy_tce", "warning")
    ]
    numbers = shown[0]["numbers"]
    assert numbers["projected"] == pytest.approx(97.3368, rel=REL)
    assert numbers["limit"] == 90.0
    # the background thread sends, is refused, waits backoff_s, sends again
    wait_for(lambda: alerts(client, ops, park=PARK)[0]["deliveries"][0]["state"] != "pending")
    assert receiver.answers == [500, 200]  # retried after the receiver's failure
    (payload,) = receiver.received
    assert payload["event"] == "opened"
    assert payload["alert"]["kind"] == "target"
    assert payload["alert"]["site"] == "electronics"
    assert payload["alert"]["numbers"]["projected"] == pytest.approx(97.3368, rel=REL)
    (delivery,) = alerts(client, ops, park=PARK)[0]["deliveries"]
    assert (delivery["event"], delivery["state"], delivery["attempts"]) == (
        "opened",
        "delivered",
        2,
    )
    assert "500" in delivery["last_error"]  # the first attempt's answer, kept


def test_on_track_no_alert_and_a_breach_closes_when_the_target_is_raised(alerting):
    client, engine, ops = alerting["client"], alerting["engine"], alerting["headers"]["operator"]
    two_days(alerting["platform"])
    put_energy_target(client, ops, 100.0)  # 97.3368 projected: on track
    body = {
        "year": 2026,
        "park_targets": {"energy_tce": 100.0},  # the other sites have no readings
        "sites": {
            "electronics": {"energy_intensity_tce_per_10k_cny": 0.01, "value_added_cny": 1e8}
        },
    }
    assert client.put(TARGETS, json=body, headers=ops).status_code == 200
    report = client.get(TARGETS, headers=ops).json()
    assert report["park"]["projected"]["energy_tce"] == pytest.approx(97.3368, rel=REL)
    assert [t["state"] for t in report["park"]["targets"]] == ["on track"]
    mine = report["sites"]["electronics"]  # 97.3368 tce / (1e8 / 1e4) = 0.00973368
    assert mine["projected"]["energy_intensity_tce_per_10k_cny"] == pytest.approx(
        0.00973368, rel=REL
    )
    assert {t["metric"]: t["state"] for t in mine["targets"]} == {
        "energy_tce": "on track",
        "energy_intensity_tce_per_10k_cny": "on track",
    }
    engine.evaluate(PARK)
    assert alerts(client, ops, park=PARK, state="all") == []
    put_energy_target(client, ops, 90.0)
    engine.evaluate(PARK)
    assert len(alerts(client, ops, park=PARK)) == 1
    put_energy_target(client, ops, 100.0)
    engine.evaluate(PARK)
    assert alerts(client, ops, park=PARK) == []
    (closed,) = alerts(client, ops, park=PARK, state="closed")
    assert closed["closed_at"] is not None
    assert [d["event"] for d in closed["deliveries"]] == ["opened", "closed"]
    # a late day of readings (Nov 28, 1000 kW) renews the kept sums: 72,000 kWh so far
    # -> 8.8488 tce, the same run-rate (72 metered hours) -> 8.8488 + 91.4376 = 100.2864
    store_import(alerting["platform"], "electronics", "2026-11-28T00:00", 96, 1000.0)
    mine = client.get(TARGETS, headers=ops).json()["sites"]["electronics"]
    assert mine["ytd"]["energy_tce"] == pytest.approx(8.8488, rel=REL)
    assert mine["projected"]["energy_tce"] == pytest.approx(100.2864, rel=REL)
    engine.evaluate(PARK)  # the park (100.2864 > 100) and the intensity (0.01002864) too
    assert sorted((a["site"] or "", a["key"]) for a in alerts(client, ops, park=PARK)) == [
        ("", "2026:energy_tce"),
        ("electronics", "2026:energy_intensity_tce_per_10k_cny"),
        ("electronics", "2026:energy_tce"),
    ]


def test_one_alert_per_condition_however_often_evaluated(alerting):
    client, ops = alerting["client"], alerting["headers"]["operator"]
    two_days(alerting["platform"])
    put_energy_target(client, ops, 90.0)
    for _ in range(3):
        answer = client.post("/api/v1/alerts/evaluate", params={"park": PARK}, headers=ops)
        assert answer.status_code == 200
    shown = alerts(client, ops, park=PARK, state="all")
    assert len(shown) == 1
    assert [d["event"] for d in shown[0]["deliveries"]] == ["opened"]


def test_a_telemetry_gap_opens_and_closes(alerting):
    client, engine, ops = alerting["client"], alerting["engine"], alerting["headers"]["operator"]
    platform, clock = alerting["platform"], alerting["clock"]
    two_days(platform)  # the newest reading at 23:45, 15 min before the clock
    engine.evaluate(PARK, kinds=("telemetry_gap",))
    assert alerts(client, ops, park=PARK) == []
    clock[0] = NOW + dt.timedelta(minutes=61)  # 76 min since 23:45: more than 60
    engine.evaluate(PARK, kinds=("telemetry_gap",))
    (gap,) = alerts(client, ops, park=PARK)
    assert (gap["kind"], gap["site"], gap["key"]) == ("telemetry_gap", "electronics", "import_kw")
    assert gap["numbers"]["age_minutes"] == pytest.approx(76.0, rel=REL)
    assert gap["numbers"]["threshold_minutes"] == 60.0
    store_import(platform, "electronics", "2026-12-01T00:00", 4, 1000.0)
    engine.evaluate(PARK, kinds=("telemetry_gap",))
    assert alerts(client, ops, park=PARK) == []


def day_folder(root: Path, day: str, status: str, run_id: str, import_kw: float) -> Path:
    """A job's ``<out>/<date>/`` (as in test_platform_schedules) for two sites."""
    folder = root / run_id / day
    index = pd.date_range(day, periods=96, freq="15min", tz="Asia/Shanghai")
    index.name = "timestamp"
    for site in ("electronics", "biomedicine"):
        (folder / "sites" / site).mkdir(parents=True)
        frame = pd.DataFrame(
            {"load_kw": np.full(96, 1000.0), "grid_import_kw": np.full(96, import_kw)},
            index=index,
        )
        write_csv(frame, folder / "sites" / site / "schedule.csv")
    summary = {"date": day, "park": PARK, "status": status, "run_id": run_id}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


def test_a_fallback_schedule_raises_an_alert_until_a_good_one_comes(alerting, tmp_path):
    client, engine, ops = alerting["client"], alerting["engine"], alerting["headers"]["operator"]
    platform = alerting["platform"]
    platform.record_day_folder(day_folder(tmp_path, "2026-12-01", "fallback", "r1", 900.0))
    engine.evaluate(PARK, kinds=("schedule", "run"))
    shown = alerts(client, ops, park=PARK)
    assert sorted((a["kind"], a["site"], a["key"]) for a in shown) == [
        ("schedule", "biomedicine", "2026-12-01"),
        ("schedule", "electronics", "2026-12-01"),
    ]
    platform.record_day_folder(day_folder(tmp_path, "2026-12-01", "ok", "r2", 900.0))
    engine.evaluate(PARK, kinds=("schedule", "run"))
    assert alerts(client, ops, park=PARK) == []


def test_the_month_to_date_peak_nearing_and_passing_the_planned_peak(alerting, tmp_path):
    client, engine, ops = alerting["client"], alerting["engine"], alerting["headers"]["operator"]
    platform, clock = alerting["platform"], alerting["clock"]
    platform.record_day_folder(day_folder(tmp_path, "2026-12-01", "ok", "r1", 900.0))
    clock[0] = NOW + dt.timedelta(hours=2)
    store_import(platform, "electronics", "2026-12-01T00:00", 7, 800.0)
    engine.evaluate(PARK, kinds=("peak",))
    assert alerts(client, ops, park=PARK) == []  # 800 / 900 = 0.889 < 0.95
    store_import(platform, "electronics", "2026-12-01T01:45", 1, 870.0)
    engine.evaluate(PARK, kinds=("peak",))
    (peak,) = alerts(client, ops, park=PARK)
    assert (peak["kind"], peak["site"], peak["key"], peak["severity"]) == (
        "peak",
        "electronics",
        "2026-12",
        "warning",
    )
    assert peak["numbers"]["planned_peak_kw"] == 900.0
    assert peak["numbers"]["metered_peak_kw"] == 870.0
    assert peak["numbers"]["ratio"] == pytest.approx(870.0 / 900.0, rel=REL)
    clock[0] = NOW + dt.timedelta(hours=2, minutes=15)
    store_import(platform, "electronics", "2026-12-01T02:00", 1, 950.0)
    engine.evaluate(PARK, kinds=("peak",))
    (peak,) = alerts(client, ops, park=PARK)  # the same alert, now critical
    assert (peak["severity"], peak["numbers"]["metered_peak_kw"]) == ("critical", 950.0)
    assert [d["event"] for d in peak["deliveries"]] == ["opened", "updated"]


def test_a_site_key_sees_only_its_sites_alerts(alerting, tmp_path):
    client, engine, headers = alerting["client"], alerting["engine"], alerting["headers"]
    alerting["platform"].record_day_folder(
        day_folder(tmp_path, "2026-12-01", "fallback", "r1", 900.0)
    )
    engine.evaluate(PARK, kinds=("schedule",))
    assert [a["site"] for a in alerts(client, headers["electronics"])] == ["electronics"]
    assert [a["site"] for a in alerts(client, headers["biomedicine"], park=PARK)] == ["biomedicine"]
    assert len(alerts(client, headers["operator"], park=PARK)) == 2
    for params in (
        {"park": PARK, "site": "biomedicine"},
        {"park": PARK, "site": "no-such-site"},
        {"park": "another-park"},
    ):
        answer = client.get("/api/v1/alerts", params=params, headers=headers["electronics"])
        assert answer.status_code == 403, params
    assert client.get("/api/v1/alerts").status_code == 401
    body = {"year": 2026, "sites": {"electronics": {"energy_tce": 1.0}}}
    assert client.put(TARGETS, json=body, headers=headers["electronics"]).status_code == 403
    assert client.get(TARGETS, headers=headers["electronics"]).status_code == 403
    assert client.post("/api/v1/alerts/evaluate", headers=headers["electronics"]).status_code == 403
    own = client.get(f"{TARGETS[:-8]}/sites/electronics/targets", headers=headers["electronics"])
    assert own.status_code == 200
    other = client.get(f"{TARGETS[:-8]}/sites/biomedicine/targets", headers=headers["electronics"])
    assert other.status_code == 403


def test_the_demo_settings_file_stores_its_targets(platform):
    from vpp.platform.alerts.engine import AlertEngine
    from vpp.platform.alerts.settings import load_settings
    from vpp.platform.parks import find_site

    settings = load_settings(REPO / "scenarios" / "park" / "xushuguan-alerts.yaml")
    assert settings.gap_minutes("electronics", "import_kw") == 30.0
    assert settings.gap_minutes("biomedicine", "import_kw") == 60.0
    engine = AlertEngine(platform, settings)
    ref = find_site(platform.sessions, PARK, "electronics")
    from vpp.platform.alerts.targets import read_targets

    stored = read_targets(platform.sessions, ref.park_id, 2026)
    assert stored[None]["limits"] == {"energy_tce": 6000.0, "co2_t": 30000.0}
    assert stored[ref.site_id]["limits"]["energy_intensity_tce_per_10k_cny"] == 0.08
    assert stored[ref.site_id]["value_added_cny"] == 3e8
    assert stored[ref.site_id]["sources"]["energy_tce"] == "file"
    assert engine.settings is settings
    platform.clock = lambda: NOW
    report = engine.report(PARK)  # nothing metered this year: no projection to judge
    assert {t["state"] for t in report["sites"]["biomedicine"]["targets"]} == {"no data"}
    assert {t["state"] for t in report["park"]["targets"]} == {"no data"}


def test_ingestion_and_the_periodic_task_evaluate_in_the_background(platform, receiver):
    """The periodic task's first evaluation (at start) opens a gap; a telemetry batch
    through the API closes it without an explicit evaluation (the next periodic one is
    an hour away); neither runs inside the request."""
    from fastapi.testclient import TestClient

    from vpp.platform import create_app
    from vpp.platform.alerts import configure
    from vpp.platform.alerts.settings import AlertSettings
    from vpp.platform.keys import create_key

    clock = [NOW + dt.timedelta(minutes=61)]
    platform.clock = lambda: clock[0]
    two_days(platform)
    configure(platform, AlertSettings.model_validate({"evaluation": {"interval_s": 3600}}))
    key = {"X-API-Key": create_key(platform.sessions, "site", park=PARK, site="electronics")[1]}
    with TestClient(create_app(platform)) as client:
        wait_for(lambda: len(alerts(client, key)) == 1)  # the task's first evaluation
        batch = {
            "readings": [
                {"channel": "import_kw", "timestamp": "2026-12-01T00:45:00+08:00", "value": 1.0}
            ]
        }
        path = f"/api/v1/parks/{PARK}/sites/electronics/telemetry"
        assert client.post(path, json=batch, headers=key).status_code == 200
        wait_for(lambda: alerts(client, key) == [])  # closed after the batch
        (closed,) = alerts(client, key, state="closed")
        assert closed["kind"] == "telemetry_gap"


def wait_for(condition, limit_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "not within the wait"
        time.sleep(0.05)


def test_the_dashboard_partial_shows_alerts_and_targets(alerting):
    """The partial renders with the dashboard's own filters (num, pct)."""
    import jinja2

    from vpp.platform.alerts import TEMPLATES, dashboard_context
    from vpp.platform.dashboard.routes import templates
    from vpp.platform.parks import find_site

    client, engine, ops = alerting["client"], alerting["engine"], alerting["headers"]["operator"]
    two_days(alerting["platform"])
    put_energy_target(client, ops, 90.0)
    engine.evaluate(PARK)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    env.filters.update(templates.env.filters)
    page = env.get_template("alerts_section.html").render(**dashboard_context(client.app, PARK))
    assert "electronics: energy_tce projected 97.34 tce for 2026, above the target 90 tce" in page
    assert 'data-scope="electronics" data-metric="energy_tce"' in page
    assert "projected breach" in page
    other = find_site(alerting["platform"].sessions, PARK, "biomedicine").site_id
    # a site key's view: its own site's alerts only, no park targets
    assert dashboard_context(client.app, PARK, {other}) == {"alerts": [], "targets": None}


def test_the_dashboards_carbon_page_shows_the_warnings_to_whom_they_concern(alerting):
    """The carbon-assets page carries the open alerts and the targets: the operator sees
    electronics' projected breach, biomedicine's site key sees none of it."""
    client, engine, heads = alerting["client"], alerting["engine"], alerting["headers"]
    two_days(alerting["platform"])
    put_energy_target(client, heads["operator"], 90.0)
    engine.evaluate(PARK)
    page = f"/dashboard/parks/{PARK}/carbon"
    assert (
        client.post(
            "/login", data={"key": heads["operator"]["X-API-Key"]}, follow_redirects=False
        ).status_code
        == 303
    )
    seen = client.get(page).text
    assert "above the target 90 tce" in seen and "projected breach" in seen
    client.post("/logout")
    assert (
        client.post(
            "/login", data={"key": heads["biomedicine"]["X-API-Key"]}, follow_redirects=False
        ).status_code
        == 303
    )
    seen = client.get(page).text
    assert "above the target" not in seen and "electronics" not in seen


ROUTES = [
    ("get", "/api/v1/alerts", {"park": PARK, "site": "electronics", "state": "all"}, None),
    ("post", "/api/v1/alerts/evaluate", {"park": PARK}, None),
    ("get", "/api/v1/parks/{park}/targets", {"year": "2026"}, None),
    ("put", "/api/v1/parks/{park}/targets", {}, {"year": 2026, "sites": {}}),
    ("get", "/api/v1/parks/{park}/sites/{site}/targets", {"year": "2026"}, None),
]
INJECTIONS = ["' OR '1'='1", "electronics'; DROP TABLE alerts; --", "1; DELETE FROM targets"]


@pytest.mark.parametrize("role", ["operator", "electronics"])
def test_sql_injection_in_every_alerts_path_and_query_parameter_is_4xx(alerting, role, tmp_path):
    from sqlalchemy import func, select

    from vpp.platform.alerts.tables import Alert, Target

    client, headers = alerting["client"], alerting["headers"][role]
    platform = alerting["platform"]
    platform.record_day_folder(day_folder(tmp_path, "2026-12-01", "fallback", "r1", 900.0))
    alerting["engine"].evaluate(PARK, kinds=("schedule",))
    put_energy_target(client, alerting["headers"]["operator"], 90.0)

    def census() -> tuple[int, int]:
        with platform.sessions() as session:
            return tuple(
                session.scalar(select(func.count()).select_from(t)) for t in (Alert, Target)
            )

    before, seen = census(), 0
    for method, template, query, body in ROUTES:
        anonymous = client.request(
            method, template.format(park=PARK, site="electronics"), params=query, json=body
        )
        assert anonymous.status_code == 401
        for bad in INJECTIONS:
            for name in ("park", "site"):
                if "{" + name + "}" in template:
                    path = template.format(**{"park": PARK, "site": "electronics", name: bad})
                    answer = client.request(method, path, params=query, json=body, headers=headers)
                    assert 400 <= answer.status_code < 500, (template, name, answer.text)
                    seen += 1
            for key in query:
                path = template.format(park=PARK, site="electronics")
                answer = client.request(
                    method, path, params={**query, key: bad}, json=body, headers=headers
                )
                assert 400 <= answer.status_code < 500, (template, key, answer.text)
                seen += 1
    assert seen == 30  # 9 + 3 + 6 + 3 + 9 (parameters x injections)
    assert census() == before == (2, 1)


def test_a_webhook_that_keeps_failing_is_given_up_after_max_attempts(platform, tmp_path):
    """Delivery never runs in the evaluation: a receiver that always fails leaves the
    alert stored and its message ``failed`` after ``max_attempts``, its error kept."""
    from vpp.platform.alerts.engine import AlertEngine
    from vpp.platform.alerts.settings import AlertSettings
    from vpp.platform.alerts.store import list_alerts

    server = Receiver(fail_first=100)
    try:
        platform.clock = lambda: NOW
        settings = AlertSettings.model_validate(
            {"webhook": {"url": server.url, "max_attempts": 2, "backoff_s": 0}}
        )
        engine = AlertEngine(platform, settings)  # not started: no thread sends
        platform.record_day_folder(day_folder(tmp_path, "2026-12-01", "fallback", "r1", 900.0))
        engine.evaluate(PARK, kinds=("schedule",))
        assert server.answers == []  # the evaluation only queued the messages
        assert engine.deliverer.deliver_due() == 0
        assert engine.deliverer.deliver_due() == 0
        assert engine.deliverer.deliver_due() == 0  # given up: not tried a third time
        assert server.answers == [500] * 4  # two alerts, two attempts each
        for alert in list_alerts(platform, park=PARK):
            (delivery,) = alert["deliveries"]
            assert (delivery["state"], delivery["attempts"]) == ("failed", 2)
            assert "500" in delivery["last_error"]
    finally:
        server.close()
