"""The bill tables of the CLI text and report.html add up to the total.

Units bill columns of their own (a demand charge's ``<name>_charge_cny``, a deferrable
load's start costs, a genset's fuel): the tables list the usual parts and then every
other money column the site's units declare (:func:`vpp.runs.bill.extra_bill_rows`), so
no cost in the total is missing from the rows above it.
"""

from __future__ import annotations

import re

import pytest
from helpers import battery, scenario_dict, solve_case

from vpp.report.html import build_report
from vpp.report.text import summary_text
from vpp.runs.bill import extra_bill_rows

#: The text table prints whole currency units: each row is rounded by at most 0.5 [CNY].
ROUNDING_CNY = 0.5


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """A day with a peak-window demand charge beside the monthly basic charge."""
    folder = tmp_path_factory.mktemp("bill-rows")
    data = scenario_dict(
        folder,
        [300.0] * 8 + [900.0] * 12 + [300.0] * 4,
        price={"calendar": "jiangsu-2025-industrial"},
        batteries=[battery(energy_kwh=400.0, power_kw=200.0)],
        grid={"demand_charge_cny_per_kw_month": 40.0},
    )
    data["site"]["demand_charges"] = [
        {"name": "peak_window", "rate_cny_per_kw": 12.0, "periods": ["peak"]}
    ]
    return solve_case(folder, data)


def test_extra_rows_name_the_demand_charge(result):
    rows = extra_bill_rows(result.scenario.site, ["energy_cost_cny"], result.summary)
    assert ("peak window charge", "peak_window_charge_cny", 1.0) in rows
    assert result.summary["peak_window_charge_cny"] > 0.0


def test_text_bill_rows_add_up_to_the_total(result):
    text = summary_text(result)
    table = text.split("savings")[0]
    values = {}
    for line in table.splitlines():
        m = re.match(r"\s{2}(\S.*?)\s{2,}(-?[\d,]+)\s+(-?[\d,]+)\s+[+-][\d,]+$", line)
        if m:
            values[m.group(1).strip()] = float(m.group(3).replace(",", ""))
    assert "peak window charge" in values, table
    total = values.pop("total")
    credit = values.pop("export credit")
    assert sum(values.values()) - credit == pytest.approx(
        total, abs=ROUNDING_CNY * (len(values) + 2)
    )


def test_report_bill_table_shows_the_demand_charge(result):
    page = build_report(result, {})
    assert "peak window charge" in page


#: Demand charges and basic-charge floors checked against the bill recomputed by hand
#: (``tests/helpers.py``: ``demand_charges_by_hand``) on every kind of window.
CHARGE_CASES = {
    "import-peak-periods-daily": (
        {"rate_cny_per_kw": 3.0, "periods": ["peak"], "per": "day"},
        {},
    ),
    "export-hours-over-midnight": (
        {"rate_cny_per_kw": 0.5, "on": "export", "hours": [{"start": "22:00", "end": "06:00"}]},
        {},
    ),
    "net-with-floor": ({"rate_cny_per_kw": 4.0, "on": "net", "peak_floor_kw": 950.0}, {}),
    "months-outside-the-run": ({"rate_cny_per_kw": 9.0, "months": [1, 2]}, {}),
    "basic-charge-month-to-date-peak": (
        {"rate_cny_per_kw": 1.0},
        {"basic_charge": {"demand_cny_per_kw_month": 40.0, "month_to_date_peak_kw": 1200.0}},
    ),
    "month-to-date-peak-above-the-import-limit": (  # billed at the floor, not infeasible
        {"rate_cny_per_kw": 1.0},
        {
            "import_limit_kw": 1000.0,
            "basic_charge": {"demand_cny_per_kw_month": 40.0, "month_to_date_peak_kw": 1200.0},
        },
    ),
}


@pytest.mark.parametrize("case", list(CHARGE_CASES))
def test_demand_charges_match_the_bill_by_hand(tmp_path, case):
    charge, grid = CHARGE_CASES[case]
    load = ([300.0] * 8 + [900.0] * 12 + [300.0] * 4) * 2
    pv = ([0.0] * 9 + [700.0] * 6 + [0.0] * 9) * 2
    data = scenario_dict(
        tmp_path,
        load,
        pv_kw=pv,
        price={"calendar": "jiangsu-2025-industrial"},
        export_price=0.3,
        batteries=[battery(energy_kwh=400.0, power_kw=200.0)],
        grid={"export_limit_kw": 500.0, **(grid or {"demand_charge_cny_per_kw_month": 40.0})},
    )
    data["site"]["demand_charges"] = [{"name": "dc", **charge}]
    result = solve_case(tmp_path, data)  # the invariants compare dc_charge_cny by hand
    assert "dc_charge_cny" in result.summary
