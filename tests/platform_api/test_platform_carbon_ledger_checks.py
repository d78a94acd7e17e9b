"""The carbon ledger's checks and views after review 8, on both databases (the park of
``ledger_helpers.py``: 2026-07-15 12:00 local, this month's load 14,400 kWh and PV
4,800 kWh, a target of 50 % counting certificates):

- control characters in an entry's text are a 422 naming the field (a NUL was a 500 on
  PostgreSQL), a note keeps its line breaks;
- a period or vintage with a trailing newline is a 422 (``$`` matched before it);
- the certificates' need is the year to date's, against the year's retirements;
- a retirement's vintage is its batch purchase's;
- deliveries of a contract removed from the scenario stay, in a row of their own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
from ledger_helpers import DELIVERY, GREEN, PARK, PURCHASE, RETIREMENT, SITE, TOL, _assets, _ok
from ledger_helpers import _post as post
from ledger_helpers import _url as url

from vpp.platform.carbon_ledger.view import REMOVED_CONTRACT, carbon_assets
from vpp.scenario import load_scenario
from vpp.scenario.common import clock_minutes as scenario_clock
from vpp.tariffs.clock import clock_minutes as tariff_clock

STEP_H = 0.25
#: This month so far (ledger_helpers.py) [kWh].
LOAD_KWH, PV_KWH = 48 * 1200.0 * STEP_H, 48 * 400.0 * STEP_H


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**DELIVERY, "reference": "JS\x00PX"}, "reference"),
        ({**DELIVERY, "contract": "wi\x00nd"}, "contract"),
        ({**DELIVERY, "period": "2026\x00-06"}, "period"),
        ({**DELIVERY, "note": "settled\x00"}, "note"),
        ({**DELIVERY, "note": "escape \x1b[31m"}, "note"),
        ({**PURCHASE, "batch": "GEC\x00B1"}, "batch"),
        ({**PURCHASE, "vintage": "2026\x00"}, "vintage"),
        ({**PURCHASE, "reference": "serials \x7f"}, "reference"),
    ],
)
def test_a_control_character_in_an_entrys_text_is_422_naming_the_field(ledger, body, field):
    answer = post(ledger, body)
    assert answer.status_code == 422, answer.text  # PostgreSQL: was 500 for a NUL
    problem = answer.json()["problems"][0]
    assert problem["field"] == field
    assert "control character" in problem["message"]
    assert ledger["client"].get(url(), headers=ledger["h"]["green"]).json()["entries"] == []


def test_a_note_keeps_its_line_breaks_and_tabs(ledger):
    note = "settled late:\r\n\tsee the utility's letter"
    assert _ok(ledger, {**DELIVERY, "note": note})["note"] == note


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**DELIVERY, "period": "2026-06\n"}, "period"),
        (
            {"kind": "allowance_allocation", "period": "2026\n", "amount_t": 5.0, "reference": "a"},
            "period",
        ),
        ({**PURCHASE, "vintage": "2026-05\n"}, "vintage"),
        ({**PURCHASE, "vintage": "2026\n"}, "vintage"),
    ],
)
def test_a_trailing_newline_in_a_period_or_vintage_is_422(ledger, body, field):
    answer = post(ledger, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["field"] == field


def test_the_period_filter_refuses_a_trailing_newline(ledger):
    """A newline is a control character in the query (422 naming ``query``, before the
    route); a filter not of the form YYYY or YYYY-MM is a 422 naming ``period``."""
    client, headers = ledger["client"], ledger["h"]["green"]
    answer = client.get(url() + "?period=2026%0A", headers=headers)
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["field"] == "query"
    answer = client.get(url() + "?period=2026-7", headers=headers)
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["field"] == "period"


def test_clock_times_and_contract_months_refuse_a_trailing_newline():
    """The other user-input patterns that used ``^...$`` with ``match``."""
    assert scenario_clock("08:00") == 480 and tariff_clock("08:00") == 480
    with pytest.raises(ValueError, match="not a clock time"):
        scenario_clock("08:00\n")
    assert tariff_clock("08:00\n") is None
    from vpp.scenario.green import GreenContract

    fields = {
        "name": "wind",
        "energy_price_cny_per_mwh": 391,
        "green_premium_cny_per_mwh": 27,
        "grid_fees_cny_per_kwh": 0.32,
    }
    GreenContract.model_validate({**fields, "monthly_mwh": {"2026-07": 10}})
    with pytest.raises(ValueError, match="YYYY-MM"):
        GreenContract.model_validate({**fields, "monthly_mwh": {"2026-07\n": 10}})


def _readings(ledger: dict[str, Any], stamps_values: list[tuple[str, str, float]]) -> None:
    rows = [{"channel": c, "timestamp": s, "value": v} for s, c, v in stamps_values]
    ledger["platform"].store_readings(PARK, "green", rows)


def _quarter_hours(day: str, n: int, channel: str, value: float) -> list[tuple[str, str, float]]:
    return [
        (f"{day}T{(15 * i) // 60:02d}:{(15 * i) % 60:02d}:00+08:00", channel, value)
        for i in range(n)
    ]


def test_the_certificates_need_is_the_year_to_dates_against_the_years_retirements(ledger):
    """March: 8 quarter hours of 1,000 kW load (2,000 kWh) and 4 of 400 kW PV (400 kWh);
    December 2025 (another year) 1,000 kW. Year to date: load 14,400 + 2,000, PV
    4,800 + 400 -> need (0.5 x 16,400 - 5,200)/1000 = 3.0 certificates (the month alone:
    2.4). 250 retired: 247.0 over the year's need. A late April reading (1,000 kW, 250
    kWh) is seen at the next view: need 3.125."""
    _readings(ledger, _quarter_hours("2026-03-02", 8, "load_kw", 1000.0))
    _readings(ledger, _quarter_hours("2026-03-02", 4, "roof_pv_kw", 400.0))
    _readings(ledger, _quarter_hours("2025-12-30", 8, "load_kw", 1000.0))
    _ok(ledger, PURCHASE)
    _ok(ledger, RETIREMENT)
    certificates = _assets(ledger)["certificates"]
    need = (0.5 * (LOAD_KWH + 2000.0) - (PV_KWH + 400.0)) / 1000.0
    assert need == pytest.approx(3.0, abs=TOL)
    assert certificates["needed"] == pytest.approx(need, abs=TOL)
    assert certificates["year_to_date"] == {
        "load_kwh": pytest.approx(LOAD_KWH + 2000.0, abs=TOL),
        "pv_kwh": pytest.approx(PV_KWH + 400.0, abs=TOL),
    }
    assert certificates["surplus_retired"] == pytest.approx(250.0 - need, abs=TOL)
    assert certificates["surplus_with_held"] == pytest.approx(300.0 - need, abs=TOL)
    assert certificates["needed_basis"].startswith("year to date")
    _readings(ledger, [("2026-04-01T08:00:00+08:00", "load_kw", 1000.0)])
    later = _assets(ledger)["certificates"]
    assert later["needed"] == pytest.approx(need + 0.5 * 250.0 / 1000.0, abs=TOL)
    # monitoring's own view reads no year: it gives no need rather than the month's
    view = (
        ledger["client"]
        .get(f"/api/v1/monitoring/parks/{PARK}/sites/green", headers=ledger["h"]["green"])
        .json()
    )
    mine = view["carbon_assets"]["certificates"]
    assert mine["needed"] is None and "not read here" in mine["needed_basis"]


def test_the_need_follows_the_targets_certificates_rule(tmp_path: Path):
    """No database: an hourly target that does not count certificates has no need; one
    that counts them has the volume gap, said to be a lower bound; January's need is
    the month's (nothing earlier)."""
    energy = {"load_kwh": LOAD_KWH, "pv_kwh": PV_KWH}
    earlier = {"load_kwh": 0.0, "pv_kwh": 0.0}
    for counted, expected in [("false", None), ("true", 2.4)]:
        extra = GREEN.replace("{basis: annual,", f"{{basis: hourly, certificates_count: {counted},")
        (tmp_path / "green.yaml").write_text(SITE.format(name="green", extra=extra))
        scenario = load_scenario(tmp_path / "green.yaml")
        view = carbon_assets(scenario, "2026-01", energy, 0.5, [], None, earlier)
        g = view["certificates"]
        if expected is None:
            assert g["needed"] is None and "do not count" in g["needed_basis"]
        else:
            assert g["needed"] == pytest.approx(expected, abs=TOL)
            assert "lower bound" in g["needed_basis"]


