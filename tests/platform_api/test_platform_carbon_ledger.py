"""The carbon-asset ledger: hand-computed views, corrections, refusals and roles, on
both databases.

A park ``green-park`` of two sites: ``green`` holds a green-power contract ``wind``
(1,000 MWh contracted in June and in July 2026), a renewable target of 50 % (annual,
certificates at 7 CNY/MWh) and a carbon price of 75 CNY/t; ``plain`` holds none. The
clock stands at 2026-07-15 12:00 local; ``green`` has 48 readings from 00:00 of 800 kW
import, 1200 kW load and 400 kW PV, so this month's load is 14,400 kWh and PV 4,800 kWh:
the target needs (0.5 x 14,400 - 4,800) / 1000 = 2.4 certificates so far.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

pytest.importorskip("fastapi")
from ledger_helpers import (
    DELIVERY,
    GREEN,
    NEED,
    NOW,
    PARK,
    PRICE_CNY_PER_T,
    PURCHASE,
    RETIREMENT,
    SITE,
    STEP_H,
    TOL,
    _assets,
    _ok,
    _post,
    _url,
)
from sqlalchemy import event

from vpp.emissions import factor
from vpp.platform.carbon_ledger.store import load_entries
from vpp.platform.carbon_ledger.view import carbon_assets
from vpp.platform.keys import revoke_key
from vpp.platform.parks import find_site


def test_delivered_against_contracted_by_hand(ledger):
    """June: 1,000 MWh contracted, 620 settled -> 380 short, 62 % delivered; July: not
    settled, 1,000 contracted of which 14.5/31 so far."""
    stored = _ok(ledger, DELIVERY)
    assert stored["unit"] == "MWh" and stored["recorded_by"] == ledger["keys"]["green"][4:16]
    assert stored["recorded_at"] == "2026-07-15T04:00:00+00:00"
    (wind,) = _assets(ledger)["contracts"]
    june, july = wind["months"]
    assert june["month"] == "2026-06" and june["contracted_mwh"] == 1000.0
    assert june["delivered_mwh"] == pytest.approx(620.0, abs=TOL)
    assert june["difference_mwh"] == pytest.approx(-380.0, abs=TOL)
    assert june["delivered_fraction"] == pytest.approx(0.62, abs=TOL)
    assert june["references"] == ["JS-PX-2026-06-0417"]
    assert july["delivered_mwh"] is None and wind["delivered_mwh"] is None
    assert wind["contracted_to_date_mwh"] == pytest.approx(1000.0 * 14.5 / 31, rel=1e-12)
    assert wind["year"]["settled_months"] == 1
    assert wind["year"]["difference_mwh"] == pytest.approx(-380.0, abs=TOL)


def test_certificates_against_the_target_by_hand(ledger):
    """300 bought at 7 CNY, 250 retired: 50 held; the month so far needs 2.4."""
    _ok(ledger, PURCHASE)
    _ok(ledger, RETIREMENT)
    certificates = _assets(ledger)["certificates"]
    assert certificates["year"] == "2026"
    assert (certificates["bought"], certificates["retired"], certificates["held"]) == (
        300.0,
        250.0,
        50.0,
    )
    assert certificates["bought_cost_cny"] == pytest.approx(2100.0, abs=TOL)
    assert certificates["needed"] == pytest.approx(NEED, abs=TOL)
    assert certificates["surplus_retired"] == pytest.approx(250.0 - NEED, abs=TOL)
    assert certificates["surplus_with_held"] == pytest.approx(300.0 - NEED, abs=TOL)
    (batch,) = certificates["batches"]
    assert batch == {
        "batch": "GEC-B1",
        "vintage": "2026-05",
        "bought": 300.0,
        "retired": 250.0,
        "held": 50.0,
    }


def test_retiring_more_than_bought_is_refused_with_the_numbers(ledger):
    _ok(ledger, PURCHASE)
    _ok(ledger, RETIREMENT)
    answer = _post(ledger, {**RETIREMENT, "certificates": 60})
    assert answer.status_code == 422
    (problem,) = answer.json()["problems"]
    assert problem["field"] == "certificates"
    assert (problem["bought"], problem["retired"]) == (300.0, 310.0)
    assert "310 certificates retired but 300 bought" in problem["message"]
    other_batch = _post(ledger, {**RETIREMENT, "batch": "GEC-B9"})
    assert other_batch.status_code == 422
    assert "250 certificates retired but 0 bought" in other_batch.json()["detail"]
    # nothing of a refused entry is stored
    entries = load_entries(ledger["platform"].sessions, [_site_id(ledger, "green")])
    assert len(next(iter(entries.values()))) == 2


def _site_id(ledger: dict[str, Any], site: str) -> int:
    return find_site(ledger["platform"].sessions, PARK, site).site_id


def test_allowances_against_verified_and_metered_by_hand(ledger):
    """2025: 1,000 allocated + 50 bought - 20 sold - 900 surrendered = 130 held;
    verified 1,100, so 200 still to surrender: 70 t short, -5,250 CNY at 75 CNY/t.
    2026: 500 allocated against the metered year to date (48 steps of 800 kW at the
    grid factor)."""
    for kind, amount in (
        ("allowance_allocation", 1000.0),
        ("allowance_purchase", 50.0),
        ("allowance_sale", 20.0),
        ("allowance_surrender", 900.0),
        ("verified_emissions", 1100.0),
    ):
        _ok(ledger, {"kind": kind, "period": "2025", "amount_t": amount, "reference": "r"})
    _ok(
        ledger,
        {"kind": "allowance_allocation", "period": "2026", "amount_t": 500.0, "reference": "a"},
        who="admin",
    )
    allowances = _assets(ledger)["allowances"]
    assert allowances["carbon_price_cny_per_t"] == PRICE_CNY_PER_T
    y2025, y2026 = allowances["years"]
    assert y2025["held_t"] == pytest.approx(130.0, abs=TOL)
    assert y2025["surplus_vs_verified_t"] == pytest.approx(-70.0, abs=TOL)
    assert y2025["value_vs_verified_cny"] == pytest.approx(-70.0 * PRICE_CNY_PER_T, abs=TOL)
    assert y2025["metered_co2_t"] is None  # only the present year is metered
    metered_t = 48 * 800.0 * STEP_H * factor("electricity").value / 1000.0
    assert y2026["metered_co2_t"] == pytest.approx(metered_t, rel=1e-9)
    assert y2026["verified_emissions_t"] is None and y2026["surplus_vs_verified_t"] is None
    assert y2026["surplus_vs_metered_t"] == pytest.approx(500.0 - metered_t, rel=1e-9)
    park = (
        ledger["client"]
        .get(f"/api/v1/parks/{PARK}/carbon-assets", headers=ledger["h"]["operator"])
        .json()
    )
    assert set(park["sites"]) == {"green", "plain"}
    total_2025 = park["totals"]["allowances"][0]
    assert total_2025["year"] == "2025" and total_2025["sites"] == 1
    assert total_2025["surplus_vs_verified_t"] == pytest.approx(-70.0, abs=TOL)


def test_a_correction_supersedes_and_the_history_keeps_both(ledger):
    first = _ok(ledger, DELIVERY)
    fixed = _ok(ledger, {**DELIVERY, "amount_mwh": 640.0, "supersedes": first["id"]})
    (wind,) = _assets(ledger)["contracts"]
    assert wind["months"][0]["delivered_mwh"] == pytest.approx(640.0, abs=TOL)
    client, h = ledger["client"], ledger["h"]["green"]
    in_force = client.get(_url(), headers=h).json()["entries"]
    assert [e["id"] for e in in_force] == [fixed["id"]]
    history = client.get(_url(), params={"history": "true"}, headers=h).json()["entries"]
    assert [(e["id"], e["quantity"], e["superseded_by"]) for e in history] == [
        (first["id"], 620.0, fixed["id"]),
        (fixed["id"], 640.0, None),
    ]
    again = _post(ledger, {**DELIVERY, "supersedes": first["id"]})
    assert again.status_code == 422
    assert f"already corrected by entry {fixed['id']}" in again.json()["problems"][0]["message"]
    # a void: the correction's correction with 0 MWh
    _ok(ledger, {**DELIVERY, "amount_mwh": 0.0, "supersedes": fixed["id"]})
    (wind,) = _assets(ledger)["contracts"]
    assert wind["months"][0]["delivered_mwh"] == 0.0
    # another site's entry cannot be superseded
    own = _ok(ledger, {**PURCHASE}, who="green")
    foreign = _post(ledger, {**PURCHASE, "supersedes": own["id"]}, who="plain", site="plain")
    assert foreign.status_code == 422 and foreign.json()["problems"][0]["field"] == "supersedes"
    # a purchase corrected below what was retired of its batch is refused
    _ok(ledger, RETIREMENT)
    lower = _post(ledger, {**PURCHASE, "certificates": 200, "supersedes": own["id"]})
    assert lower.status_code == 422
    assert "250 certificates retired but 200 bought" in lower.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"contract": "solar-2"}, "contract", "no green-power contract 'solar-2'"),
        ({"contract": None}, "contract", "names its contract"),
        ({"amount_mwh": -1.0}, "amount_mwh", "not a finite amount from 0"),
        ({"amount_mwh": 2e9}, "amount_mwh", "not a finite amount from 0"),
        ({"amount_mwh": None}, "amount_mwh", "needs amount_mwh"),
        ({"amount_t": 5.0}, "amount_t", "counted in amount_mwh"),
        ({"period": "2026-13"}, "period", "YYYY-MM"),
        ({"period": "2026-7"}, "period", "YYYY-MM"),
        ({"period": "2026"}, "period", "YYYY-MM"),
        ({"period": "1999-12"}, "period", "YYYY-MM"),
        ({"batch": "B"}, "batch", "has no batch"),
        ({"price_cny_per_t": 70.0}, "price_cny_per_t", "has no price_cny_per_t"),
        ({"price_cny_per_mwh": -5.0}, "price_cny_per_mwh", "not a finite price"),
    ],
)
def test_a_bad_delivery_is_422_naming_its_field(ledger, change, field, words):
    answer = _post(ledger, {**DELIVERY, **change})
    assert answer.status_code == 422, answer.text
    problems = answer.json()["problems"]
    assert problems[0]["field"] == field
    assert words in problems[0]["message"]
    if field == "contract" and change["contract"]:
        assert problems[0]["allowed"] == "wind"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**PURCHASE, "certificates": 2.5}, "certificates"),
        ({**PURCHASE, "vintage": "2026-13"}, "vintage"),
        ({**PURCHASE, "vintage": None}, "vintage"),
        ({**PURCHASE, "batch": ""}, "batch"),
        ({**PURCHASE, "period": "2026-07"}, "period"),
        ({**RETIREMENT, "price_cny_per_mwh": 7.0}, "price_cny_per_mwh"),
        ({"kind": "verified_emissions", "period": "2025", "amount_t": 1.0}, "reference"),
        (
            {"kind": "verified_emissions", "period": "2025", "amount_t": -1.0, "reference": "v"},
            "amount_t",
        ),
        ({"kind": "allowance_sale", "period": "25", "amount_t": 1.0, "reference": "v"}, "period"),
        ({"kind": "allowance_loan", "period": "2025", "amount_t": 1.0, "reference": "v"}, "kind"),
        ({**DELIVERY, "surplus": 1}, "surplus"),
    ],
)
def test_other_bad_entries_are_422_naming_their_field(ledger, body, field):
    answer = _post(ledger, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["field"] == field


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_amount_is_422(ledger, number):
    text = (
        '{"kind": "green_delivery", "period": "2026-06", "contract": "wind", '
        f'"amount_mwh": {number}, "reference": "x"}}'
    )
    answer = ledger["client"].post(
        _url(), content=text, headers={**ledger["h"]["green"], "content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["field"] == "amount_mwh"


def test_roles_and_their_exact_statuses(ledger):
    client, h = ledger["client"], ledger["h"]
    assert client.post(_url(), json=DELIVERY).status_code == 401
    assert client.get(_url(), headers={"X-API-Key": "vpp_000000000000_nope"}).status_code == 401
    assert _post(ledger, DELIVERY, who="operator").status_code == 403  # operators read
    assert _post(ledger, DELIVERY, who="plain").status_code == 403  # another site
    assert _post(ledger, DELIVERY, who="plain", site="nowhere").status_code == 403
    assert client.get(_url(), headers=h["plain"]).status_code == 403
    assert client.get(_url("green", "carbon-assets"), headers=h["plain"]).status_code == 403
    assert client.get(f"/api/v1/parks/{PARK}/carbon-assets", headers=h["green"]).status_code == 403
    assert _post(ledger, DELIVERY, who="admin", site="nowhere").status_code == 404
    assert client.get("/api/v1/parks/nopark/carbon-assets", headers=h["admin"]).status_code == 404
    assert _post(ledger, DELIVERY).status_code == 201  # its own site
    assert _post(ledger, DELIVERY, who="admin").status_code == 201  # any site
    assert client.get(_url(), headers=h["operator"]).status_code == 200
    assert client.get(_url("plain", "carbon-assets"), headers=h["operator"]).status_code == 200
    assert client.get(_url("plain", "carbon-assets"), headers=h["plain"]).status_code == 200
    revoke_key(ledger["platform"].sessions, ledger["keys"]["green"][4:16])
    assert _post(ledger, DELIVERY).status_code == 401
    filtered = client.get(
        _url(), params={"kind": "green_delivery", "period": "2026-05"}, headers=h["admin"]
    )
    assert filtered.status_code == 200 and filtered.json()["entries"] == []
    bad_kind = client.get(_url(), params={"kind": "nonsense"}, headers=h["admin"])
    assert bad_kind.status_code == 422


def test_entries_of_many_sites_load_in_one_query(ledger):
    _ok(ledger, DELIVERY)
    _ok(ledger, {**PURCHASE}, who="admin")
    plain = _post(
        ledger,
        {"kind": "allowance_allocation", "period": "2026", "amount_t": 9.0, "reference": "q"},
        who="plain",
        site="plain",
    )
    assert plain.status_code == 201
    statements: list[str] = []
    engine = ledger["platform"].engine
    me = threading.get_ident()  # the app's background threads (alerts) use the engine too

    def listen(*args: Any) -> None:
        if threading.get_ident() == me:
            statements.append(args[2])

    event.listen(engine, "before_cursor_execute", listen)
    try:
        ids = [_site_id(ledger, "green"), _site_id(ledger, "plain")]
        statements.clear()
        entries = load_entries(ledger["platform"].sessions, ids)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len([s for s in statements if "carbon_entries" in s]) == 1
    assert len(statements) == 1
    assert [len(entries[i]) for i in ids] == [2, 1]


def test_monitorings_site_view_carries_the_ledger(ledger):
    """Monitoring's site view (its carbon-assets call in monitoring/service.py) shows the
    ledger's delivered volume and certificates."""
    _ok(ledger, DELIVERY)
    _ok(ledger, PURCHASE)
    _ok(ledger, RETIREMENT)
    client, h = ledger["client"], ledger["h"]
    view = client.get(f"/api/v1/monitoring/parks/{PARK}/sites/green", headers=h["green"]).json()
    (wind,) = view["carbon_assets"]["contracts"]
    assert wind["months"][0]["delivered_mwh"] == pytest.approx(620.0, abs=TOL)
    assert view["carbon_assets"]["certificates"]["held"] == 50.0


