"""The daily job's control-room page (:func:`vpp.report.job_html.job_report_html`).

The page is built from a real run of ``vpp schedule`` on the demo park (with a
demand-response notice), from a fallback of the same job (a telemetry file that does not
parse) and from small hand-made schedules (a site without a battery, TOU periods, a
hostile flag). It must name every site, the shared limit, every offer and every flag
(escaped), carry no script and no network reference, render fast and load in a headless
Chromium with every figure decoded (the harness of ``test_report_browser``).
"""

from __future__ import annotations

import base64
import html
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_report_browser import browse, need_chromium

import vpp.cli
from vpp.report.job_figures import batteries, flexible_kw, price_bands
from vpp.report.job_html import job_report_html
from vpp.report.job_svg import nice_ticks, tick_label

PARK = Path(__file__).resolve().parents[1] / "scenarios" / "park" / "xushuguan-park.yaml"
DATE = "2026-07-16"
TZ = "Asia/Shanghai"
#: Wall-clock budget of the page for the four-site demo park [s] (the job has 3 s in all).
PAGE_BUDGET_S = 0.8
#: A flag that would run as script if it were not escaped.
HOSTILE_FLAG = "site 'x': reading <script>alert('flag')</script> & dropped"
NOTICE = """- name: summer-peak-0716
  kind: peak_shaving
  start: 2026-07-16T17:00
  end: 2026-07-16T19:00
  requested_kw: 1500
  notified_at: 2026-07-15T09:00
"""


def read_day(folder: Path) -> tuple[dict, dict[str, pd.DataFrame], pd.DataFrame]:
    """summary.json, the sites' schedules and the park plan of a job's day folder."""
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    schedules = {
        p.name: pd.read_parquet(p / "schedule.parquet")
        for p in sorted((folder / "sites").iterdir())
    }
    return summary, schedules, pd.read_parquet(folder / "park_plan.parquet")


def rest_of_today(frame: pd.DataFrame) -> pd.DataFrame:
    """The target day's frame moved one day back, from 15:00 on: a stand-in for the
    revised rest of today the job will write."""
    moved = frame.copy()
    moved.index = moved.index - pd.Timedelta(days=1)
    return moved[moved.index.hour >= 15]


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> dict:
    """One good run (with a demand-response notice) and one fallback of the job."""
    tmp = tmp_path_factory.mktemp("job")
    notices = tmp / "notices"
    notices.mkdir()
    (notices / "dr.yaml").write_text(NOTICE, encoding="utf-8")
    ok = tmp / "ok"
    argv = ["schedule", str(PARK), "--date", DATE, "--out", str(ok), "--notices", str(notices)]
    assert vpp.cli.main(argv) == 0
    telemetry = tmp / "telemetry"
    telemetry.mkdir()
    (telemetry / "soc.csv").write_text(
        "site,battery,timestamp,soc_kwh\nelectronics,bess,not-a-time,300\n", encoding="utf-8"
    )
    bad = tmp / "bad"
    argv = ["schedule", str(PARK), "--date", DATE, "--out", str(bad), "--telemetry", str(telemetry)]
    assert vpp.cli.main(argv) == 2
    return {"ok": read_day(ok / DATE), "fallback": read_day(bad / DATE)}


def images(page: str) -> list[str]:
    """The decoded SVG documents embedded in ``page``."""
    uris = re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page)
    return [base64.b64decode(u).decode("utf-8") for u in uris]


def assert_self_contained(page: str) -> None:
    """No script, no link or resource out of the file, in the page and in its figures."""
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", page)
    assert "http://" not in page and "https://" not in page
    for svg in images(page):
        assert "<script" not in svg.lower()
        assert "href" not in svg
        # The only URL is the SVG namespace, which names and fetches nothing.
        assert re.findall(r"https?://[^\"' ]+", svg) == ["http://www.w3.org/2000/svg"]


def good_page(job: dict) -> tuple[str, dict]:
    summary, schedules, plan = job["ok"]
    summary = {**summary, "flags": [*summary["flags"], HOSTILE_FLAG, "PV from clear sky"]}
    today = {n: rest_of_today(f) for n, f in schedules.items()}
    page = job_report_html(summary, schedules, plan, today, rest_of_today(plan))
    return page, summary


def test_page_names_sites_limit_offers_and_every_flag(job):
    page, summary = good_page(job)
    text = html.unescape(page)
    for site in summary["sites"]:
        assert f"<h3 id='site-{site}'>{site}</h3>" in page
        assert any(f"{site}: the plan" in svg for svg in images(page)), site
    assert "7,500" in page and "shared feeder limit 7,500 kW" in "".join(images(page))
    (event,) = [e for e in summary["demand_response"] if e["name"] == "summer-peak-0716"]
    assert event["name"] in page
    assert f"<b>{event['offered_kw']:,.0f}</b>" in page
    assert f"<b>{event['settlement']['payment_cny']:,.0f}</b>" in page
    for site, paid in event["payment_by_site_cny"].items():
        assert f"<td>{site}</td>" in page and f"{paid:,.0f}" in page
    for flag in summary["flags"]:
        assert f"<li>{html.escape(flag)}</li>" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#x27;flag&#x27;)" in page
    assert "<b>OK</b>" in page and "FALLBACK" not in page
    assert "rest of today (revised from 15:00)" in "".join(images(page))
    for source in summary["sources"]["pv"].values():
        assert source["file"] in text
    assert_self_contained(page)