def test_a_retirement_of_another_vintage_than_its_batch_is_422(ledger):
    _ok(ledger, PURCHASE)  # batch GEC-B1, vintage 2026-05
    answer = post(ledger, {**RETIREMENT, "vintage": "2025"})
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["problems"]
    assert problem["field"] == "vintage" and problem["allowed"] == "2026-05"
    assert "bought with vintage 2026-05, not '2025'" in problem["message"]
    _ok(ledger, RETIREMENT)  # the purchase's vintage is accepted
    (batch,) = _assets(ledger)["certificates"]["batches"]
    assert batch["vintage"] == "2026-05" and batch["retired"] == 250.0


def test_deliveries_of_a_removed_contract_stay_in_a_row_of_their_own(ledger, tmp_path):
    """June's 620 MWh of ``wind`` recorded, then ``wind`` renamed ``solar`` in the
    scenario: the 620 MWh stay, under ``wind`` marked as an unknown contract, beside
    ``solar`` (nothing delivered); the carbon page shows the row with its mark."""
    _ok(ledger, DELIVERY)
    folder = tmp_path / PARK
    site_file = folder / "sites" / "green.yaml"
    site_file.write_text(site_file.read_text().replace("name: wind", "name: solar"))
    stat = (folder / "park.yaml").stat()
    os.utime(folder / "park.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    solar, wind = _assets(ledger)["contracts"]
    assert solar["name"] == "solar" and solar["removed_from_scenario"] is False
    assert solar["months"][0]["delivered_mwh"] is None
    assert wind["name"] == "wind" and wind["removed_from_scenario"] is True
    assert wind["status"] == REMOVED_CONTRACT and REMOVED_CONTRACT in wind["note"]
    (june,) = wind["months"]
    assert june["delivered_mwh"] == pytest.approx(620.0, abs=TOL)
    assert june["contracted_mwh"] is None and june["difference_mwh"] is None
    client = ledger["client"]
    assert client.post("/login", data={"key": ledger["keys"]["operator"]}).status_code == 200
    page = client.get(f"/dashboard/parks/{PARK}/carbon").text
    assert 'data-contract="wind" data-month="2026-06"' in page
    assert f"wind — {REMOVED_CONTRACT}" in page