def test_the_carbon_page_shows_the_ledger_as_it_is_now(ledger):
    """The carbon-assets page reads the ledger at each request (monitoring's month is
    kept between readings): entries recorded after a first visit are shown, in the
    three tables with their units; the alerts' partial stays; a site key sees its own
    site only."""
    client = ledger["client"]
    assert client.post("/login", data={"key": ledger["keys"]["operator"]}).status_code == 200
    before = client.get(f"/dashboard/parks/{PARK}/carbon").text
    assert "JS-PX-2026-06-0417" not in before and "not settled" in before
    _ok(ledger, DELIVERY)
    _ok(ledger, PURCHASE)
    _ok(ledger, RETIREMENT)
    _ok(
        ledger,
        {
            "kind": "allowance_allocation",
            "period": "2026",
            "amount_t": 1000.0,
            "reference": "MEE-2026-alloc",
        },
    )
    page = client.get(f"/dashboard/parks/{PARK}/carbon").text
    assert 'data-contract="wind" data-month="2026-06"' in page
    assert "620.0" in page and "-380.0" in page and "62.0 %" in page
    assert "JS-PX-2026-06-0417" in page
    assert "GEC-B1 (2026-05): 300 / 250" in page
    assert "Carbon allowances (national carbon market, CEA)" in page and "1,000.0" in page
    metered_t = 48 * 800.0 * STEP_H * factor("electricity").value / 1000.0
    assert f"{1000.0 - metered_t:,.1f}" in page  # held against the metered year to date
    assert "allocated t" in page and "contracted MWh" in page
    assert "Early warning" in page  # the alerts' partial stays
    client.post("/logout")
    assert client.post("/login", data={"key": ledger["keys"]["plain"]}).status_code == 200
    page = client.get(f"/dashboard/parks/{PARK}/carbon").text
    assert 'data-ledger-site="green"' not in page and 'data-site="plain"' in page


