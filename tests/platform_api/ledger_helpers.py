"""The carbon ledger tests' park (``green-park``, see test_platform_carbon_ledger.py),
its fixture's body and request helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from vpp.platform import Platform, create_app
from vpp.platform.keys import create_key
from vpp.platform.parks import register_park

PARK = "green-park"
NOW = dt.datetime(2026, 7, 15, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
STEP_H = 0.25
#: Sums of a few entries agree to rounding only [MWh, certificates, t, CNY].
TOL = 1e-9
NEED = (0.5 * 48 * 1200.0 * STEP_H - 48 * 400.0 * STEP_H) / 1000.0  # 2.4 certificates
PRICE_CNY_PER_T = 75.0

SITE = """
name: {name}
horizon: {{start: 2026-07-15, days: 1, step: 15min}}
site:
  name: {name}
  load: {{synthetic: {{profile: two_shift, peak_kw: 2000, seed: 7}}}}
  pv:
    - {{kind: rooftop, name: roof, dc_capacity_kw: 800, tilt_deg: 5, commissioning_year: 2025}}
  grid:
    import_limit_kw: 5000
    energy_price: {{calendar: jiangsu-2025-industrial}}
    basic_charge: {{method: demand, demand_cny_per_kw_month: 40}}
{extra}"""
GREEN = """  green_contracts:
    - name: wind
      monthly_mwh: {"2026-06": 1000, "2026-07": 1000}
      energy_price_cny_per_mwh: 391
      green_premium_cny_per_mwh: 27
      grid_fees_cny_per_kwh: 0.32
  renewable_target: {basis: annual, fraction: 0.5, certificate_price_cny_per_mwh: 7}
  carbon_price: {cny_per_t: 75}
"""


def _stamp(i: int) -> str:
    return (
        dt.datetime(2026, 7, 15, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        + dt.timedelta(minutes=15 * i)
    ).isoformat()


def open_ledger(db_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The ledger's park on a fresh database, a client and keys (the ``ledger`` fixture)."""
    folder = tmp_path / PARK
    (folder / "sites").mkdir(parents=True)
    (folder / "sites" / "green.yaml").write_text(SITE.format(name="green", extra=GREEN))
    (folder / "sites" / "plain.yaml").write_text(SITE.format(name="plain", extra=""))
    (folder / "park.yaml").write_text(
        f"name: {PARK}\ntimezone: Asia/Shanghai\n"
        "horizon: {start: 2026-07-15, days: 1, step: 15min}\n"
        "sites:\n  - file: sites/green.yaml\n  - file: sites/plain.yaml\n"
    )
    platform = Platform.open(db_url)
    platform.clock = lambda: NOW
    register_park(platform.sessions, folder / "park.yaml")
    rows = []
    for i in range(48):
        rows += [
            {"channel": "import_kw", "timestamp": _stamp(i), "value": 800.0},
            {"channel": "load_kw", "timestamp": _stamp(i), "value": 1200.0},
            {"channel": "roof_pv_kw", "timestamp": _stamp(i), "value": 400.0},
        ]
    platform.store_readings(PARK, "green", rows)
    keys = {
        "admin": create_key(platform.sessions, "admin")[1],
        "operator": create_key(platform.sessions, "operator")[1],
        "green": create_key(platform.sessions, "site", park=PARK, site="green")[1],
        "plain": create_key(platform.sessions, "site", park=PARK, site="plain")[1],
    }
    with TestClient(create_app(platform)) as client:
        yield {
            "client": client,
            "platform": platform,
            "keys": keys,
            "h": {role: {"X-API-Key": key} for role, key in keys.items()},
        }
    platform.close()


def _url(site: str = "green", what: str = "carbon-ledger") -> str:
    return f"/api/v1/parks/{PARK}/sites/{site}/{what}"


def _post(ledger: dict[str, Any], body: dict[str, Any], who: str = "green", site: str = "green"):
    return ledger["client"].post(_url(site), json=body, headers=ledger["h"][who])


def _ok(ledger: dict[str, Any], body: dict[str, Any], who: str = "green") -> dict[str, Any]:
    answer = _post(ledger, body, who)
    assert answer.status_code == 201, answer.text
    return answer.json()["entry"]


DELIVERY = {
    "kind": "green_delivery",
    "period": "2026-06",
    "contract": "wind",
    "amount_mwh": 620.0,
    "reference": "JS-PX-2026-06-0417",
}
PURCHASE = {
    "kind": "certificate_purchase",
    "period": "2026",
    "certificates": 300,
    "batch": "GEC-B1",
    "vintage": "2026-05",
    "price_cny_per_mwh": 7.0,
    "reference": "GEC serials 320500000001-320500000300",
}
RETIREMENT = {**PURCHASE, "kind": "certificate_retirement", "certificates": 250}
del RETIREMENT["price_cny_per_mwh"]


def _assets(ledger: dict[str, Any], site: str = "green", who: str = "operator") -> dict:
    answer = ledger["client"].get(_url(site, "carbon-assets"), headers=ledger["h"][who])
    assert answer.status_code == 200, answer.text
    return answer.json()