def test_fallback_page_says_failure_exit_code_limits_and_missing_sites(job):
    summary, schedules, plan = job["fallback"]
    assert summary["status"] == "fallback"
    schedules = {n: f for n, f in schedules.items() if n != "rnd-offices"}
    summary = {
        **summary,
        "sites_scheduled": sorted(schedules),
        "sites_without_schedule": {"rnd-offices": "site 'rnd-offices': load file <missing>"},
        "limits_exceeded": [
            {
                "limit": "shared_limit_kw",
                "where": "park",
                "limit_kw": 5200.0,
                "max_excess_kw": 2149.538,
                "steps": 52,
                "first": f"{DATE}T00:00:00+08:00",
                "hours": ["00:00-00:45", "13:30-23:45"],
            }
        ],
    }
    page = job_report_html(summary, schedules, plan)
    assert "<b>FALLBACK</b> · exit code 2" in page
    assert html.escape(summary["failure"]) in page and "not-a-time" in page
    assert "2,149.5" in page and "00:00-00:45, 13:30-23:45" in page
    assert "load file &lt;missing&gt;" in page
    assert "3 / 4" in page  # sites with a schedule
    assert "The fallback makes no demand-response offer." in page
    assert any("safe fallback schedule" in svg for svg in images(page))
    assert "net cost" not in page  # a fallback has no costs
    assert_self_contained(page)


def day_frame(battery: bool, tou: bool = False, steps: int = 96) -> pd.DataFrame:
    """A hand-made target-day schedule: three price levels, PV at noon, an EV fleet."""
    index = pd.date_range(f"{DATE} 00:00", periods=steps, freq="15min", tz=TZ)
    hour = index.hour.to_numpy()
    price = np.where(hour < 8, 0.3, np.where((hour >= 17) & (hour < 21), 1.2, 0.7))
    pv = np.clip(np.sin((hour - 6) / 12 * np.pi), 0, None) * 80.0
    frame = pd.DataFrame(
        {
            "load_kw": 100.0 + 20 * np.cos(hour / 24 * 2 * np.pi),
            "price_cny_per_kwh": price,
            "array_pv_kw": pv,
            "fleet_default_kw": 0.0,
            "fleet_charge_kw": np.where(hour < 6, 30.0, 0.0),
        },
        index=index,
    )
    if battery:
        frame["store_charge_kw"] = np.where(hour < 6, 40.0, 0.0)
        frame["store_discharge_kw"] = np.where((hour >= 17) & (hour < 21), 45.0, 0.0)
        frame["store_soc_kwh"] = (
            50.0 + np.cumsum(frame["store_charge_kw"] - frame["store_discharge_kw"]) / 4
        )
    if tou:
        frame["tou_period"] = np.where(
            hour < 8, "valley", np.where(hour >= 19, "critical_peak", "flat")
        )
    net = frame["load_kw"] + frame["fleet_charge_kw"] - frame["array_pv_kw"]
    if battery:
        net = net + frame["store_charge_kw"] - frame["store_discharge_kw"]
    frame["grid_import_kw"] = net.clip(lower=0)
    frame["grid_export_kw"] = (-net).clip(lower=0)
    return frame


def hand_made(tou: bool = False) -> tuple[dict, dict[str, pd.DataFrame], pd.DataFrame]:
    schedules = {"store-site": day_frame(True, tou), "no-battery": day_frame(False, tou)}
    plan = pd.DataFrame(
        {
            f"{n}_net_import_kw": f["grid_import_kw"] - f["grid_export_kw"]
            for n, f in schedules.items()
        }
    )
    plan["park_net_import_kw"] = plan.sum(axis=1)
    plan["park_load_kw"] = sum(f["load_kw"] for f in schedules.values())
    plan["shared_limit_kw"] = np.nan
    summary = {"date": DATE, "park": "tiny <park>", "status": "ok", "flags": []}
    return summary, schedules, plan


def test_site_without_battery_and_no_limit():
    summary, schedules, plan = hand_made()
    page = job_report_html(summary, schedules, plan)
    figures = images(page)
    assert len(figures) == 3  # the park and two sites
    (alone,) = [svg for svg in figures if "no-battery: the plan" in svg]
    assert "no battery at this site" in alone and "state of charge" not in alone
    (store,) = [svg for svg in figures if "store-site: the plan" in svg]
    assert "store state of charge" in store
    assert "no shared limit" in figures[0]
    assert "vpp control room: tiny &lt;park&gt; 2026-07-16" in page
    assert_self_contained(page)


