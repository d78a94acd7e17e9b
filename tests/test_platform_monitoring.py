"""Monitoring on the platform: hand-computed month, day and carbon figures; access rules.

The demo park (scenarios/park/) is registered on a fresh database (SQLite and
PostgreSQL: the ``db_url`` fixture) whose clock stands at 2026-07-15 12:00 local. Site
``electronics`` gets 48 readings of 1000 kW import from 00:00 (one of 1500 kW at 08:00)
and 10 Nm3 of gas per step; its stored plan is 900 kW all day. Its tariff is the Jiangsu
2025 calendar: on a July day 00:00-06:00 and 11:00-13:00 are valley (0.467 CNY/kWh),
06:00-11:00 flat (0.74 CNY/kWh); the basic charge is 40 CNY/kW-month on the month's
maximum demand.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from vpp.emissions import factor
from vpp.platform import Platform, create_app
from vpp.platform.keys import create_key, revoke_key
from vpp.platform.monitoring.service import park_file, site_monitor, telemetry_gaps
from vpp.platform.parks import find_site, register_park

PARK_FILE = Path(__file__).resolve().parent.parent / "scenarios" / "park" / "xushuguan-park.yaml"
PARK, SITE = "xushuguan-park", "electronics"
NOW = dt.datetime(2026, 7, 15, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
#: Money and energy agree to rounding only [CNY, kWh, t].
TOL = 1e-6
STEP_H = 0.25
VALLEY, FLAT = 0.467, 0.74  # CNY/kWh, the calendar's July prices
DEMAND_RATE = 40.0  # CNY/kW-month, the site's basic charge


def _stamp(i: int) -> str:
    return (
        dt.datetime(2026, 7, 15, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        + dt.timedelta(minutes=15 * i)
    ).isoformat()


@pytest.fixture
def platform(tmp_path: Path, db_url: str) -> Platform:
    platform = Platform.open(db_url)
    platform.clock = lambda: NOW
    register_park(platform.sessions, PARK_FILE)
    rows = []
    for i in range(48):
        rows.append(
            {"channel": "import_kw", "timestamp": _stamp(i), "value": 1500.0 if i == 32 else 1000.0}
        )
        rows.append({"channel": "natural_gas_nm3", "timestamp": _stamp(i), "value": 10.0})
        if i not in (40, 41):  # a two-step hole in the load meter at 10:00
            rows.append({"channel": "load_kw", "timestamp": _stamp(i), "value": 1200.0})
    rows.append({"channel": "bess_soc_kwh", "timestamp": _stamp(4), "value": 500.0})
    platform.store_readings(PARK, SITE, rows)
    day = tmp_path / "out" / "2026-07-15"
    (day / "sites" / SITE).mkdir(parents=True)
    (day / "summary.json").write_text(
        json.dumps({"date": "2026-07-15", "status": "ok", "park": PARK, "run_id": "t1"})
    )
    lines = ["timestamp,grid_import_kw,load_kw"] + [f"{_stamp(i)},900,1100" for i in range(96)]
    (day / "sites" / SITE / "schedule.csv").write_text("\n".join(lines) + "\n")
    platform.record_day_folder(day)
    yield platform
    platform.close()


def _view(platform: Platform) -> dict:
    ref = find_site(platform.sessions, PARK, SITE)
    return site_monitor(platform, ref, park_file(platform, PARK))


def test_month_bill_and_peak_by_hand(platform: Platform) -> None:
    account = _view(platform)["month_account"]
    valley_kwh = 28 * 1000.0 * STEP_H  # 00:00-06:00 and 11:00-12:00
    flat_kwh = 19 * 1000.0 * STEP_H + 1500.0 * STEP_H  # 06:00-11:00, one step at 1500 kW
    assert account["energy"]["import_kwh"] == pytest.approx(valley_kwh + flat_kwh, abs=TOL)
    assert account["energy"]["import_kwh_by_period"] == pytest.approx(
        {"valley": valley_kwh, "flat": flat_kwh}, abs=TOL
    )
    energy_cny = valley_kwh * VALLEY + flat_kwh * FLAT
    assert account["bill"]["energy_cost_cny"] == pytest.approx(energy_cny, abs=TOL)
    assert account["peak"]["peak_import_kw"] == pytest.approx(1500.0, abs=TOL)
    assert account["peak"]["at"] == "2026-07-15T08:00:00+08:00"
    assert account["peak"]["basic_charge_cny"] == pytest.approx(1500.0 * DEMAND_RATE, abs=TOL)
    assert account["bill"]["bill_cny"] == pytest.approx(energy_cny + 1500.0 * DEMAND_RATE, abs=TOL)
    assert account["coverage"]["metered_steps"] == 48
    assert account["coverage"]["steps"] == 14 * 96 + 48  # July 1 to now: the rest are gaps
    assert account["coverage"]["steps_without_export"] == 48  # no export channel sent
    assert "48 metered step(s) without an export reading count no export" in account["notes"]
    assert (
        f"{14 * 96} step(s) without an import reading are left out of every sum"
        in (account["notes"])
    )


def test_carbon_account_by_hand(platform: Platform) -> None:
    carbon = _view(platform)["month_account"]["carbon"]
    kwh = 47 * 250.0 + 375.0
    grid_t = kwh * factor("electricity").value / 1000.0
    gas_t = 48 * 10.0 * factor("natural_gas").value / 1000.0
    assert carbon["by_carrier_t"]["electricity_location_based"] == pytest.approx(grid_t, abs=TOL)
    assert carbon["by_carrier_t"]["natural_gas"] == pytest.approx(gas_t, abs=TOL)
    assert carbon["by_carrier_t"]["heat"] == 0.0
    assert carbon["location_based_t"] == pytest.approx(grid_t + gas_t, abs=TOL)
    assert carbon["pre_assessment"] is None  # the demo sites set no threshold


def test_plan_against_actuals_by_hand(platform: Platform) -> None:
    today = _view(platform)["today"]
    assert today["has_plan"]
    assert today["compared_steps"] == 48
    assert today["plan_import_kwh"] == pytest.approx(48 * 900.0 * STEP_H, abs=TOL)
    actual = 47 * 250.0 + 375.0
    assert today["actual_import_kwh"] == pytest.approx(actual, abs=TOL)
    assert today["deviation_kwh"] == pytest.approx(actual - 10_800.0, abs=TOL)
    assert today["plan_peak_kw"] == pytest.approx(900.0, abs=TOL)
    assert today["actual_peak_kw"] == pytest.approx(1500.0, abs=TOL)
    assert today["actual_import_kw"][48] is None  # 12:00 has not ended
    assert today["plan_import_kw"][95] == pytest.approx(900.0, abs=TOL)
    soc = today["soc_kwh"]["bess_soc_kwh"]  # the plan gives none; one reading at 01:00
    assert soc["actual"][4] == 500.0
    assert sum(v is not None for v in soc["actual"]) == 1
    assert set(soc["plan"]) == {None}


def test_gaps_find_the_hole(platform: Platform) -> None:
    ref = find_site(platform.sessions, PARK, SITE)
    report = telemetry_gaps(platform, ref, park_file(platform, PARK))
    load = next(c for c in report["channels"] if c["channel"] == "load_kw")
    assert load["received_steps"] == 46
    # the window starts six days back: 6 * 96 steps before today are missing too
    assert load["longest_gap_steps"] == 6 * 96
    assert report["channels"][0]["expected_steps"] == 6 * 96 + 48
    imp = next(c for c in report["channels"] if c["channel"] == "import_kw")
    assert imp["newest"] == "2026-07-15T11:45:00+08:00"
    assert imp["age_minutes"] == pytest.approx(0.0, abs=TOL)


def test_api_roles(platform: Platform) -> None:
    client = TestClient(create_app(platform))
    _, operator = create_key(platform.sessions, "operator")
    _, own = create_key(platform.sessions, "site", park=PARK, site=SITE)
    _, other = create_key(platform.sessions, "site", park=PARK, site="logistics")
    base = f"/api/v1/monitoring/parks/{PARK}"
    assert client.get(base).status_code == 401
    assert client.get(base, headers={"X-API-Key": own}).status_code == 403
    park = client.get(base, headers={"X-API-Key": operator})
    assert park.status_code == 200
    site = client.get(f"{base}/sites/{SITE}", headers={"X-API-Key": own})
    assert site.status_code == 200
    assert site.json()["month_account"]["peak"]["peak_import_kw"] == pytest.approx(1500.0)
    row = next(s for s in park.json()["sites"] if s["site"] == SITE)
    assert row["month_account"]["bill"] == site.json()["month_account"]["bill"]
    assert client.get(f"{base}/sites/{SITE}", headers={"X-API-Key": other}).status_code == 403
    assert client.get(f"{base}/sites/nowhere", headers={"X-API-Key": own}).status_code == 403
    assert client.get(f"{base}/sites/nowhere", headers={"X-API-Key": operator}).status_code == 404
    assert client.get(f"{base}/runs", headers={"X-API-Key": own}).status_code == 403
    runs = client.get(f"{base}/runs", headers={"X-API-Key": operator}).json()
    assert [r["run_id"] for r in runs] == ["t1"]


def test_dashboard_session(platform: Platform) -> None:
    client = TestClient(create_app(platform), follow_redirects=False)
    key_id, key = create_key(platform.sessions, "site", park=PARK, site=SITE)
    page = f"/dashboard/parks/{PARK}/sites/{SITE}"
    assert client.get(page).headers["location"] == "/login"
    assert client.post("/login", data={"key": key + "x"}).status_code == 401
    login = client.post("/login", data={"key": key})
    assert login.status_code == 303
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert key.split("_")[-1] not in cookie  # the secret never leaves in the cookie
    assert client.get(page).status_code == 200
    refused = client.get(f"/dashboard/parks/{PARK}")  # the operator's page
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "a site key may not see this page" in refused.text
    assert client.get("/dashboard/parks/nowhere/gaps").status_code == 403
    assert client.get(f"/dashboard/parks/{PARK}/sites/logistics").status_code == 403
    forged = client.cookies.get("vpp_session").replace(key_id, "000000000000")
    assert (
        TestClient(create_app(platform), follow_redirects=False, cookies={"vpp_session": forged})
        .get(page)
        .status_code
        == 303
    )
    revoke_key(platform.sessions, key_id)
    assert client.get(page).headers["location"] == "/login"


def test_a_new_reading_updates_the_kept_view(platform: Platform) -> None:
    before = _view(platform)["month_account"]
    assert _view(platform)["month_account"] == before  # kept: nothing new
    platform.store_readings(
        PARK, SITE, [{"channel": "heat_gj", "timestamp": _stamp(47), "value": 2.0}]
    )
    after = _view(platform)["month_account"]
    heat_t = 2.0 * factor("heat").value / 1000.0
    assert after["carbon"]["by_carrier_t"]["heat"] == pytest.approx(heat_t, abs=TOL)
    assert after["bill"] == before["bill"]


GREEN_SITE = """
name: green
horizon: {start: 2026-07-15, days: 1, step: 15min}
site:
  name: green
  load: {synthetic: {profile: two_shift, peak_kw: 2000, seed: 7}}
  pv:
    - {kind: rooftop, name: roof, dc_capacity_kw: 800, tilt_deg: 5, commissioning_year: 2025}
  grid:
    import_limit_kw: 5000
    energy_price: {calendar: jiangsu-2025-industrial}
    basic_charge: {method: demand, demand_cny_per_kw_month: 40}
  green_contracts:
    - name: wind
      monthly_mwh: {"2026-07": 310}
      energy_price_cny_per_mwh: 391
      green_premium_cny_per_mwh: 27
      grid_fees_cny_per_kwh: 0.32
  renewable_target: {basis: annual, fraction: 0.5, certificate_price_cny_per_mwh: 7}
  emissions:
    economics: {output_value_cny: 1200000000}
    pre_assessment: {threshold_t_per_10k_cny: 0.40, basis: output_value, accounting: location_based}