def test_the_view_is_a_pure_function_of_its_inputs(tmp_path):
    """No database: the view from a scenario, the month's energy and entries; a
    superseded entry is left out."""
    from vpp.scenario import load_scenario

    (tmp_path / "green.yaml").write_text(SITE.format(name="green", extra=GREEN))
    scenario = load_scenario(tmp_path / "green.yaml")
    entries = [
        {**_entry("green_delivery", "2026-06", 600.0, contract="wind"), "superseded_by": 2},
        _entry("green_delivery", "2026-06", 620.0, contract="wind", id=2),
    ]
    energy = {"load_kwh": 14_400.0, "pv_kwh": 4_800.0}
    view = carbon_assets(scenario, "2026-07", energy, 0.5, entries)
    assert view["entries"] == 1
    assert view["contracts"][0]["months"][0]["delivered_mwh"] == 620.0
    assert view["contracts"][0]["contracted_to_date_mwh"] == 500.0
    assert view["target"]["certificates_needed"] == pytest.approx(NEED, abs=TOL)
    assert view["allowances"] == {
        "carbon_price_cny_per_t": PRICE_CNY_PER_T,
        "metered_basis": None,
        "years": [],
    }


def _entry(kind: str, period: str, quantity: float, **more: Any) -> dict[str, Any]:
    return {
        "id": 1,
        "kind": kind,
        "period": period,
        "quantity": quantity,
        "contract": None,
        "batch": None,
        "vintage": None,
        "price_cny_per_unit": None,
        "reference": "r",
        "superseded_by": None,
        **more,
    }


