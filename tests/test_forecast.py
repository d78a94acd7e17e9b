"""PV forecasting: forecast files and their issue time, PV per array and site, baselines,
metrics, the shipped samples and ``vpp forecast``.

Known answers: persistence and clear-sky-index persistence on hand-made series, and
MAE/RMSE/skill on a four-sample example, are exact up to float rounding (FLOAT_TOL).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import vpp
import vpp.cli
from vpp.errors import EXIT_BAD_INPUT, DataError, ScenarioError
from vpp.solar import forecast as fc
from vpp.solar import forecast_evaluation as ev
from vpp.solar import forecast_reader as fr
from vpp.solar import forecast_skill as sk

ROOT = Path(__file__).resolve().parent.parent
FORECASTS = ROOT / "forecasts"
NEXT_DAY = ROOT / "scenarios" / "xushuguan-factory-next-day.yaml"
DEMO = ROOT / "scenarios" / "xushuguan-factory.yaml"
MEASURED_JULY = FORECASTS / "measured" / "measured-pv-2026-07.csv"
TZ = "Asia/Shanghai"
#: Hand-computed numbers against the code: only float rounding differs [-] / [kW].
FLOAT_TOL = 1e-12
#: Site column against the sum of the array columns [kW].
SUM_TOL_KW = 1e-9
#: Regenerated sample against the shipped file: the files hold one decimal [unit of column].
SAMPLE_TOL = 0.05 + 1e-9


@pytest.fixture(scope="module")
def scenario() -> vpp.scenario.Scenario:
    return vpp.load_scenario(NEXT_DAY)


def write_forecast(
    path: Path, issued: str | None, index: pd.DatetimeIndex, **columns: float | np.ndarray
) -> Path:
    """A forecast file: the header line (if ``issued``), then timestamp and ``columns``."""
    frame = pd.DataFrame({"timestamp": [t.isoformat() for t in index]})
    for name, values in columns.items():
        frame[name] = np.broadcast_to(np.asarray(values, dtype=float), (len(index),))
    with path.open("w", encoding="utf-8") as handle:
        if issued is not None:
            handle.write(f"# issued_at: {issued}\n# source: test\n")
        frame.to_csv(handle, index=False)
    return path


def day_index(day: str = "2026-07-15", hours: int = 48, freq: str = "1h") -> pd.DatetimeIndex:
    n = hours * (4 if freq == "15min" else 1)
    return pd.date_range(pd.Timestamp(day, tz=TZ), periods=n, freq=freq)


CLOUDY = {"cloud_cover": 40.0, "temp_air": 28.0, "wind_speed": 2.0}


# ------------------------------------------------------------------ reading forecast files


def test_reader_cloud_cover_hourly(tmp_path: Path) -> None:
    path = write_forecast(tmp_path / "f.csv", "2026-07-14T14:00:00+08:00", day_index(), **CLOUDY)
    f = fc.read_forecast(path)
    assert f.issued_at == pd.Timestamp("2026-07-14T14:00:00+08:00")
    assert f.issued_line == 1 and f.header["source"] == "test"
    assert f.start == pd.Timestamp("2026-07-15T00:00:00+08:00")
    assert f.end == pd.Timestamp("2026-07-17T00:00:00+08:00")
    assert f.step == pd.Timedelta(hours=1)
    data = f.weather.data
    assert list(data.columns) == ["ghi", "dni", "dhi", "temp_air", "wind_speed"]
    noon = data.index.tz_convert(TZ).hour == 12
    assert (data.loc[noon, "ghi"] > 300).all() and (data["ghi"] >= 0).all()


def test_reader_irradiance_15min(tmp_path: Path) -> None:
    index = day_index("2026-01-14", 24, "15min")
    hour = index.hour + index.minute / 60
    ghi = np.clip(500.0 * np.sin(np.pi * (hour - 7) / 10), 0.0, None)
    path = write_forecast(
        tmp_path / "f.csv",
        "2026-01-13T14:00:00+08:00",
        index,
        ghi=ghi,
        temp_air=5.0,
        wind_speed=3.0,
    )
    f = fc.read_forecast(path)
    assert f.step == pd.Timedelta(minutes=15)
    np.testing.assert_allclose(f.weather.data["ghi"].to_numpy(), ghi, atol=1e-9)


def test_issued_after_period_start_is_refused(tmp_path: Path) -> None:
    path = write_forecast(tmp_path / "late.csv", "2026-07-15T06:00:00+08:00", day_index(), **CLOUDY)
    with pytest.raises(DataError) as info:
        fc.read_forecast(path)
    (problem,) = info.value.problems
    assert problem.file == str(path)
    assert problem.key == "issued_at (line 1)"
    assert problem.timestamp == "2026-07-15T06:00:00+08:00"
    assert "after the start of the period" in problem.message
    assert "2026-07-15T00:00:00+08:00" in str(info.value)


def test_issued_exactly_at_start_is_accepted(tmp_path: Path) -> None:
    path = write_forecast(tmp_path / "f.csv", "2026-07-15T00:00:00+08:00", day_index(), **CLOUDY)
    assert fc.read_forecast(path).issued_at == pd.Timestamp("2026-07-15T00:00:00+08:00")


def test_now_refuses_stale_and_future_forecasts(tmp_path: Path) -> None:
    path = write_forecast(tmp_path / "f.csv", "2026-07-14T14:00:00+08:00", day_index(), **CLOUDY)
    with pytest.raises(DataError, match="stale forecast: its whole period lies before --now"):
        fc.read_forecast(path, now=pd.Timestamp("2026-07-17T00:00:00+08:00"))
    with pytest.raises(DataError, match="issued after --now") as info:
        fc.read_forecast(path, now=pd.Timestamp("2026-07-14T13:59:00+08:00"))
    assert info.value.problems[0].timestamp == "2026-07-14T14:00:00+08:00"
    # partly past is fine (an intraday re-run)
    fc.read_forecast(path, now=pd.Timestamp("2026-07-16T12:00:00+08:00"))


@pytest.mark.parametrize(
    ("issued", "match"),
    [
        (None, "has no issue time"),
        ("2026-07-14 14:00", "has no UTC offset"),
        ("tomorrow", "is not a time"),
    ],
)
def test_issue_time_must_be_there_and_aware(tmp_path: Path, issued: str | None, match: str) -> None:
    path = write_forecast(tmp_path / "f.csv", issued, day_index(), **CLOUDY)
    with pytest.raises(DataError, match=match) as info:
        fc.read_forecast(path)
    assert info.value.problems[0].file == str(path)
    assert info.value.problems[0].key.startswith("issued_at")


def test_bad_value_names_the_line_of_the_original_file(tmp_path: Path) -> None:
    path = write_forecast(tmp_path / "f.csv", "2026-07-14T14:00:00+08:00", day_index(), **CLOUDY)
    lines = path.read_text().splitlines()
    lines[4] = lines[4].replace(",40.0,", ",cloudy,")  # line 5: the second data row
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        fc.read_forecast(path, where="--weather")
    (problem,) = info.value.problems
    assert problem.file == str(path)
    assert problem.key == "--weather column 'cloud_cover'"
    assert "line 5" in (problem.timestamp or "")


# ------------------------------------------------------------------ PV forecast


def test_pv_forecast_per_array_sums_to_site(tmp_path: Path, scenario) -> None:
    path = write_forecast(tmp_path / "f.csv", "2026-07-14T14:00:00+08:00", day_index(), **CLOUDY)
    frame = fc.pv_forecast_kw(scenario, fc.read_forecast(path))
    assert list(frame.columns) == ["roof_pv_kw", "carport_pv_kw", "site_pv_kw", "lead_h"]
    assert len(frame) == 48 * 4 and frame.index.freq == pd.Timedelta(minutes=15)
    assert str(frame.index.tz) == TZ
    gap = frame["site_pv_kw"] - frame["roof_pv_kw"] - frame["carport_pv_kw"]
    assert gap.abs().max() <= SUM_TOL_KW
    assert frame["lead_h"].iloc[0] == 10.0 and frame["lead_h"].iloc[-1] == 57.75
    roof = scenario.site.pv[0]
    assert 0.0 <= frame["roof_pv_kw"].min() and frame["roof_pv_kw"].max() <= roof.ac_kw
    assert frame["site_pv_kw"].max() > 0.3 * roof.dc_capacity_kw


def test_scenario_without_modelled_arrays_is_refused(tmp_path: Path) -> None:
    demo = yaml.safe_load(NEXT_DAY.read_text())
    demo["site"]["pv"] = [{"kind": "clearsky", "name": "roof", "dc_capacity_kw": 100}]
    scenario = vpp.scenario.validate_scenario(demo, base_dir=NEXT_DAY.parent)
    with pytest.raises(ScenarioError, match="no weather-driven PV array"):
        fc.modelled_arrays(scenario)


# ------------------------------------------------------------------ baselines and metrics


def hourly(values: np.ndarray, start: str = "2026-07-12") -> pd.Series:
    index = pd.date_range(pd.Timestamp(start, tz=TZ), periods=len(values), freq="1h")
    return pd.Series(np.asarray(values, dtype=float), index=index)


def test_persistence_takes_the_latest_day_measured_at_issue_time() -> None:
    measured = hourly(np.arange(6 * 24))  # value = hours since 2026-07-12 00:00
    issued = pd.Timestamp("2026-07-14T14:00:00+08:00")
    index = pd.date_range(pd.Timestamp("2026-07-15", tz=TZ), periods=48, freq="1h")
    got = sk.persistence_kw(measured, index, issued)
    hours = np.arange(48) + 72  # the forecast steps, in hours since 2026-07-12
    # issued 07-14 14:00, so 07-14 13:00 is the last complete hour: 07-15 00..13 h take
    # 07-14 (k = 1), 07-15 14..23 h and 07-16 00..13 h take k = 2, 07-16 14..23 h k = 3
    k = np.where(np.arange(48) % 24 < 14, 1, 2) + np.arange(48) // 24
    np.testing.assert_array_equal(got, hours - 24 * k)
    assert got[0] == 48 and got[13] == 61 and got[14] == 38 and got[38] == 38 and got[37] == 61


def test_persistence_is_nan_where_the_measurement_is_missing() -> None:
    values = np.arange(6 * 24, dtype=float)
    values[48 + 10] = np.nan  # 07-14 10:00
    got = sk.persistence_kw(
        hourly(values),
        pd.date_range(pd.Timestamp("2026-07-15", tz=TZ), periods=24, freq="1h"),
        pd.Timestamp("2026-07-14T14:00:00+08:00"),
    )
    assert np.isnan(got[10]) and np.isfinite(np.delete(got, 10)).all()


def test_clearsky_index_persistence_scales_clear_sky_by_the_last_24_h() -> None:
    n = 6 * 24
    hours = np.arange(n) % 24
    clear = hourly(np.clip(np.sin(np.pi * (hours - 6) / 12), 0.0, None) * 1000.0)
    measured = 0.5 * clear.copy()
    issued = pd.Timestamp("2026-07-14T14:00:00+08:00")
    index = pd.date_range(pd.Timestamp("2026-07-15", tz=TZ), periods=48, freq="1h")
    got = sk.clearsky_index_persistence_kw(measured, clear, index, issued)
    np.testing.assert_allclose(got, 0.5 * clear.reindex(index).to_numpy(), atol=FLOAT_TOL)
    # the window is [issued - 24 h, issued): 07-13 14:00 .. 07-14 13:00; change one hour in it
    # and one just outside: only the first moves the index
    m2 = measured.copy()
    m2[pd.Timestamp("2026-07-14T12:00", tz=TZ)] += 100.0
    m2[pd.Timestamp("2026-07-14T14:00", tz=TZ)] += 1000.0
    window = clear[
        pd.Timestamp("2026-07-13T14:00", tz=TZ) : pd.Timestamp("2026-07-14T13:00", tz=TZ)
    ]
    k = (0.5 * window.sum() + 100.0) / window.sum()
    got2 = sk.clearsky_index_persistence_kw(m2, clear, index, issued)
    np.testing.assert_allclose(got2, k * clear.reindex(index).to_numpy(), rtol=FLOAT_TOL)


def test_error_metrics_on_a_hand_example() -> None:
    forecast = np.array([1.0, 2.0, 3.0, 4.0])
    measured = np.array([0.0, 2.0, 5.0, 4.0])  # errors 1, 0, -2, 0
    m = sk.error_metrics(forecast, measured, capacity_kw=10.0)
    assert m["n"] == 4
    assert m["mae_kw"] == pytest.approx(0.75, abs=FLOAT_TOL)
    assert m["rmse_kw"] == pytest.approx(math.sqrt(5.0 / 4.0), abs=FLOAT_TOL)
    assert m["bias_kw"] == pytest.approx(-0.25, abs=FLOAT_TOL)
    assert m["nrmse_fraction"] == pytest.approx(math.sqrt(1.25) / 10.0, abs=FLOAT_TOL)
    # persistence errors 2, 2, 0, 0: RMSE sqrt(2)
    assert sk.skill(m["rmse_kw"], math.sqrt(2.0)) == pytest.approx(
        1.0 - math.sqrt(1.25 / 2.0), abs=FLOAT_TOL
    )
    assert math.isnan(sk.skill(0.0, 0.0))


def test_metrics_table_groups_by_lead_hour() -> None:
    samples = pd.DataFrame(
        {
            "series": "site_pv_kw",
            "lead_h": [10, 10, 11, 11],
            "measured_kw": [0.0, 2.0, 5.0, 4.0],
            "forecast_kw": [1.0, 2.0, 3.0, 4.0],
            "persistence_kw": [2.0, 4.0, 5.0, 4.0],
            "csi_persistence_kw": [0.0, 2.0, 5.0, 5.0],
        }
    )
    table = sk.metrics_table(samples, {"site_pv_kw": 10.0}).set_index("lead_h", drop=False)
    lead10, lead11 = table.loc[10], table.loc[11]
    assert lead10["mae_kw"] == pytest.approx(0.5) and lead10["rmse_kw"] == pytest.approx(
        math.sqrt(0.5)
    )
    assert lead10["persistence_rmse_kw"] == pytest.approx(2.0)
    assert lead10["skill_fraction"] == pytest.approx(1.0 - math.sqrt(0.5) / 2.0)
    assert math.isnan(lead11["skill_fraction"])  # persistence exact at lead 11
    overall = table[table["lead_h"].isna()].iloc[0]
    assert overall["n"] == 4 and overall["rmse_kw"] == pytest.approx(math.sqrt(1.25))
    assert overall["skill_fraction"] == pytest.approx(1.0 - math.sqrt(1.25 / 2.0))


def test_to_step_averages_and_keeps_gaps_missing() -> None:
    index = pd.date_range(pd.Timestamp("2026-07-15", tz=TZ), periods=12, freq="15min")
    frame = pd.DataFrame({"x": np.arange(12.0)}, index=index)
    frame.iloc[5, 0] = np.nan
    out = sk.to_step(frame, pd.Timedelta(hours=1))
    np.testing.assert_array_equal(out["x"].to_numpy(), [1.5, np.nan, 9.5])
    assert out.index.freq == pd.Timedelta(hours=1)


# ------------------------------------------------------------------ measured PV file


def test_measured_file_errors_name_file_column_and_line(tmp_path: Path) -> None:
    index = day_index(hours=4)
    path = tmp_path / "m.csv"
    pd.DataFrame({"timestamp": [t.isoformat() for t in index], "site_pv_kw": [0, 1, -3, 2]}).to_csv(
        path, index=False
    )
    with pytest.raises(DataError) as info:
        ev.read_measured_pv(path, ["roof_pv_kw", "site_pv_kw"])
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.key == "column 'site_pv_kw'"
    assert problem.timestamp == "2026-07-15T02:00:00+08:00 (line 4)"
    naive = tmp_path / "naive.csv"
    pd.DataFrame(
        {"timestamp": ["2026-07-15 00:00", "2026-07-15 01:00"], "site_pv_kw": [0, 1]}
    ).to_csv(naive, index=False)
    with pytest.raises(DataError, match="UTC offset"):
        ev.read_measured_pv(naive, ["site_pv_kw"])


def test_measured_gaps_are_missing_and_site_is_derived(tmp_path: Path) -> None:
    index = day_index(hours=4).delete(2)
    path = tmp_path / "m.csv"
    pd.DataFrame(
        {
            "timestamp": [t.isoformat() for t in index],
            "roof_pv_kw": [1, 2, 4],
            "carport_pv_kw": [0.5, "", 1],
        }
    ).to_csv(path, index=False)
    got = ev.read_measured_pv(path, ["roof_pv_kw", "carport_pv_kw", "site_pv_kw"])
    assert len(got) == 4 and got.index.freq == pd.Timedelta(hours=1)
    np.testing.assert_array_equal(got["site_pv_kw"].to_numpy(), [1.5, np.nan, np.nan, 5.0])


# ------------------------------------------------------------------ shipped samples


def test_samples_ship_and_read(scenario) -> None:
    files = fr.forecast_files(FORECASTS)
    assert len(files) >= 6
    styles = set()
    for path in files:
        f = fc.read_forecast(path, location=scenario.site.location)
        assert f.issued_at < f.start
        assert f.issued_at.hour == 14 and (f.start - f.issued_at) == pd.Timedelta(hours=10)
        styles.add("cloud_cover" if "cloud_cover" in path.read_text()[:400] else "ghi")
    assert styles == {"cloud_cover", "ghi"}


def test_sample_skill_against_persistence(scenario) -> None:
    evaluation = ev.evaluate_forecasts(scenario, fr.forecast_files(FORECASTS), MEASURED_JULY)
    assert len(evaluation.files) == 4  # the July samples; January is outside the measurements
    assert any("skipped" in n for n in evaluation.notes)
    table = evaluation.table
    overall = table[table["lead_h"].isna()].set_index("series")
    assert set(overall.index) == {"roof_pv_kw", "carport_pv_kw", "site_pv_kw"}
    site = overall.loc["site_pv_kw"]
    assert math.isfinite(site["skill_fraction"])
    assert site["skill_fraction"] == pytest.approx(
        1.0 - site["rmse_kw"] / site["persistence_rmse_kw"], abs=FLOAT_TOL
    )
    per_lead = table[(table["series"] == "site_pv_kw") & table["lead_h"].notna()]
    assert per_lead["lead_h"].min() == 10 and per_lead["lead_h"].max() == 57
    assert (per_lead["n"] == 4 * len(evaluation.files)).all()  # 15-min steps, 4 per hour
    # the samples are forecasts, not noise: better than persistence over all leads
    assert site["skill_fraction"] > 0.0
    assert site["nrmse_fraction"] == pytest.approx(site["rmse_kw"] / 2400.0, abs=FLOAT_TOL)


def test_measured_sample_is_the_arrays_under_the_typical_year(scenario) -> None:
    from vpp.solar.forecast_samples import measured_frame

    shipped = pd.read_csv(MEASURED_JULY, index_col=0)
    assert list(shipped.columns) == ["roof_pv_kw", "carport_pv_kw", "site_pv_kw"]
    made = measured_frame(scenario, "2026-07")
    assert [t.isoformat() for t in made.index] == list(shipped.index)
    np.testing.assert_allclose(made.to_numpy(), shipped.to_numpy(), atol=0.005 + 1e-9)


@pytest.mark.parametrize("day", ["2026-07-15", "2026-01-14"])
def test_samples_are_reproducible(tmp_path: Path, scenario, day: str) -> None:
    from vpp.solar.forecast_samples import SAMPLES, make_samples

    sample = next(s for s in SAMPLES if s.day == day)
    (made,) = make_samples(tmp_path, scenario, [sample], months=())
    shipped = FORECASTS / sample.filename
    assert made.read_text().splitlines()[:4] == shipped.read_text().splitlines()[:4]
    a = pd.read_csv(made, comment="#", index_col=0)
    b = pd.read_csv(shipped, comment="#", index_col=0)
    assert list(a.index) == list(b.index) and list(a.columns) == list(b.columns)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), atol=SAMPLE_TOL)


def test_next_day_scenario_matches_the_demo_site() -> None:
    demo = yaml.safe_load(DEMO.read_text())
    nxt = yaml.safe_load(NEXT_DAY.read_text())
    assert nxt["horizon"] == {
        "start": pd.Timestamp("2026-07-15").date(),
        "days": 1,
        "step": "15min",
    }
    weather = nxt["site"]["weather"]
    assert (NEXT_DAY.parent / weather["file"]).is_file()
    # The physical site must match; the annual commercial and carbon terms (contract
    # volumes, renewable target, activity data over the horizon) belong to the yearly
    # study, not to a one-day operational run.
    yearly = ("green_contracts", "renewable_target", "emissions", "carbon_price")
    for key in set(demo["site"]) | set(nxt["site"]):
        if key in ("weather", "location", "pv", *yearly):
            continue
        assert nxt["site"].get(key) == demo["site"].get(key), f"site.{key} differs from the demo"
    if all(a["kind"] in ("rooftop", "carport") for a in demo["site"]["pv"]):
        assert nxt["site"]["pv"] == demo["site"]["pv"], "site.pv differs from the demo"


# ------------------------------------------------------------------ command line


def cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = vpp.cli.main(["forecast", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_forecast_on_a_sample(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code, text, err = cli(
        capsys,
        str(NEXT_DAY),
        "--weather",
        str(FORECASTS / "xushuguan-2026-07-15.csv"),
        "--out",
        str(out),
    )
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        ".vpp-manifest.json",
        "pv_forecast.csv",
        "pv_forecast.parquet",
        "pv_forecast.png",
    ]
    frame = pd.read_parquet(out / "pv_forecast.parquet")
    assert len(frame) == 192 and "site_pv_kw" in frame
    csv = pd.read_csv(out / "pv_forecast.csv")
    assert csv.columns[0] == "timestamp" and csv["timestamp"].iloc[0] == "2026-07-15T00:00:00+08:00"
    assert "issued 2026-07-14T14:00:00+08:00" in text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_cli_forecast_defaults_to_the_scenario_weather_file(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, str(NEXT_DAY))
    assert code == 0, err
    assert (
        tmp_path / "runs" / "xushuguan-factory-next-day" / "forecast-2026-07-15" / "pv_forecast.csv"
    ).is_file()


def test_cli_evaluate_the_samples(tmp_path: Path, capsys) -> None:
    out = tmp_path / "eval"
    code, text, err = cli(
        capsys,
        str(NEXT_DAY),
        "--evaluate",
        str(MEASURED_JULY),
        "--forecasts",
        str(FORECASTS),
        "--out",
        str(out),
    )
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        ".vpp-manifest.json",
        "evaluation.csv",
        "evaluation.png",
    ]
    table = pd.read_csv(out / "evaluation.csv")
    assert {"series", "lead_h", "mae_kw", "rmse_kw", "nrmse_fraction", "skill_fraction"} <= set(
        table.columns
    )
    assert "skill" in text and "all" in text


def test_cli_stale_forecast_exits_2_and_writes_nothing(tmp_path: Path, capsys) -> None:
    sample = (FORECASTS / "xushuguan-2026-07-15.csv").read_text().splitlines()
    sample[0] = "# issued_at: 2026-07-15T08:00:00+08:00"
    bad = tmp_path / "late.csv"
    bad.write_text("\n".join(sample) + "\n")
    out = tmp_path / "out"
    code, _, err = cli(capsys, str(NEXT_DAY), "--weather", str(bad), "--out", str(out))
    assert code == EXIT_BAD_INPUT
    assert str(bad) in err and "issued_at (line 1)" in err and "2026-07-15T08:00:00+08:00" in err
    assert not out.exists()
    code, _, err = cli(
        capsys,
        str(NEXT_DAY),
        "--weather",
        str(FORECASTS / sample_name()),
        "--now",
        "2026-07-20T00:00",
        "--out",
        str(out),
    )
    assert code == EXIT_BAD_INPUT and "stale forecast" in err and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late.csv"]


def sample_name() -> str:
    return "xushuguan-2026-07-15.csv"


def test_cli_evaluate_with_a_bad_file_exits_2_and_keeps_old_output(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "forecasts"
    folder.mkdir()
    for name in ("xushuguan-2026-07-15.csv", "xushuguan-2026-07-16.csv"):
        (folder / name).write_text((FORECASTS / name).read_text())
    text = (
        (folder / "xushuguan-2026-07-16.csv")
        .read_text()
        .replace("# issued_at: 2026-07-15T14:00:00+08:00", "# issued_at: 2026-07-16T14:00:00+08:00")
    )
    (folder / "xushuguan-2026-07-16.csv").write_text(text)
    out = tmp_path / "eval"
    out.mkdir()
    (out / "evaluation.csv").write_text("old\n")
    code, _, err = cli(
        capsys,
        str(NEXT_DAY),
        "--evaluate",
        str(MEASURED_JULY),
        "--forecasts",
        str(folder),
        "--out",
        str(out),
    )
    assert code == EXIT_BAD_INPUT
    assert "xushuguan-2026-07-16.csv" in err and "issued_at (line 1)" in err
    assert sorted(p.name for p in out.iterdir()) == ["evaluation.csv"]
    assert (out / "evaluation.csv").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eval", "forecasts"]