"""


def test_intensity_and_carbon_assets_by_hand(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "green-park"
    (folder / "sites").mkdir(parents=True)
    (folder / "sites" / "green.yaml").write_text(GREEN_SITE)
    (folder / "park.yaml").write_text(
        "name: green-park\ntimezone: Asia/Shanghai\n"
        "horizon: {start: 2026-07-15, days: 1, step: 15min}\n"
        "sites:\n  - file: sites/green.yaml\n"
    )
    platform = Platform.open(db_url)
    platform.clock = lambda: NOW
    register_park(platform.sessions, folder / "park.yaml")
    rows = []
    for i in range(48):
        rows += [
            {"channel": "import_kw", "timestamp": _stamp(i), "value": 800.0},
            {"channel": "load_kw", "timestamp": _stamp(i), "value": 1200.0},
            {"channel": "roof_pv_kw", "timestamp": _stamp(i), "value": 400.0},
        ]
    platform.store_readings("green-park", "green", rows)
    ref = find_site(platform.sessions, "green-park", "green")
    view = site_monitor(platform, ref, park_file(platform, "green-park"))
    client = TestClient(create_app(platform))
    _, key = create_key(platform.sessions, "operator")
    client.post("/login", data={"key": key})
    month = client.get("/dashboard/parks/green-park/sites/green/month").text
    carbon = client.get("/dashboard/parks/green-park/carbon").text
    day = client.get("/dashboard/parks/green-park/sites/green")  # no schedule stored
    assert day.status_code == 200 and "no schedule stored for today" in day.text
    assert client.get("/dashboard/parks/green-park").status_code == 200
    assert client.get("/dashboard/parks/green-park/runs").status_code == 200
    assert client.get("/dashboard/parks/green-park/gaps").status_code == 200
    platform.close()
    intensity_shown = view["month_account"]["carbon"]["pre_assessment"]["intensity_t_per_10k_cny"]
    assert f'data-value="{intensity_shown}"' in month
    assert "against the threshold 0.400" in month
    assert "wind: 310.0 MWh this month" in carbon
    assert "50 % (annual)" in carbon
    carbon = view["month_account"]["carbon"]
    # July 1 00:00 to July 15 12:00 local: 14.5 days of a 365-day year
    share = 14.5 / 365.0
    assert carbon["year_share"] == pytest.approx(share, rel=1e-12)
    grid_t = 48 * 800.0 * STEP_H * factor("electricity").value / 1000.0
    intensity = grid_t / (1.2e9 * share / 1e4)
    check = carbon["pre_assessment"]
    assert check["intensity_t_per_10k_cny"] == pytest.approx(intensity, rel=1e-9)
    assert check["threshold_t_per_10k_cny"] == 0.40
    assert check["passed"] is (intensity <= 0.40)
    assets = view["carbon_assets"]
    assert assets["has_assets"]
    load_kwh, pv_kwh = 48 * 1200.0 * STEP_H, 48 * 400.0 * STEP_H
    assert assets["renewable_fraction"] == pytest.approx(pv_kwh / load_kwh, rel=1e-12)
    target = assets["target"]
    gap_mwh = (0.5 * load_kwh - pv_kwh) / 1000.0  # 2.4 MWh short of half the load
    assert target["certificates_needed"] == pytest.approx(gap_mwh, rel=1e-12)
    assert target["certificates_cost_cny"] == pytest.approx(gap_mwh * 7.0, rel=1e-12)
    assert target["met"] is False
    (contract,) = assets["contracts"]
    assert contract["contracted_mwh"] == 310
    assert contract["contracted_to_date_mwh"] == pytest.approx(310 * 14.5 / 31, rel=1e-12)
    assert contract["delivered_mwh"] is None


def test_a_park_file_gone_is_503_not_a_crash(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "green-park"
    (folder / "sites").mkdir(parents=True)
    (folder / "sites" / "green.yaml").write_text(GREEN_SITE)
    park_yaml = folder / "park.yaml"
    park_yaml.write_text(
        "name: green-park\ntimezone: Asia/Shanghai\n"
        "horizon: {start: 2026-07-15, days: 1, step: 15min}\n"
        "sites:\n  - file: sites/green.yaml\n"
    )
    platform = Platform.open(db_url)
    platform.clock = lambda: NOW
    register_park(platform.sessions, park_yaml)
    _, key = create_key(platform.sessions, "operator")
    park_yaml.unlink()
    client = TestClient(create_app(platform))
    answer = client.get("/api/v1/monitoring/parks/green-park", headers={"X-API-Key": key})
    platform.close()
    assert answer.status_code == 503
    assert "does not load any more" in answer.json()["detail"]


def test_warming_at_start_leaves_nothing_to_compute(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vpp.platform.monitoring import service

    service.warm_in_background(platform).join(timeout=120)
    computed: list[object] = []
    monkeypatch.setattr(service, "_compute_site", lambda *args: computed.append(args))
    view = service.park_monitor(platform, PARK)
    assert len(view["sites"]) == 4
    assert computed == []  # every site's view was kept from the warming


@pytest.mark.parametrize("minutes", [0, 20])
def test_the_first_minutes_of_a_month(tmp_path: Path, db_url: str, minutes: int) -> None:
    """Before any step of the month has ended (and before any reading), the view is
    empty, without an intensity to divide out: no error, no pass on no data."""
    folder = tmp_path / "green-park"
    (folder / "sites").mkdir(parents=True)
    (folder / "sites" / "green.yaml").write_text(GREEN_SITE)
    (folder / "park.yaml").write_text(
        "name: green-park\ntimezone: Asia/Shanghai\n"
        "horizon: {start: 2026-07-15, days: 1, step: 15min}\n"
        "sites:\n  - file: sites/green.yaml\n"
    )
    platform = Platform.open(db_url)
    platform.clock = lambda: dt.datetime(2026, 6, 30, 16, minutes, tzinfo=dt.UTC)
    register_park(platform.sessions, folder / "park.yaml")
    ref = find_site(platform.sessions, "green-park", "green")
    view = site_monitor(platform, ref, park_file(platform, "green-park"))
    platform.close()
    account = view["month_account"]
    assert account["coverage"]["steps"] == minutes // 15
    assert account["coverage"]["metered_steps"] == 0
    assert account["bill"]["bill_cny"] == 0.0
    assert account["carbon"]["pre_assessment"] is None
