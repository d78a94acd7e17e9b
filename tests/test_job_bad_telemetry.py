"""Bad telemetry at the job level: exit 2, the file, row and column named, the fallback
written.

A two-site hourly park (``tests/job_parks.py``): site ``a`` with rooftop PV given as a
series and a battery, site ``b`` with a battery only. Each case puts one bad reading (or
header) into an otherwise good telemetry folder and runs ``vpp schedule`` in-process
(:func:`vpp.cli.main`). The kinds are those of ``docs/telemetry.md``: not a finite
number (NaN, empty, text), a negative kW or kWh, future-dated, repeated, a timestamp
that does not parse or has no offset, a column missing; each in the files where it
applies (a state of charge below zero is not one: it is clipped and flagged).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from job_parks import calendar, schedule_cli, write_park, write_rows, write_site

from vpp.jobs.fallback import SAFE_SCHEDULE

DATE = "2026-07-16"
NOW = "2026-07-15T15:00"
T1 = "2026-07-15T14:00:00+08:00"
T2 = "2026-07-15T14:45:00+08:00"
FUTURE = "2026-07-15T15:15:00+08:00"
HEADERS = {
    "soc.csv": "site,battery,timestamp,soc_kwh",
    "load-a.csv": "timestamp,load_kw",
    "pv-a.csv": "timestamp,roof_pv_kw",
    "grid-a.csv": "timestamp,import_kw,export_kw",
    "ev-a.csv": "timestamp,fleet,session,delivered_kwh",
}
#: Good first rows of each file (line 2); a case's bad row is line 3 unless it replaces it.
GOOD = {
    "soc.csv": [f"a,bess,{T2},300", f"b,bess,{T2},100"],
    "load-a.csv": [f"{T1},80"],
    "pv-a.csv": [f"{T1},20"],
    "grid-a.csv": [f"{T1},60,0"],
    "ev-a.csv": [f"{T1},vans,van-1,12.5"],
}

# (case id, file, header (None: the file's own), bad rows after the good ones, row, column)
CASES = [
    ("soc-nan", "soc.csv", None, [f"a,bess2,{T2},nan"], 4, "soc_kwh"),
    ("soc-empty", "soc.csv", None, [f"a,bess2,{T2},"], 4, "soc_kwh"),
    ("soc-text", "soc.csv", None, [f"a,bess2,{T2},full"], 4, "soc_kwh"),
    ("soc-future", "soc.csv", None, [f"a,bess2,{FUTURE},10"], 4, "timestamp"),
    ("soc-repeated", "soc.csv", None, [f"a,bess,{T2},300"], 4, "timestamp"),
    ("soc-timestamp", "soc.csv", None, ["a,bess2,yesterday,10"], 4, "timestamp"),
    ("soc-column", "soc.csv", "site,battery,timestamp,soc", [], 1, "soc_kwh"),
    ("load-nan", "load-a.csv", None, [f"{T2},NaN"], 3, "load_kw"),
    ("load-negative", "load-a.csv", None, [f"{T2},-5"], 3, "load_kw"),
    ("load-future", "load-a.csv", None, [f"{FUTURE},80"], 3, "timestamp"),
    ("load-repeated", "load-a.csv", None, [f"{T1},81"], 3, "timestamp"),
    ("pv-text", "pv-a.csv", None, [f"{T2},sunny"], 3, "roof_pv_kw"),
    ("pv-negative", "pv-a.csv", None, [f"{T2},-0.5"], 3, "roof_pv_kw"),
    ("pv-column", "pv-a.csv", "timestamp,roof_kw", [], 1, "<array>_pv_kw"),
    ("grid-negative", "grid-a.csv", None, [f"{T2},-60,0"], 3, "import_kw"),
    ("grid-empty", "grid-a.csv", None, [f"{T2},60,"], 3, "export_kw"),
    ("grid-no-offset", "grid-a.csv", None, ["2026-07-15T14:45:00,60,0"], 3, "timestamp"),
    ("grid-column", "grid-a.csv", "timestamp,import_kw", [], 1, "export_kw"),
    ("ev-negative", "ev-a.csv", None, [f"{T2},vans,van-1,-1"], 3, "delivered_kwh"),
    ("ev-repeated", "ev-a.csv", None, [f"{T1},vans,van-1,13"], 3, "timestamp"),
]


@pytest.fixture(scope="module")
def park(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("park")
    prices = calendar(
        [("valley", "00:00", "08:00"), ("flat", "08:00", "18:00"), ("peak", "18:00", "24:00")],
        {"valley": 0.3, "flat": 0.7, "peak": 1.2},
    )
    bess = {
        "energy_kwh": 400.0,
        "charge_power_kw": 100.0,
        "discharge_power_kw": 100.0,
        "soc_initial_fraction": 0.5,
    }
    pv = [max(0.0, 60.0 - 10.0 * abs(h - 12)) for h in range(24)]
    a = write_site(folder, "a", [80.0] * 24, prices, bess=bess, pv_by_hour_kw=pv)
    b = write_site(folder, "b", [50.0] * 24, prices, bess=bess)
    return write_park(folder, [a, b])


def _telemetry(folder: Path, file: str, header: str | None, bad: list[str]) -> Path:
    for name, rows in GOOD.items():
        if name == file:
            rows = (rows if header is None else []) + bad
            write_rows(folder / name, header or HEADERS[name], rows)
        else:
            write_rows(folder / name, HEADERS[name], rows)
    return folder


def test_good_telemetry_gives_a_plan(park: Path, tmp_path: Path, capsys) -> None:
    """The control: the same folder without the bad row is read and planned."""
    tele = _telemetry(tmp_path / "tele", "", None, [])
    code = schedule_cli(park, tmp_path / "out", NOW, tele, date=DATE)
    assert code == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "out" / DATE / "summary.json").read_text())
    assert summary["status"] == "ok"
    assert summary["sources"]["soc"]["a"]["bess"].startswith("300.0 kWh from telemetry")


@pytest.mark.parametrize(
    ("file", "header", "bad", "row", "column"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_bad_telemetry_exits_2_names_it_and_writes_the_fallback(
    park: Path, tmp_path: Path, capsys, file, header, bad, row, column
) -> None:
    tele = _telemetry(tmp_path / "tele", file, header, bad)
    out = tmp_path / "out"
    code = schedule_cli(park, out, NOW, tele, date=DATE)
    assert code == 2
    err = capsys.readouterr().err
    (line,) = [x for x in err.splitlines() if x.startswith("vpp: error (data)")]
    where = re.escape(f"{tele / file}: row {row}, column") + r"\(?s?\)? " + re.escape(column)
    assert re.search(where, line), line
    assert "safe fallback schedule was written" in line
    folder = out / DATE
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "fallback" and summary["exit_code"] == 2
    assert summary["fallback"] == SAFE_SCHEDULE
    assert summary["sites_scheduled"] == ["a", "b"] and not summary["sites_without_schedule"]
    for site in ("a", "b"):
        assert (folder / "sites" / site / "schedule.csv").is_file()
    assert (folder / "report.html").is_file()
    assert (folder / "park_plan.csv").is_file()
