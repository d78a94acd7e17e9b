"""No look-ahead: the daily job's load and PV forecasts issued at ``now`` read nothing
after ``now``.

The scenario's load series file holds the future too (it is the site's whole year); its
rows after ``now`` are shuffled or replaced by garbage and the forecast must not change.
The old job read the load history up to the target day's midnight: the same check
against that rule shows that it saw the future (so this test can fail).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import scenario_dict, write_scenario

import vpp
from vpp.jobs.inputs import PROFILE_WEEKS, load_forecast, pv_forecast
from vpp.jobs.telemetry import empty_telemetry, read_telemetry
from vpp.operation.load_forecast import profile_forecast

ROOT = Path(__file__).resolve().parent.parent
PARK = ROOT / "scenarios" / "park" / "xushuguan-park.yaml"
FORECASTS = ROOT / "forecasts"
TZ = "Asia/Shanghai"
#: A Wednesday afternoon; the target day (Thursday) is of the same day type.
NOW = pd.Timestamp("2026-07-15T15:00", tz=TZ)
START = "2026-06-01T00:00:00"
DAYS = 50
STEPS_PER_DAY = 96
#: Forecasts equal to this [kW].
SAME_KW = 1e-9


def load_series() -> np.ndarray:
    """A load with a daily shape, a weekly pattern and noise [kW]."""
    rng = np.random.default_rng(14)
    t = np.arange(DAYS * STEPS_PER_DAY)
    hour = (t % STEPS_PER_DAY) / 4.0
    weekday = (t // STEPS_PER_DAY) % 7
    shape = 300 + 200 * np.sin(np.pi * np.clip(hour - 6, 0, 12) / 12) * (weekday < 5)
    return shape + rng.normal(0, 20, len(t))


def scenario_with(folder: Path, load_kw: np.ndarray):
    data = scenario_dict(folder, load_kw.tolist(), series_step_min=15, start=START)
    return vpp.load_scenario(write_scenario(folder, data))


def future(load_kw: np.ndarray) -> np.ndarray:
    """Steps at or after ``now`` (a step labelled ``now`` is the step ``[now, now + 15 min)``)."""
    stamps = pd.date_range(pd.Timestamp(START, tz=TZ), periods=len(load_kw), freq="15min")
    return np.asarray(stamps >= NOW)


def window() -> pd.DatetimeIndex:
    return pd.date_range(NOW, periods=(24 + 9 + 24) * 4, freq="15min")


def variants(load_kw: np.ndarray) -> dict[str, np.ndarray]:
    after = future(load_kw)
    rng = np.random.default_rng(7)
    shuffled = load_kw.copy()
    shuffled[after] = rng.permutation(load_kw[after])
    garbage = load_kw.copy()
    garbage[after] = rng.uniform(0, 1e5, int(after.sum()))
    return {"shuffled": shuffled, "garbage": garbage}


@pytest.mark.parametrize("kind", ["shuffled", "garbage"])
def test_the_load_forecast_reads_no_scenario_value_after_now(tmp_path: Path, kind: str) -> None:
    base = load_series()
    other = variants(base)[kind]
    index = window()
    got = {}
    for name, values in (("base", base), (kind, other)):
        scenario = scenario_with(tmp_path / name, values)
        flags: list[str] = []
        got[name], source = load_forecast("case", scenario, index, NOW, empty_telemetry(NOW), flags)
        assert source["history"] == "scenario load" and source["history_to"] == NOW.isoformat()
        assert np.isfinite(got[name]).all() and (got[name] > 0).all()
    assert np.abs(got["base"] - got[kind]).max() <= SAME_KW


def test_the_old_rule_read_the_future_so_the_check_can_fail(tmp_path: Path) -> None:
    """The old job: the history up to the target day's midnight, issued at that midnight."""
    from vpp.portfolio.park import metered_history_kw

    base = load_series()
    target = pd.date_range(NOW.normalize() + pd.Timedelta(days=1), periods=96, freq="15min")
    got = []
    for name, values in (("base", base), ("shuffled", variants(base)["shuffled"])):
        scenario = scenario_with(tmp_path / name, values)
        history = metered_history_kw(scenario, target[0], 7 * PROFILE_WEEKS + 1, load_only=True)
        got.append(profile_forecast(history, target[0], target, weeks=PROFILE_WEEKS))
    assert np.abs(got[0] - got[1]).max() > 1.0  # it saw today's rows after now


def test_the_metered_load_reads_no_scenario_value(tmp_path: Path) -> None:
    """With 4 weeks of metered load before now the scenario's series is not read at all."""
    base = load_series()
    stamps = pd.date_range(pd.Timestamp(START, tz=TZ), periods=len(base), freq="15min")
    past = stamps < NOW
    tele = tmp_path / "telemetry"
    tele.mkdir()
    pd.DataFrame(
        {"timestamp": [t.isoformat() for t in stamps[past]], "load_kw": base[past]}
    ).to_csv(tele / "load-case.csv", index=False)
    telemetry = read_telemetry(tele, ["case"], NOW)
    index = window()
    got = []
    for name, values in (("base", base), ("garbage", variants(base)["garbage"])):
        scenario = scenario_with(tmp_path / name, values)
        values_kw, source = load_forecast("case", scenario, index, NOW, telemetry, [])
        assert source == {
            "method": f"{PROFILE_WEEKS}-week same-day-type profile",
            "history": "telemetry load-case.csv",
        }
        got.append(values_kw)
    assert np.abs(got[0] - got[1]).max() <= SAME_KW


def test_the_pv_forecast_uses_no_file_issued_after_now() -> None:
    """A forecast file issued after now (2026-07-16 14:00) changes nothing; the file part
    is the rolling runs' function (:func:`files_pv_forecast_kw`) on the steps it covers."""
    from vpp.assets.pv.forecast import files_pv_forecast_kw, weather_arrays
    from vpp.portfolio.park import load_park
    from vpp.solar.forecast_reader import read_forecast

    scenario = load_park(PARK).sites["electronics"]
    read = {d: read_forecast(FORECASTS / f"xushuguan-2026-07-{d}.csv") for d in (15, 16, 17)}
    assert read[17].issued_at > NOW >= read[16].issued_at
    index = window()
    tele = empty_telemetry(NOW)
    known, source = pv_forecast("electronics", scenario, index, NOW, [read[15], read[16]], tele, [])
    more, _ = pv_forecast(
        "electronics", scenario, index, NOW, [read[15], read[16], read[17]], tele, []
    )
    for name in known:
        assert np.abs(known[name] - more[name]).max() <= SAME_KW
    assert source["file"] == "xushuguan-2026-07-16.csv"
    arrays = weather_arrays(scenario.site)
    modelled = scenario.model_copy(update={"site": scenario.site.model_copy(update={"pv": arrays})})
    rolling = files_pv_forecast_kw(modelled, [read[15], read[16]], index, 0.25, now=NOW)
    for name in known:
        assert np.abs(known[name] - rolling[name]).max() <= SAME_KW
