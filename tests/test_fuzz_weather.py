"""Fuzz: weather files. Any weather file runs or exits 2 with a ``vpp:`` message.

Two readers: the weather file of a scenario's modelled PV (EPW and NSRDB PSM3 here,
``tests/data/fuzz/weather-*.yaml``, one day at 1 h) through ``vpp run``, and a
weather-forecast file (``tests/data/fuzz/forecast.csv``, the sample of
``forecasts/``) through ``vpp forecast --weather``. Each example damages the data rows
(:func:`fuzz_harness.mutate_csv_text`: bad cells, timestamps, rows, delimiters,
encodings) or the header lines, then checks the property of :func:`fuzz_harness.check`.
"""

from __future__ import annotations

from pathlib import Path

from fuzz_harness import damaged_csv, data_files, examples, run_in_sandbox
from hypothesis import given, settings
from hypothesis import strategies as st

FOLDER = Path(__file__).parent / "data" / "fuzz"
#: scenario file -> (weather file, its header lines)
SITES = {
    "weather-epw.yaml": ("suzhou-2days.epw", 8),
    "weather-psm3.yaml": ("suzhou-2days-psm3.csv", 3),
}
FORECAST_ARGV = [
    "forecast",
    "{root}/in/small-site.yaml",
    "--weather",
    "{root}/in/forecast.csv",
    "--now",
    "2026-07-15T15:00:00+08:00",
    "--out",
    "{root}/work/out",
]


def _files(site: str) -> dict[str, bytes]:
    return data_files(FOLDER, (site, SITES[site][0]))


def test_the_base_weather_sites_run() -> None:
    for site in SITES:
        argv = ["run", f"{{root}}/in/{site}", "--out", "{root}/work/out"]
        outcome = run_in_sandbox(_files(site), argv, ["{root}/work/out"])
        assert outcome.code == 0, outcome.describe()
    files = data_files(FOLDER, ("small-site.yaml", "forecast.csv"))
    outcome = run_in_sandbox(files, FORECAST_ARGV, ["{root}/work/out"])
    assert outcome.code == 0, outcome.describe()


@settings(max_examples=examples(16), deadline=30_000)
@given(st.sampled_from(sorted(SITES)), st.data())
def test_damaged_weather_file_runs_or_exits_2(site: str, data: st.DataObject) -> None:
    weather, header_lines = SITES[site]
    files = _files(site)
    text = (FOLDER / weather).read_text(encoding="utf-8")
    files["in/" + weather] = data.draw(damaged_csv(text, header_lines))
    argv = ["run", f"{{root}}/in/{site}", "--out", "{root}/work/out"]
    outcome = run_in_sandbox(files, argv, ["{root}/work/out"])
    assert outcome.code in (0, 2), outcome.describe()


@settings(max_examples=examples(8), deadline=30_000)
@given(st.sampled_from(sorted(SITES)), st.data())
def test_damaged_weather_header_runs_or_exits_2(site: str, data: st.DataObject) -> None:
    """The header lines (EPW location and periods, PSM3 metadata) damaged cell by cell."""
    weather, header_lines = SITES[site]
    files = _files(site)
    lines = (FOLDER / weather).read_text(encoding="utf-8").splitlines()
    head = "\n".join(lines[:header_lines])
    damaged = data.draw(damaged_csv(head + "\n", 0)).decode("utf-8", errors="replace")
    files["in/" + weather] = "\n".join([*damaged.splitlines(), *lines[header_lines:]]) + "\n"
    argv = ["run", f"{{root}}/in/{site}", "--out", "{root}/work/out"]
    outcome = run_in_sandbox(files, argv, ["{root}/work/out"])
    assert outcome.code in (0, 2), outcome.describe()


@settings(max_examples=examples(16), deadline=30_000)
@given(st.data())
def test_damaged_forecast_file_runs_or_exits_2(data: st.DataObject) -> None:
    files = data_files(FOLDER, ("small-site.yaml", "forecast.csv"))
    text = (FOLDER / "forecast.csv").read_text(encoding="utf-8")
    header_lines = data.draw(st.sampled_from((5, 0, 1, 4)))  # 0..4 damage the comment lines
    files["in/forecast.csv"] = data.draw(damaged_csv(text, header_lines))
    outcome = run_in_sandbox(files, FORECAST_ARGV, ["{root}/work/out"])
    assert outcome.code in (0, 2), outcome.describe()


def test_a_semicolon_forecast_names_the_delimiter() -> None:
    """The issue: a semicolon file was reported as '(got columns ; ...)'."""
    files = data_files(FOLDER, ("small-site.yaml", "forecast.csv"))
    lines = (FOLDER / "forecast.csv").read_text(encoding="utf-8").splitlines()
    files["in/forecast.csv"] = "\n".join(lines[:4] + [x.replace(",", ";") for x in lines[4:]])
    outcome = run_in_sandbox(files, FORECAST_ARGV, ["{root}/work/out"])
    assert outcome.code == 2, outcome.describe()
    assert "timestamp;cloud_cover" in outcome.stderr, outcome.describe()
    assert "delimiter" in outcome.stderr or "semicolon" in outcome.stderr, outcome.describe()
