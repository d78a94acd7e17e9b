"""Intraday re-plans (``vpp schedule --intraday``): committed offers and peak targets kept,
a break flagged with its reason.

A one-site hourly park (``tests/job_parks.py``), no demand charge (nothing but the
day-ahead plan's peak target holds the import down), worked out by hand:

- load 0 kW in the valley (00-08, 0.30 CNY/kWh), 100 kW in the flat (08-18, 0.70) and the
  shoulder (22-24, 0.32), 140 kW in the peak (18-22, 1.20);
- one 200 kWh battery, 50 kW both ways, charge efficiency 0.9, discharge 1.0.

Day-ahead for 2026-07-16: the battery fills in the valley (import <= 50 kW) and gives
its 200 kWh in the four peak hours at 50 kW (each kWh saves 1.20, refilled at
0.30 / 0.9 = 0.333); in the flat hours it idles (refilling a kWh there costs
0.70 / 0.9 = 0.778 > 0.70 saved), in the shoulder too (0.32 < 0.333 saved, 0.356 > 0.333
to charge). The day's largest import, the peak target, is the flat load: 100 kW.

Intraday at 16:00 with 180 kWh measured: without the target the battery would refill in
the flat hours (0.778 to save 1.20), importing up to 150 kW; under the 100 kW target it
cannot charge (the load is 100 kW), and 180 kWh is enough to hold the peak hours to
140 - 40 = 100 kW (4 x 40 = 160 kWh). With the battery empty at 16:00 the target
cannot be held (the peak needs 160 kWh, none can be charged): broken, flagged, re-planned.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from job_parks import (
    DATE,
    EVENING_BESS,
    EVENING_LOAD_KW,
    EVENING_PRICES,
    run_ok,
    write_park,
    write_site,
    write_soc,
)

import vpp.cli

TZ = "Asia/Shanghai"
DAY_AHEAD_NOW = "2026-07-15T15:00"
INTRADAY_NOW = f"{DATE}T16:00"
#: The LP's powers against the hand-worked ones [kW].
POWER_TOL_KW = 1e-6
TARGET_KW = 100.0
EVENT = {
    "name": "evening-0716",
    "kind": "peak_shaving",
    "start": f"{DATE}T19:00",
    "end": f"{DATE}T21:00",
    "requested_kw": 30.0,
    "notified_at": "2026-07-15T09:00",
}


def _park(tmp: Path, events=()) -> Path:
    folder = tmp / "park"
    folder.mkdir(parents=True, exist_ok=True)
    return write_park(
        folder,
        [write_site(folder, "plant", EVENING_LOAD_KW, EVENING_PRICES, bess=EVENING_BESS)],
        events=events,
    )


def _day_ahead(park: Path, out: Path, tmp: Path):
    tele = write_soc(tmp / "t0", "2026-07-15T15:00:00+08:00", 200.0)  # full: no charging today
    return run_ok(park, out, DAY_AHEAD_NOW, tele, intraday=False)


def _intraday(park: Path, out: Path, tmp: Path, soc_kwh: float):
    tele = write_soc(tmp / f"t{soc_kwh:g}", f"{DATE}T16:00:00+08:00", soc_kwh)
    return run_ok(park, out, INTRADAY_NOW, tele, intraday=True)


def _schedule(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "sites" / "plant" / "schedule.csv")


def test_the_day_ahead_target_is_the_flat_load(tmp_path):
    ahead = _day_ahead(_park(tmp_path), tmp_path / "out", tmp_path)
    assert ahead.summary["sites"]["plant"]["peak_import_kw"] == pytest.approx(
        TARGET_KW, abs=POWER_TOL_KW
    )
    day = _schedule(ahead.out_dir)
    peak = day["price_cny_per_kwh"] == 1.20
    assert (day.loc[peak, "bess_discharge_kw"] - 50.0).abs().max() <= POWER_TOL_KW


def test_intraday_keeps_the_peak_target(tmp_path):
    park, out = _park(tmp_path), tmp_path / "out"
    _day_ahead(park, out, tmp_path)
    outcome = _intraday(park, out, tmp_path, 180.0)
    assert outcome.out_dir == out / DATE / "intraday" / "1600"
    summary = outcome.summary
    assert summary["kind"] == "intraday"
    assert summary["sources"]["peak_targets_kw"] == {"plant": pytest.approx(TARGET_KW)}
    assert not any("broken" in f for f in summary["flags"])
    rest = _schedule(outcome.out_dir)
    assert rest["timestamp"].iloc[0].startswith(f"{DATE}T16:00")
    assert rest["grid_import_kw"].max() <= TARGET_KW + POWER_TOL_KW
    assert (rest["bess_charge_kw"] <= POWER_TOL_KW).all()
    # the control: with no day-ahead schedule there is no target, and the battery refills
    # in the flat hours above it (so the cap above is what held the import)
    free = _intraday(park, tmp_path / "free", tmp_path, 180.0)
    assert any("no peak target to keep" in f for f in free.summary["flags"])
    assert _schedule(free.out_dir)["grid_import_kw"].max() > TARGET_KW + 10.0


def test_a_target_that_cannot_be_held_is_broken_with_its_reason(tmp_path):
    park, out = _park(tmp_path), tmp_path / "out"
    _day_ahead(park, out, tmp_path)
    outcome = _intraday(park, out, tmp_path, 0.0)  # empty at 16:00, 140 kW to come
    assert outcome.exit_code == 0
    (flag,) = [f for f in outcome.summary["flags"] if "broken" in f]
    assert "peak target(s) plant 100 kW broken" in flag
    assert "cannot be planned under them" in flag
    rest = _schedule(outcome.out_dir)
    assert rest["grid_import_kw"].max() > TARGET_KW + 1.0


def _offer(outcome) -> float:
    (event,) = outcome.summary["demand_response"]
    assert event["name"] == EVENT["name"]
    return event["offered_kw"]


def test_intraday_keeps_the_committed_offer(tmp_path):
    park, out = _park(tmp_path, events=[EVENT]), tmp_path / "out"
    ahead = _day_ahead(park, out, tmp_path)
    assert ahead.summary["offers_kw"] == {EVENT["name"]: pytest.approx(EVENT["requested_kw"])}
    outcome = _intraday(park, out, tmp_path, 180.0)
    assert outcome.summary["offers_kw"] == ahead.summary["offers_kw"]
    assert outcome.summary["planned_offers_kw"] == ahead.summary["offers_kw"]  # held, not only said
    assert _offer(outcome) == pytest.approx(EVENT["requested_kw"])
    assert not any("broken" in f for f in outcome.summary["flags"])


def test_the_committed_offer_not_a_fresh_one_is_planned(tmp_path):
    """A day-ahead commitment of 20 kW (the park decided it under other forecasts) stays
    20 kW intraday, although a fresh decision offers all 30 kW requested."""
    park, out = _park(tmp_path, events=[EVENT]), tmp_path / "out"
    _day_ahead(park, out, tmp_path)
    path = out / DATE / "summary.json"
    summary = json.loads(path.read_text())
    summary["offers_kw"] = {EVENT["name"]: 20.0}
    path.write_text(json.dumps(summary))
    kept = _intraday(park, out, tmp_path, 180.0)
    assert kept.summary["offers_kw"] == {EVENT["name"]: 20.0}
    assert kept.summary["planned_offers_kw"] == {EVENT["name"]: pytest.approx(20.0)}
    assert _offer(kept) == pytest.approx(20.0)
    fresh = _intraday(park, tmp_path / "fresh", tmp_path, 180.0)
    assert _offer(fresh) == pytest.approx(EVENT["requested_kw"])


def test_intraday_on_another_day_is_refused(tmp_path, capsys):
    code = vpp.cli.main(
        [
            "schedule",
            str(_park(tmp_path)),
            "--date",
            DATE,
            "--intraday",
            "--now",
            "2026-07-15T16:00",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "--now" in err
    assert not (tmp_path / "out" / DATE).exists()


def test_a_peak_planned_after_now_is_not_taken_as_the_month_so_far(tmp_path):
    """Without a grid meter the month-to-date peak comes from the previous run's plan: only
    its imports before this ``now`` count. The day-ahead window reaches 2026-07-17 15:00 and
    plans a 150 kW charge in a price dip at 09:00 that day; the intraday run at 16:00 of
    the 16th must not take that future import as a peak already paid for (it would lift
    its cap from the 100 kW target to 150 kW)."""
    folder = tmp_path / "park"
    folder.mkdir()
    stamps = pd.date_range("2026-06-01", "2026-08-01", freq="1h", inclusive="left", tz=TZ)
    by_hour = [0.30] * 8 + [0.70] * 10 + [1.20] * 4 + [0.32] * 2
    price = [by_hour[t.hour] for t in stamps]
    dip = stamps.get_loc(pd.Timestamp("2026-07-17T09:00", tz=TZ))
    price[dip] = 0.10
    pd.DataFrame({"timestamp": [t.isoformat() for t in stamps], "price": price}).to_csv(
        folder / "price.csv", index=False
    )
    series = {"series": {"file": "price.csv", "column": "price"}}
    park = write_park(
        folder, [write_site(folder, "plant", EVENING_LOAD_KW, series, bess=EVENING_BESS)]
    )
    out = tmp_path / "out"
    ahead = _day_ahead(park, out, tmp_path)
    state = json.loads((ahead.out_dir / "state.json").read_text())
    assert state["sites"]["plant"]["mtd_peak_kw"]["month"] == "2026-07"
    outcome = _intraday(park, out, tmp_path, 180.0)
    peak = outcome.summary["sources"]["mtd_peak"]["plant"]
    assert "previous run's plan" in peak["source"]
    assert peak["value_kw"] <= TARGET_KW + POWER_TOL_KW
    assert outcome.summary["sources"]["peak_targets_kw"] == {"plant": pytest.approx(TARGET_KW)}
    assert _schedule(outcome.out_dir)["grid_import_kw"].max() <= TARGET_KW + POWER_TOL_KW