INJECTIONS = ["' OR '1'='1", "green'; DROP TABLE carbon_entries; --", "1; DELETE FROM api_keys"]


@pytest.mark.parametrize("role", ["admin", "green"])
def test_sql_injection_in_the_ledgers_paths_and_queries_is_4xx(ledger, role):
    """Each hostile string in a path or query parameter is answered 4xx (403 for a
    site key naming anything but its own site, 404 or 422 for the admin) and the ledger
    is intact."""
    client, h = ledger["client"], ledger["h"][role]
    _ok(ledger, DELIVERY)
    for text in INJECTIONS:
        for site, park in ((text, PARK), ("green", text)):
            base = f"/api/v1/parks/{park}/sites/{site}"
            for answer in (
                client.get(f"{base}/carbon-ledger", headers=h),
                client.post(f"{base}/carbon-ledger", json=DELIVERY, headers=h),
                client.get(f"{base}/carbon-assets", headers=h),
            ):
                assert answer.status_code == (403 if role == "green" else 404), (site, park)
        for params in ({"kind": text}, {"period": text}):
            answer = client.get(_url(), params=params, headers=h)
            assert answer.status_code in (200, 422), params
            if answer.status_code == 200:
                assert answer.json()["entries"] == []
    entries = load_entries(ledger["platform"].sessions, [_site_id(ledger, "green")])
    assert [e["quantity"] for e in next(iter(entries.values()))] == [620.0]


