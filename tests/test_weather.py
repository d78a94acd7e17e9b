"""Weather files: pvlib's readers and vpp's labels, CSV labels, cloud cover, re-mapping, bad input.

Sample files: pvlib's bundled TMY3 files (``pvlib/data``) and small files in
``tests/data/weather`` (two days of vpp's synthetic Suzhou year written as EPW, NSRDB PSM3 and
PVGIS TMY JSON, and a cloud-cover forecast CSV). Everything else is written to ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from vpp.errors import EXIT_BAD_INPUT, DataError
from vpp.solar.weather import (
    CLOUD_OFFSET_FRACTION,
    TYPICAL_REFERENCE_YEAR,
    WEATHER_COLUMNS,
    Weather,
    cloud_cover_to_irradiance,
    read_weather,
    weather_on_index,
)

DATA = Path(__file__).parent / "data" / "weather"
PVLIB_DATA = Path(pvlib.__file__).parent / "data"
TMY3 = PVLIB_DATA / "723170TYA.CSV"
SUZHOU = {"latitude_deg": 31.38, "longitude_deg": 120.48, "altitude_m": 5.0}
TZ = "Asia/Shanghai"
pytestmark = pytest.mark.filterwarnings("ignore:.*dayofyear is deprecated")
HOUR = pd.Timedelta(hours=1)
#: Irradiance compared after float formatting [W/m^2].
IRR_ATOL = 1e-9


def _problem(err: pytest.ExceptionInfo[DataError], *words: str) -> str:
    """The text of the first problem that contains every word (fails if none does)."""
    texts = [str(p) for p in err.value.problems]
    hits = [t for t in texts if all(w in t for w in words)]
    assert hits, f"no problem names {words}: {texts}"
    return hits[0]


def _write_csv(
    path: Path, rows: list[str], header: str = "timestamp,ghi,dni,dhi,temp_air,wind_speed"
) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _night_rows(start: str, n: int, *, end: bool = False, tz: str = "") -> list[str]:
    """n hourly rows of a Suzhou winter night: ghi = dni = dhi = 0, temp 1, 2, 3, ... degC."""
    t0 = pd.Timestamp(start) + (HOUR if end else pd.Timedelta(0))
    return [f"{(t0 + i * HOUR).isoformat()}{tz},0,0,0,{i + 1},{0.5 * (i + 1)}" for i in range(n)]


# ---- files of each format, against pvlib's own readers ------------------------------------


def test_tmy3_starts_one_hour_before_pvlib_end_labels():
    w = read_weather(TMY3, "tmy3")
    # coerce_year: on a non-leap year (pvlib moves 24:00 of Feb 28 of a leap year to Mar 1)
    raw, meta = pvlib.iotools.read_tmy3(TMY3, TYPICAL_REFERENCE_YEAR, map_variables=True)
    assert w.typical_year and w.source.startswith("TMY3 file")
    assert list(w.data.columns) == list(WEATHER_COLUMNS)
    assert len(w.data) == 8760 and w.data.index.freq == HOUR
    assert w.data.index.tz.utcoffset(None) == pd.Timedelta(hours=meta["TZ"])
    assert w.data.index[0] == pd.Timestamp(f"{TYPICAL_REFERENCE_YEAR}-01-01 00:00-05:00")
    # pvlib labels each hour by its end; vpp by its start: pvlib's index minus one hour
    shifted = raw.index - HOUR
    np.testing.assert_array_equal(w.data.index.month, shifted.month)
    np.testing.assert_array_equal(w.data.index.day, shifted.day)
    np.testing.assert_array_equal(w.data.index.hour, shifted.hour)
    for col in WEATHER_COLUMNS:
        np.testing.assert_allclose(w.data[col], raw[col].astype(float), atol=IRR_ATOL)
    noon = w.data.index.get_loc(pd.Timestamp(f"{TYPICAL_REFERENCE_YEAR}-01-01 11:00-05:00"))
    assert w.data["ghi"].iloc[noon] == raw["ghi"].loc[f"{TYPICAL_REFERENCE_YEAR}-01-01 12:00-05:00"]


def test_epw_hour_h_is_the_interval_starting_at_h_minus_1():
    w = read_weather(DATA / "suzhou-2days.epw", "epw")
    raw, meta = pvlib.iotools.read_epw(DATA / "suzhou-2days.epw")
    assert w.typical_year and len(w.data) == 48 and meta["TZ"] == 8.0
    np.testing.assert_array_equal(w.data.index.hour, raw["hour"] - 1)
    assert str(w.data.index.tz) == "UTC+08:00"
    for col in WEATHER_COLUMNS:
        np.testing.assert_allclose(w.data[col], raw[col].astype(float), atol=IRR_ATOL)
    # the file's timezone given explicitly: the result is in that zone, same instants
    named = read_weather(DATA / "suzhou-2days.epw", "epw", timezone=TZ)
    assert str(named.data.index.tz) == TZ
    assert (named.data.index == w.data.index).all()


def test_psm3_mid_hour_times_move_to_hour_starts():
    w = read_weather(DATA / "suzhou-2days-psm3.csv", "psm3")
    raw, _ = pvlib.iotools.read_nsrdb_psm4(str(DATA / "suzhou-2days-psm3.csv"))
    assert not w.typical_year  # one year: a time series, matched by absolute time
    assert (raw.index.minute == 30).all()
    assert (w.data.index == (raw.index - pd.Timedelta(minutes=30))).all()
    np.testing.assert_allclose(w.data["ghi"], raw["ghi"], atol=IRR_ATOL)
    assert any("middle of each step" in n for n in w.notes)


def test_psm3_with_months_of_different_years_is_a_typical_year(tmp_path):
    lines = (DATA / "suzhou-2days-psm3.csv").read_text().splitlines()
    lines[3:27] = [line.replace("2019,", "2008,", 1) for line in lines[3:27]]
    lines[27:] = [line.replace("2019,", "2003,", 1) for line in lines[27:]]
    (tmp_path / "tmy.csv").write_text("\n".join(lines) + "\n")
    w = read_weather(tmp_path / "tmy.csv", "psm3")
    assert w.typical_year and w.data.index[0].year == TYPICAL_REFERENCE_YEAR
    assert len(w.data) == 48 and w.data.index.freq == HOUR


def test_pvgis_json_is_utc_hour_starts():
    w = read_weather(DATA / "suzhou-2days-pvgis.json", "pvgis")
    raw, meta = pvlib.iotools.read_pvgis_tmy(DATA / "suzhou-2days-pvgis.json")
    assert w.typical_year and str(w.data.index.tz) == "UTC"
    np.testing.assert_array_equal(w.data.index.hour, raw.index.hour)
    np.testing.assert_allclose(w.data["dni"], raw["dni"], atol=IRR_ATOL)
    np.testing.assert_allclose(w.data["temp_air"], raw["temp_air"], atol=IRR_ATOL)
    local = read_weather(DATA / "suzhou-2days-pvgis.json", "pvgis", timezone=TZ)
    assert local.data.index[0] == pd.Timestamp(f"{TYPICAL_REFERENCE_YEAR}-01-01 08:00", tz=TZ)


def test_typical_year_round_trip_through_a_full_epw(tmp_path):
    from vpp.solar.typical_year import suzhou_typical_year

    year = suzhou_typical_year().data
    epw = (DATA / "suzhou-2days.epw").read_text().splitlines()
    rest = pd.Series(epw[8].split(","))
    t = year.index
    fields = {
        0: np.where(t.month < 7, "1999", "2011"), 1: t.month.astype(str), 2: t.day.astype(str),
        3: (t.hour + 1).astype(str), 6: year["temp_air"].map("{:.1f}".format),
        13: year["ghi"].map("{:.0f}".format), 14: year["dni"].map("{:.0f}".format),
        15: year["dhi"].map("{:.0f}".format), 21: year["wind_speed"].map("{:.1f}".format),
    }  # fmt: skip
    table = pd.DataFrame({i: fields.get(i, rest[i]) for i in range(len(rest))}, index=t)
    table = table.astype(str)
    lines = epw[:8] + table[0].str.cat([table[i] for i in table.columns[1:]], sep=",").tolist()
    path = tmp_path / "full.epw"
    path.write_text("\n".join(lines) + "\n")
    w = read_weather(path, "epw", timezone=TZ)
    assert str(w.data.index.tz) == TZ and (w.data.index == year.index).all()
    np.testing.assert_allclose(w.data["ghi"], year["ghi"], atol=0.5)
    on_2026 = weather_on_index(w, pd.date_range("2026-06-01", periods=24, freq="h", tz=TZ))
    np.testing.assert_allclose(on_2026["ghi"], year["ghi"].loc["2025-06-01"], atol=0.5)


# ---- CSV: labels, time zones, decomposition, cloud cover -----------------------------------


@pytest.mark.parametrize(
    ("label", "end", "offset"),
    [("start", False, "+08:00"), ("end", True, "+08:00"), ("start", False, "")],
)
def test_csv_start_and_end_labels_give_the_same_intervals(tmp_path, label, end, offset):
    path = _write_csv(tmp_path / "w.csv", _night_rows("2026-01-01 00:00", 4, end=end, tz=""))
    if offset:
        rows = _night_rows("2026-01-01 00:00", 4, end=end)
        rows = [r.replace(",", offset + ",", 1) for r in rows]
        path = _write_csv(tmp_path / "w.csv", rows)
    w = read_weather(path, "csv", interval_label=label, timezone=None if offset else TZ, **SUZHOU)
    expected = pd.date_range("2026-01-01", periods=4, freq="h", tz=TZ)
    assert (w.data.index == expected).all() and w.data.index.freq == HOUR
    np.testing.assert_array_equal(w.data["temp_air"], [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(w.data["wind_speed"], [0.5, 1.0, 1.5, 2.0])
    assert not w.typical_year and w.source.startswith("CSV weather file")


def test_csv_leading_hash_lines_are_a_header_and_lines_count_them(tmp_path):
    rows = _night_rows("2026-01-01 00:00", 3, tz="+08:00")
    rows[2] = rows[2].replace(",0,0,0,3,", ",0,0,0,99,")
    path = tmp_path / "f.csv"
    head = "# issued_at: 2026-01-01T00:00+08:00\n# site: Xushuguan\n"
    path.write_text(head + "timestamp,ghi,dni,dhi,temp_air,wind_speed\n" + "\n".join(rows))
    with pytest.raises(DataError) as err:
        read_weather(path, "csv", **SUZHOU)
    assert "line 6 of the file" in _problem(err, "column 'temp_air'", "99 degC")
    path.write_text(path.read_text().replace(",99,", ",3,"))
    np.testing.assert_array_equal(read_weather(path, "csv").data["temp_air"], [1, 2, 3])


def test_csv_instants_become_pairwise_interval_means(tmp_path):
    path = _write_csv(tmp_path / "w.csv", _night_rows("2026-01-01 00:00", 4))
    w = read_weather(path, "csv", interval_label="instant", timezone=TZ, **SUZHOU)
    assert (w.data.index == pd.date_range("2026-01-01", periods=3, freq="h", tz=TZ)).all()
    np.testing.assert_array_equal(w.data["temp_air"], [1.5, 2.5, 3.5])
    np.testing.assert_array_equal(w.data["wind_speed"], [0.75, 1.25, 1.75])
    assert any("pairwise" in n for n in w.notes)


def test_csv_missing_dni_dhi_are_decomposed_and_close(tmp_path):
    times = pd.date_range("2026-06-01 10:00", periods=3, freq="h", tz=TZ)
    rows = [f"{t.isoformat()},{g},{25},1.5" for t, g in zip(times, (700, 800, 750), strict=True)]
    path = _write_csv(tmp_path / "w.csv", rows, header="timestamp,ghi,temp_air,wind_speed")
    w = read_weather(path, "csv", **SUZHOU)
    d = w.data
    assert (d["dni"] > 0).all() and (d["dhi"] > 0).all() and (d["dhi"] < d["ghi"]).all()
    solpos = pvlib.solarposition.ephemeris(times + pd.Timedelta(minutes=30), 31.38, 120.48)
    closure = d["dhi"] + d["dni"] * np.cos(np.radians(solpos["zenith"].to_numpy()))
    np.testing.assert_allclose(closure, d["ghi"], rtol=0.01)
    assert any("Erbs" in n for n in w.notes)
    # one component given: the other closes ghi = dhi + dni cos z
    rows = [r.replace(",25,", ",200,25,", 1) for r in rows]
    path = _write_csv(tmp_path / "w2.csv", rows, header="timestamp,ghi,dhi,temp_air,wind_speed")
    w2 = read_weather(path, "csv", **SUZHOU)
    np.testing.assert_array_equal(w2.data["dhi"], [200.0, 200.0, 200.0])
    assert (w2.data["dni"] > 0).all()


def test_cloud_cover_zero_is_clear_sky_and_hundred_is_the_offset():
    index = pd.date_range("2026-06-21", periods=24, freq="h", tz=TZ)
    clear = cloud_cover_to_irradiance(np.zeros(24), index, 31.38, 120.48, 5.0)
    overcast = cloud_cover_to_irradiance(np.full(24, 100.0), index, 31.38, 120.48, 5.0)
    day = clear["ghi"] > 1.0
    np.testing.assert_allclose(overcast["ghi"][day] / clear["ghi"][day], CLOUD_OFFSET_FRACTION)
    # against pvlib's own clear sky at the middle of each hour (solar noon is near 11:58)
    loc = pvlib.location.Location(31.38, 120.48, altitude=5.0)
    ref = loc.get_clearsky(index + pd.Timedelta(minutes=30), model="ineichen")["ghi"]
    noon = index.hour == 11
    assert clear["ghi"][noon].iloc[0] == pytest.approx(ref[noon].iloc[0], rel=0.01)
    assert (clear["ghi"][~day] <= 1.0).all()
    assert (overcast["dhi"] <= overcast["ghi"] + 1e-9).all()


def test_forecast_csv_with_cloud_cover(tmp_path):
    path = DATA / "forecast-cloud-cover.csv"
    w = read_weather(path, "csv", **SUZHOU)
    cc = pd.read_csv(path)["cloud_cover"].to_numpy(dtype=float)
    direct = cloud_cover_to_irradiance(cc, w.data.index, 31.38, 120.48, 5.0)
    np.testing.assert_allclose(w.data[["ghi", "dni", "dhi"]], direct, atol=IRR_ATOL)
    with pytest.raises(DataError) as err:
        read_weather(path, "csv")  # no location: cloud cover cannot be converted
    assert "location" in _problem(err, str(path))


# ---- re-mapping and resampling --------------------------------------------------------------


@pytest.fixture(scope="module")
def typical() -> Weather:
    from vpp.solar.typical_year import suzhou_typical_year

    return suzhou_typical_year()


def test_typical_year_on_leap_2024_and_on_2026(typical):
    year = typical.data
    idx24 = pd.date_range("2024-01-01", "2025-01-01", freq="h", tz=TZ, inclusive="left")
    on24 = weather_on_index(typical, idx24)
    assert len(on24) == 8784 and (on24.index == idx24).all()
    feb28 = year.loc[f"{TYPICAL_REFERENCE_YEAR}-02-28"].to_numpy()
    np.testing.assert_array_equal(on24.loc["2024-02-29"].to_numpy(), feb28)
    np.testing.assert_array_equal(on24.loc["2024-02-28"].to_numpy(), feb28)
    mar1 = year.loc[f"{TYPICAL_REFERENCE_YEAR}-03-01"].to_numpy()
    np.testing.assert_array_equal(on24.loc["2024-03-01"].to_numpy(), mar1)
    np.testing.assert_array_equal(on24.loc["2024-12-31"].to_numpy(), year.iloc[-24:].to_numpy())
    idx26 = pd.date_range("2026-01-01", periods=8760, freq="h", tz=TZ)
    np.testing.assert_array_equal(weather_on_index(typical, idx26).to_numpy(), year.to_numpy())
    # an index in another zone: the same instants, so the same values
    utc = weather_on_index(typical, idx26[:48].tz_convert("UTC"))
    np.testing.assert_array_equal(utc.to_numpy(), year.iloc[:48].to_numpy())


def test_hourly_held_on_15_min_and_15_min_averaged_to_hourly(typical):
    q = pd.date_range("2026-07-01 10:00", periods=8, freq="15min", tz=TZ)
    held = weather_on_index(typical, q)
    hours = typical.data.loc[f"{TYPICAL_REFERENCE_YEAR}-07-01 10:00" :][:2].to_numpy()
    np.testing.assert_array_equal(held.to_numpy(), np.repeat(hours, 4, axis=0))
    # 15-min data, values 1, 2, 3, 4 then 5, 6, 7, 8 -> hourly means 2.5 and 6.5
    index = pd.date_range("2026-01-01", periods=8, freq="15min", tz=TZ)
    frame = pd.DataFrame({c: np.arange(1.0, 9.0) for c in WEATHER_COLUMNS}, index=index)
    fine = Weather(frame, "test", typical_year=False)
    hourly = weather_on_index(fine, pd.date_range("2026-01-01", periods=2, freq="h", tz=TZ))
    np.testing.assert_array_equal(hourly["ghi"], [2.5, 6.5])
    held = weather_on_index(fine, pd.date_range("2026-01-01 00:05", periods=3, freq="5min", tz=TZ))
    np.testing.assert_array_equal(held["temp_air"], [1.0, 1.0, 2.0])


def test_weather_not_covering_the_run_is_refused(typical):
    w = read_weather(DATA / "suzhou-2days-psm3.csv", "psm3")
    index = pd.date_range("2019-01-02 00:00", periods=48, freq="h", tz=TZ)
    with pytest.raises(DataError) as err:
        weather_on_index(w, index, where="site.weather")
    assert "2019-01-03T00:00:00+08:00" in _problem(err, "does not cover", "site.weather")
    epw = read_weather(DATA / "suzhou-2days.epw", "epw")  # typical, but two days only
    with pytest.raises(DataError) as err:
        weather_on_index(epw, pd.date_range("2026-01-02", periods=48, freq="h", tz=TZ))
    assert "2026-01-03T00:00:00+08:00" in _problem(err, "does not cover")
    with pytest.raises(DataError) as err:
        weather_on_index(typical, pd.date_range("2026-01-01", periods=3, freq="40min", tz=TZ))
    assert err.value.exit_code == EXIT_BAD_INPUT


# ---- bad input ------------------------------------------------------------------------------


def test_missing_columns_are_listed(tmp_path):
    path = _write_csv(
        tmp_path / "w.csv", ["2026-01-01T00:00+08:00,0,1", "2026-01-01T01:00+08:00,0,1"],
        header="timestamp,ghi,temp",
    )  # fmt: skip
    with pytest.raises(DataError) as err:
        read_weather(path, "csv", **SUZHOU)
    text = _problem(err, str(path), "temp_air", "wind_speed")
    assert "columns 'ghi', 'temp'" in text


def test_negative_irradiance(tmp_path):
    rows = _night_rows("2026-01-01 00:00", 4, tz="+08:00")
    rows[2] = rows[2].replace(",0,0,0,", ",-20,0,0,")
    rows[1] = rows[1].replace(",0,0,0,", ",-3,0,0,")
    with pytest.raises(DataError) as err:
        read_weather(_write_csv(tmp_path / "w.csv", rows), "csv", **SUZHOU)
    text = _problem(err, "column 'ghi'", "negative")
    assert "2026-01-01T02:00:00+08:00 (line 4 of the file)" in text and "-20 W/m^2" in text
    rows[2] = rows[2].replace(",-20,", ",0,")
    w = read_weather(_write_csv(tmp_path / "w.csv", rows), "csv", **SUZHOU)
    assert w.data["ghi"].iloc[1] == 0.0 and any("small negative" in n for n in w.notes)


def test_ghi_above_extraterrestrial_and_wrong_time_zone(tmp_path):
    rows = _night_rows("2026-01-01 00:00", 4, tz="+08:00")
    rows[3] = rows[3].replace(",0,0,0,", ",600,0,600,")  # 03:00 in Suzhou: night
    path = _write_csv(tmp_path / "w.csv", rows)
    with pytest.raises(DataError) as err:
        read_weather(path, "csv", **SUZHOU)
    text = _problem(err, str(path), "column 'ghi'", "extraterrestrial")
    assert "2026-01-01T03:00:00+08:00" in text and "time zone" in text
    # a Suzhou day written in local time but declared as UTC puts the sun at night
    day = pd.read_csv(DATA / "suzhou-2days-psm3.csv", skiprows=2).head(24)
    rows = [f"2026-01-01 {h:02d}:00,{g},{n},{d},5,2" for h, g, n, d in
            zip(day.Hour, day.GHI, day.DNI, day.DHI, strict=True)]  # fmt: skip
    path = _write_csv(tmp_path / "local.csv", rows)
    with pytest.raises(DataError) as err:
        read_weather(path, "csv", timezone="UTC", **SUZHOU)
    assert "time zone" in _problem(err, "column 'ghi'", "extraterrestrial")
    assert len(read_weather(path, "csv", timezone=TZ, **SUZHOU).data) == 24


def test_temperature_out_of_range(tmp_path):
    rows = _night_rows("2026-01-01 00:00", 4, tz="+08:00")
    rows[1] = rows[1].replace(",0,0,0,2,", ",0,0,0,75,")
    rows[2] = rows[2].replace(",0,0,0,3,", ",0,0,0,-60,")
    with pytest.raises(DataError) as err:
        read_weather(_write_csv(tmp_path / "w.csv", rows), "csv", **SUZHOU)
    text = _problem(err, "column 'temp_air'", "out of range", "75 degC")
    assert "2026-01-01T01:00:00+08:00" in text and "-50 to 60 degC" in text
    assert "-60 degC" in _problem(err, "column 'temp_air'", "2026-01-01T02:00:00+08:00")
    rows[3] = rows[3].replace(",0.5", ",fast").replace(",2.0", ",fast")
    with pytest.raises(DataError) as err:
        read_weather(_write_csv(tmp_path / "w.csv", rows), "csv", **SUZHOU)
    assert "line 5 of the file" in _problem(err, "column 'wind_speed'", "not numbers", "'fast'")


def test_small_gaps_filled_and_reported_large_gaps_refused(tmp_path):
    rows = _night_rows("2026-01-01 00:00", 10, tz="+08:00")
    rows[3] = rows[3].replace(",4,2.0", ",,2.0")  # an empty cell
    del rows[5:7]  # two missing rows (05:00, 06:00)
    w = read_weather(_write_csv(tmp_path / "w.csv", rows), "csv", **SUZHOU)
    assert len(w.data) == 10
    np.testing.assert_allclose(w.data["temp_air"], np.arange(1.0, 11.0))
    notes = " ".join(w.notes)
    assert "temp_air: 2 gap(s) filled" in notes and "2026-01-01T05:00:00+08:00 (2 step(s))" in notes
    long = _night_rows("2026-01-01 00:00", 10, tz="+08:00")
    del long[2:7]  # 02:00 .. 06:00 missing: 5 steps > 3
    with pytest.raises(DataError) as err:
        read_weather(_write_csv(tmp_path / "w.csv", long), "csv", **SUZHOU)
    text = _problem(err, "column 'temp_air'", "gap")
    assert "2026-01-01T02:00:00+08:00" in text and "2026-01-01T06:00:00+08:00" in text
    assert read_weather(_write_csv(tmp_path / "w.csv", long), "csv", max_gap_steps=5, **SUZHOU)


def test_epw_missing_codes_and_wrong_time_zone(tmp_path):
    lines = (DATA / "suzhou-2days.epw").read_text().splitlines()
    for i in (20, 21):  # data rows 12, 13: 12:00 and 13:00 of Jan 1
        f = lines[i].split(",")
        f[6] = "99.9"
        lines[i] = ",".join(f)
    path = tmp_path / "gap.epw"
    path.write_text("\n".join(lines) + "\n")
    w = read_weather(path, "epw")
    assert any("missing-data code" in n for n in w.notes)
    assert any("temp_air: 1 gap(s)" in n for n in w.notes)
    with pytest.raises(DataError) as err:
        read_weather(DATA / "suzhou-2days.epw", "epw", timezone="Europe/Berlin")
    text = _problem(err, "suzhou-2days.epw", "site.weather.timezone", "contradicts")
    assert "UTC+8" in text and "UTC+1" in text
    with pytest.raises(DataError) as err:
        read_weather(path, "epw", max_gap_steps=1)
    assert "line 21 of the file" in _problem(err, "column 'temp_air'", "gap")


def test_csv_time_zone_problems(tmp_path):
    path = _write_csv(tmp_path / "w.csv", _night_rows("2026-01-01 00:00", 3))
    with pytest.raises(DataError) as err:
        read_weather(path, "csv", **SUZHOU)
    assert "line 2 of the file" in _problem(err, str(path), "no time zone")
    aware = _write_csv(tmp_path / "a.csv", _night_rows("2026-01-01 00:00", 3, tz="+00:00"))
    with pytest.raises(DataError) as err:
        read_weather(aware, "csv", timezone=TZ, **SUZHOU)
    assert "+08:00" in _problem(err, "site.weather.timezone", "contradict", "line 2")
    # offsets that change (daylight saving) without `timezone`: kept in UTC
    berlin = pd.date_range("2026-03-29 00:00", periods=4, freq="h", tz="Europe/Berlin")
    rows = [f"{t.isoformat()},0,0,0,5,1" for t in berlin]
    w = read_weather(_write_csv(tmp_path / "dst.csv", rows), "csv")
    assert str(w.data.index.tz) == "UTC" and (w.data.index == berlin).all()
    with pytest.raises(DataError) as err:
        read_weather(path, "csv", timezone="Asia/Suzhou")
    assert "Asia/Suzhou" in _problem(err, "unknown time zone")


@pytest.mark.parametrize(
    ("fmt", "kw", "words"),
    [
        ("xlsx", {}, ("site.weather.format", "unknown")),
        ("epw", {"interval_label": "end"}, ("site.weather.interval_label",)),
        ("csv", {"interval_label": "middle"}, ("site.weather.interval_label",)),
    ],
)
def test_bad_arguments(fmt, kw, words):
    with pytest.raises(DataError) as err:
        read_weather(DATA / "suzhou-2days.epw", fmt, **kw)
    _problem(err, *words)


def test_unreadable_and_missing_files(tmp_path):
    with pytest.raises(DataError) as err:
        read_weather(tmp_path / "nope.epw", "epw")
    _problem(err, "nope.epw", "does not exist")
    with pytest.raises(DataError) as err:
        read_weather(DATA / "forecast-cloud-cover.csv", "epw")
    _problem(err, "forecast-cloud-cover.csv", "cannot be read as a epw")


def test_a_semicolon_file_is_named_with_its_header(tmp_path):
    rows = [r.replace(",", ";") for r in _night_rows("2026-01-01T00:00+08:00", 4)]
    header = "timestamp;ghi;dni;dhi;temp_air;wind_speed"
    path = tmp_path / "w.csv"  # a '#' line before the header, with a comma in it
    path.write_text("\n".join(["# from a spreadsheet, in Europe", header, *rows]) + "\n")
    with pytest.raises(DataError) as err:
        read_weather(path, "csv", **SUZHOU)
    text = _problem(err, "w.csv", "';' (semicolon) as delimiter")
    assert f"header {header!r}" in text and "comma-separated" in text


@pytest.mark.parametrize("cell", ["inf", "1e6"])
def test_irradiance_above_any_on_earth_is_refused_without_a_location(tmp_path, cell):
    rows = _night_rows("2026-01-01T00:00+08:00", 4)
    rows[2] = rows[2].replace(",0,0,0,", f",0,0,{cell},", 1)
    path = _write_csv(tmp_path / "w.csv", rows)
    with pytest.raises(DataError) as err:
        read_weather(path, "csv")  # no location: the extraterrestrial check is skipped
    assert "1605 W/m^2" in _problem(err, "column 'dhi'", "above any on earth")


def test_one_bad_ghi_value_is_one_problem_with_a_location(tmp_path):
    """With the sun known, ghi beyond the extraterrestrial cap is reported once (the
    flat cap for any place on earth, which is looser, is not added on top)."""
    rows = _night_rows("2026-01-01T00:00+08:00", 4)
    rows[2] = rows[2].replace(",0,0,0,", ",5000,0,0,", 1)
    path = _write_csv(tmp_path / "w.csv", rows)
    with pytest.raises(DataError) as err:
        read_weather(path, "csv", **SUZHOU)
    ghi = [str(p) for p in err.value.problems if "column 'ghi'" in str(p)]
    assert len(ghi) == 1 and "above extraterrestrial" in ghi[0], ghi
