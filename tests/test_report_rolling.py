"""The report side of rolling runs: report.html, the printed summary and `vpp compare`.

A real 7-day run of the demo (perfect foresight) is turned into a rolling-like result
with :func:`dataclasses.replace`: the summary gets ``mode: rolling`` and a ``rolling``
entry with known numbers, the schedule gets forecast, plan and violation columns, and
one step of the week shown is pushed above the import limit. The tests check that
these numbers, and not others, reach the report, the text and the comparison table,
and that perfect runs (with and without ``mode``) are unchanged.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from test_demo import demo_data
from test_report_browser import browse, need_chromium

import vpp
from vpp.report.compare import compare_row, compare_table, read_summaries
from vpp.report.figures import representative_week
from vpp.report.files import write_run
from vpp.report.html import build_report
from vpp.report.html_parts import data_uri
from vpp.report.report_figures import report_figures
from vpp.report.rolling_figures import ROLLING_FIGURE
from vpp.report.text import summary_text
from vpp.scenario import validate_scenario
from vpp.sim.run import RunResult

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: Settled import above the limit at one step of the week shown [kW].
EXCESS_KW = 123.0
#: Cost of imperfect forecasts put into the fake rolling summary [CNY].
EXTRA_CNY = 4321.0
#: Load and PV forecast errors of the fake rolling summary [kW] and [-].
LOAD_ERROR = {"mae_kw": 210.5, "rmse_kw": 275.25, "bias_kw": -12.5, "nrmse_fraction": 0.0834}
PV_ERROR = {"mae_kw": 88.0, "rmse_kw": 140.0, "bias_kw": 9.75, "nrmse_fraction": 0.215}
REAL_TIME_RULE = (
    "battery and flexible loads follow the schedule; PV produces what it can and the grid "
    "takes the rest"
)


@pytest.fixture(scope="module")
def perfect() -> RunResult:
    """The demo shortened to 7 days, perfect foresight, as `vpp.run` returns it."""
    result = vpp.run(validate_scenario(demo_data(days=7)))
    result.summary.pop("mode", None)  # as a summary.json written before modes existed
    return result


def make_rolling(result: RunResult) -> RunResult:
    """A rolling-like copy of ``result`` with known forecasts, plan and one violation."""
    site = result.scenario.site
    limit_kw = site.grid.import_limit_kw
    s = result.schedule.copy()
    n = len(s)
    wave = np.sin(np.arange(n) * 2 * np.pi / 24.0)
    s["load_forecast_kw"] = s["load_kw"] * (1.0 + 0.08 * wave)
    for array in site.pv:
        s[f"{array.name}_forecast_kw"] = s[f"{array.name}_available_kw"] * 0.9
    s["grid_import_plan_kw"] = s["grid_import_kw"] * (1.0 - 0.05 * wave)
    # One step inside the week that the report shows goes above the import limit.
    start, _end = representative_week(result)
    worst = s.loc[s.index >= start].index[10]
    s.loc[worst, "grid_import_kw"] = limit_kw + EXCESS_KW
    s["grid_import_violation_kw"] = (s["grid_import_kw"] - limit_kw).clip(lower=0.0)
    s["grid_export_violation_kw"] = 0.0
    step_h = result.summary["horizon"]["step_h"]

    summary = copy.deepcopy(result.summary)
    perfect_cost = summary["total_cost_cny"]
    summary["total_cost_cny"] = perfect_cost + EXTRA_CNY
    summary["savings_cny"] -= EXTRA_CNY
    summary["kpis"]["total_cost_cny"] += EXTRA_CNY
    summary["mode"] = "rolling"
    summary["rolling"] = {
        "reoptimize_hour": 6,
        "interval_h": 24.0,
        "lookahead_h": 48.0,
        "load_forecast": "profile",
        "pv_forecast": "synthetic",
        "real_time_rule": REAL_TIME_RULE,
        "solves": 7,
        "models_built": 2,
        "model_reuse": True,
        "forecast_error": {"load": dict(LOAD_ERROR), "pv": dict(PV_ERROR)},
        "perfect": {
            "total_cost_cny": perfect_cost,
            "savings_cny": result.summary["savings_cny"],
            "peak_import_kw": dict(result.summary["peak_import_kw"]),
        },
        "cost_of_imperfect_forecasts_cny": EXTRA_CNY,
        "cost_of_imperfect_forecasts_fraction": EXTRA_CNY / perfect_cost,
        "violations": {
            "import_limit": {
                "steps": 1,
                "max_kw": EXCESS_KW,
                "energy_kwh": EXCESS_KW * step_h,
                "first": worst.isoformat(),
            },
            "export_limit": {"steps": 0, "max_kw": 0.0, "energy_kwh": 0.0, "first": None},
        },
        "timings_s": {
            "solves": 0.5,
            "updates": 0.1,
            "builds": 0.2,
            "settlement": 0.05,
            "perfect": 1.0,
            "total": 2.0,
        },
    }
    return dataclasses.replace(result, schedule=s, summary=summary)


@pytest.fixture(scope="module")
def rolling(perfect) -> RunResult:
    return make_rolling(perfect)


@pytest.fixture(scope="module")
def rolling_folder(rolling, tmp_path_factory):
    """The rolling-like run written by `write_run`, as `vpp run` writes a run folder."""
    out = tmp_path_factory.mktemp("rolling") / "runs" / "rolling"
    write_run(rolling, out)
    return out


def _section(page: str) -> str:
    """The text of the "Operation on forecasts" section (up to the next ``<h2``)."""
    match = re.search(r"<h2 id='rolling'>Operation on forecasts</h2>(.*?)<h2", page, re.S)
    assert match is not None, "no 'Operation on forecasts' section"
    return match.group(1)


def test_report_figures_add_the_rolling_week_only_for_rolling_runs(perfect, rolling):
    assert ROLLING_FIGURE not in report_figures(perfect)
    png = report_figures(rolling)[ROLLING_FIGURE]
    assert png.startswith(PNG_MAGIC)


def test_report_html_has_the_operation_section(rolling_folder):
    page = (rolling_folder / "report.html").read_text(encoding="utf-8")
    assert "<a href='#rolling'>operation on forecasts</a>" in page
    # The section comes first, before the summary.
    assert page.index("Operation on forecasts</h2>") < page.index("<h2 id='summary'>")
    section = _section(page)
    # Settings.
    assert "<td>re-optimization hour (local time)</td><td>06:00</td>" in section
    assert "<td>re-optimization interval [h]</td><td>24</td>" in section
    assert "<td>look-ahead [h]</td><td>48</td>" in section
    assert "<td>load forecast</td><td>profile</td>" in section
    assert "<td>PV forecast</td><td>synthetic</td>" in section
    assert "<td>7 / 2 (model re-used between solves)</td>" in section
    assert "Real time: battery and flexible loads follow the schedule;" in section
    # Cost against perfect foresight.
    summary = json.loads((rolling_folder / "summary.json").read_text(encoding="utf-8"))
    perfect_cny = summary["rolling"]["perfect"]["total_cost_cny"]
    share = 100 * EXTRA_CNY / perfect_cny
    assert f"Cost of imperfect forecasts: 4,321 CNY ({share:.2f} % of the perfect" in section
    assert (
        f"<td>total cost [CNY]</td><td>{perfect_cny:,.0f}</td>"
        f"<td>{perfect_cny + EXTRA_CNY:,.0f}</td><td>+4,321</td>"
    ) in section
    # Forecast errors: MAE, RMSE, bias [kW] and nRMSE [%].
    assert "<td>site load</td><td>210.5</td><td>275.2</td><td>-12.5</td><td>8.3</td>" in section
    assert "<td>PV available</td><td>88.0</td><td>140.0</td><td>9.8</td><td>21.5</td>" in section
    # Violations, stated: one step on import, none on export.
    assert (
        "Limit violations after settlement: <b>import limit exceeded in 1 step(s), by up to "
        "123.0 kW (123.0 kWh above it in all)</b>."
    ) in section
    first = summary["rolling"]["violations"]["import_limit"]["first"][:16].replace("T", " ")
    assert (
        f"<td>import limit (5,000 kW)</td><td><b>1</b></td><td>123.0</td><td>123.0</td>"
        f"<td>{first}</td>"
    ) in section
    assert "<td>export limit (1,000 kW)</td><td>none</td>" in section


def test_report_images_are_png_data_uris_and_files(rolling_folder):
    page = (rolling_folder / "report.html").read_text(encoding="utf-8")
    sources = re.findall(r"<img [^>]*src=\"([^\"]*)\"", page)
    names = ["dispatch.png", *(f"figures/{p.name}" for p in (rolling_folder / "figures").iterdir())]
    assert f"figures/{ROLLING_FIGURE}" in names
    assert len(sources) == len(names)
    embedded = set()
    for src in sources:
        assert src.startswith("data:image/png;base64,"), src[:40]
        png = base64.b64decode(src.removeprefix("data:image/png;base64,"), validate=True)
        assert png.startswith(PNG_MAGIC)
        embedded.add(png)
    for name in names:
        assert (rolling_folder / name).read_bytes() in embedded, name
    rolling_img = _section(page)
    assert 'alt="Forecasts against actuals"' in rolling_img


def test_report_says_none_without_violations(rolling):
    r = copy.deepcopy(rolling.summary)
    r["rolling"]["violations"]["import_limit"] = {
        "steps": 0,
        "max_kw": 0.0,
        "energy_kwh": 0.0,
        "first": None,
    }
    del r["rolling"]["forecast_error"]["pv"]
    page = build_report(dataclasses.replace(rolling, summary=r), {})
    section = _section(page)
    assert "Limit violations after settlement: none." in section
    assert "<td>import limit (5,000 kW)</td><td>none</td>" in section
    assert "PV available</td>" not in section  # no PV error row without PV errors
    assert "<img" not in section


def test_perfect_report_is_unchanged_by_mode(perfect):
    figures = {name: data_uri(PNG_MAGIC) for name in ("dispatch.png", "peak_import.png")}
    without = build_report(perfect, figures)
    labelled = dataclasses.replace(perfect, summary={**perfect.summary, "mode": "perfect"})
    assert build_report(labelled, figures) == without
    assert "Operation on forecasts" not in without and "#rolling" not in without
    assert summary_text(labelled) == summary_text(perfect)
    assert "mode: rolling" not in summary_text(perfect)


def test_summary_text_of_a_rolling_run(rolling):
    lines = summary_text(rolling).splitlines()
    perfect_cny = rolling.summary["rolling"]["perfect"]["total_cost_cny"]
    assert lines[1] == (
        "  mode: rolling, re-optimized every 24 h from 06:00 with 48 h look-ahead "
        "(7 solves, 2 model(s) built); forecasts: load profile, PV synthetic"
    )
    assert lines[2] == (
        f"  cost of imperfect forecasts: 4,321 CNY ({100 * EXTRA_CNY / perfect_cny:.2f}% of "
        f"perfect foresight's {perfect_cny:,.0f} CNY)"
    )
    first = rolling.summary["rolling"]["violations"]["import_limit"]["first"]
    assert lines[3] == (
        "  limit violations after settlement: import 1 step(s), up to 123.0 kW, 123.0 kWh "
        f"(first {first}); export none"
    )
    assert lines[-1].startswith("  time [s]: inputs ")


def test_compare_row_of_both_kinds(perfect, rolling, rolling_folder):
    old = compare_row(perfect.summary)  # no "mode": an older summary.json
    assert old["mode"] == "perfect"
    assert math.isnan(old["cost_of_imperfect_forecasts_cny"])
    assert math.isnan(old["limit_violations_steps"])
    labelled = compare_row({**perfect.summary, "mode": "perfect"})
    assert labelled["mode"] == "perfect" and math.isnan(labelled["limit_violations_steps"])
    r = copy.deepcopy(rolling.summary)
    r["rolling"]["violations"]["export_limit"]["steps"] = 2
    row = compare_row(r)
    assert row["mode"] == "rolling"
    assert row["cost_of_imperfect_forecasts_cny"] == pytest.approx(EXTRA_CNY)
    assert row["limit_violations_steps"] == 3  # 1 import + 2 export
    # The existing columns are still there and the same for both kinds.
    assert set(old) <= set(row)
    assert row["total_cost_cny"] == pytest.approx(old["total_cost_cny"] + EXTRA_CNY)
    # Through summary.json, as `vpp compare` reads it.
    table = compare_table(read_summaries([rolling_folder]))
    assert table.loc["rolling", "mode"] == "rolling"
    assert table.loc["rolling", "limit_violations_steps"] == 1
    assert table.loc["rolling", "cost_of_imperfect_forecasts_cny"] == pytest.approx(EXTRA_CNY)


def test_compare_figure_with_a_rolling_run(perfect, rolling, tmp_path):
    from vpp.report.compare import write_compare

    table = pd.DataFrame(
        [compare_row(perfect.summary), compare_row(rolling.summary)], index=["perfect", "rolling"]
    )
    table.index.name = "run"
    files = write_compare(table, tmp_path / "compare")
    png = (tmp_path / "compare" / "compare.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(files) == 2
    written = pd.read_csv(tmp_path / "compare" / "compare.csv", index_col="run")
    assert list(written["mode"]) == ["perfect", "rolling"]
    assert math.isnan(written.loc["perfect", "limit_violations_steps"])


def test_rolling_report_renders_in_chromium(rolling_folder, tmp_path):
    need_chromium()
    dom, probe, console = browse(rolling_folder / "report.html", tmp_path)
    assert re.search(r"<h2[^>]*>Operation on forecasts</h2>", dom)
    assert probe["images"] == 1 + len(list((rolling_folder / "figures").iterdir()))
    assert probe["loaded"] == probe["images"], probe
    assert probe["errors"] == [] and console == []