def test_concurrent_retirements_never_exceed_the_batch(ledger):
    """Six threads retire 100 certificates each from a batch of 300 at once: exactly
    three are stored, three refused (the site's entries are checked one at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    from vpp.platform.carbon_ledger.kinds import EntryIn
    from vpp.platform.carbon_ledger.store import LedgerRefused, record_entry

    _ok(ledger, PURCHASE)
    site_id, sessions = _site_id(ledger, "green"), ledger["platform"].sessions
    body = EntryIn(**{**RETIREMENT, "certificates": 100})

    def retire(_: int) -> str:
        try:
            record_entry(sessions, site_id, body, "test", NOW)
        except LedgerRefused:
            return "refused"
        return "stored"

    with ThreadPoolExecutor(6) as pool:
        outcomes = sorted(pool.map(retire, range(6)))
    assert outcomes == ["refused"] * 3 + ["stored"] * 3
    retired = [
        e["quantity"]
        for e in load_entries(sessions, [site_id])[site_id]
        if e["kind"] == "certificate_retirement"
    ]
    assert sum(retired) == 300.0


def test_a_row_id_beyond_the_database_integer_is_422_not_a_crash(ledger):
    """supersedes names a row id: one beyond a 32-bit column (PostgreSQL's integer) is
    refused before it reaches the database."""
    answer = _post(ledger, {**DELIVERY, "supersedes": 10**12})
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["field"] == "supersedes"