def test_page_of_many_sites_is_compact():
    """Above PAGE_FIGURE_MAX_SITES sites the page has the park figure alone, not stacked by
    site, and a link to each site's schedule; at the limit, a figure per site."""
    from vpp.report.job_figures import PAGE_FIGURE_MAX_SITES

    n = PAGE_FIGURE_MAX_SITES + 1
    schedules = {f"site-{i:02d}": day_frame(i % 2 == 0) for i in range(n)}
    plan = pd.DataFrame(
        {
            f"{k}_net_import_kw": f["grid_import_kw"] - f["grid_export_kw"]
            for k, f in schedules.items()
        }
    )
    plan["park_net_import_kw"] = plan.sum(axis=1)
    plan["park_load_kw"] = sum(f["load_kw"] for f in schedules.values())
    plan["shared_limit_kw"] = 5000.0
    summary = {"date": DATE, "park": "big", "status": "ok", "flags": []}
    page = job_report_html(summary, schedules, plan)
    (park,) = images(page)
    assert "site-00" not in park and "shared feeder limit" in park
    for name in schedules:
        assert f"<a href='sites/{name}/schedule.csv'>{name}</a>" in page
    assert f"Compact page: {n} sites" in page
    assert_self_contained(page)
    del schedules["site-00"]
    figures = images(
        job_report_html(summary, schedules, plan.drop(columns="site-00_net_import_kw"))
    )
    assert len(figures) == n  # the park and each site
    assert "site-01" in figures[0]


def test_price_bands_from_tou_periods_or_price_levels():
    derived = price_bands(day_frame(True))
    assert derived.source == "price levels"
    assert set(derived.labels) == {"low", "mid", "high"}
    frame = day_frame(True)
    assert derived.labels[frame.index.hour == 18][0] == "high"
    assert derived.labels[frame.index.hour == 3][0] == "low"
    tou = price_bands(day_frame(True, tou=True))
    assert tou.source == "tou_period" and "critical_peak" in set(tou.labels)
    series = frame.assign(price_cny_per_kwh=np.linspace(0.2, 1.4, len(frame)))
    tertiles = price_bands(series)
    assert list(tertiles.labels[[0, 48, -1]]) == ["low", "mid", "high"]
    two = price_bands(frame.assign(price_cny_per_kwh=np.where(frame.index.hour < 12, 0.4, 0.9)))
    assert set(two.labels) == {"low", "high"}

    summary, schedules, plan = hand_made(tou=True)
    legends = "".join(images(job_report_html(summary, schedules, plan)))
    assert "time-of-use period (tariff)" in legends and "critical peak" in legends
    summary, schedules, plan = hand_made(tou=False)
    legends = "".join(images(job_report_html(summary, schedules, plan)))
    assert "price band (from the price levels)" in legends


def test_columns_are_found_by_suffix():
    frame = day_frame(True).assign(
        green_store_soc_kwh=1.0, green_store_charge_kw=0.0, green_store_discharge_kw=0.0
    )
    assert batteries(frame) == ["store"]
    assert batteries(day_frame(False)) == []
    np.testing.assert_allclose(flexible_kw(frame), frame["fleet_charge_kw"])


def test_missing_keys_and_empty_inputs():
    page = job_report_html({}, {}, None)
    assert "<h1>vpp control room: park</h1>" in page
    assert "No park plan" in page and "No flags" in page
    assert_self_contained(page)
    summary, schedules, plan = hand_made()
    page = job_report_html(
        {**summary, "revised_today": {"cost_cny": 12.5, "note": "a <b> note"}},
        schedules,
        plan,
        today={"store-site": schedules["store-site"].iloc[:0]},
        plan_today=plan.iloc[:0],
    )
    assert "a &lt;b&gt; note" in page and "12.5" in page


def test_page_is_fast(job):
    summary, schedules, plan = job["ok"]
    today = {n: rest_of_today(f) for n, f in schedules.items()}
    job_report_html(summary, schedules, plan, today, rest_of_today(plan))  # warm up
    start = time.perf_counter()
    job_report_html(summary, schedules, plan, today, rest_of_today(plan))
    assert time.perf_counter() - start < PAGE_BUDGET_S


@pytest.mark.parametrize("case", ["ok", "fallback"])
def test_page_renders_in_chromium(job, tmp_path, case):
    need_chromium()
    if case == "ok":
        page, summary = good_page(job)
    else:
        summary, schedules, plan = job["fallback"]
        page = job_report_html(summary, schedules, plan)
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    dom, probe, console = browse(path, tmp_path)
    assert f"<h1>vpp control room: xushuguan-park {DATE}</h1>" in dom
    assert probe["images"] == len(summary.get("sites") or summary["sites_scheduled"]) + 1
    assert probe["loaded"] == probe["images"], probe
    assert probe["errors"] == []
    assert console == []


def test_axis_ticks_are_round_and_labelled_exactly():
    ticks = nice_ticks(0.0, 1.076)
    assert ticks[0] == 0.0 and ticks[-1] >= 1.076
    assert [tick_label(v, 0.25) for v in ticks] == ["0.00", "0.25", "0.50", "0.75", "1.00", "1.25"]
    assert [tick_label(v, 1000.0) for v in nice_ticks(-1000.0, 3733.0)][:2] == ["−1,000", "0"]
    flat = nice_ticks(2.5, 2.5)
    assert flat[0] < 2.5 < flat[-1]
