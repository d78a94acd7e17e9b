"""The demo's ILLUSTRATIVE carbon-ledger entries (``vpp serve --demo``), on both databases.

``vpp serve --demo --db URL`` started twice on the same database runs
:func:`vpp.platform.demo.load_demo` twice (the park registered again, the readings
repeated, new keys); its ledger part (:func:`~vpp.platform.demo.load_demo_ledger`)
must record its five entries once. The
clock stands at 2026-07-15 12:00 in Shanghai: the entries are of 2025 and 2026.
Expectations by hand: biomedicine bought 2,000 certificates and retired 1,200 (800 held);
electronics was allocated 9,000 t for 2025 against 9,350 t verified (350 t short).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from vpp.platform import Platform
from vpp.platform.carbon_ledger.store import load_entries
from vpp.platform.carbon_ledger.view import carbon_assets
from vpp.platform.demo import LEDGER_REFERENCE, load_demo, load_demo_ledger
from vpp.platform.parks import list_sites, register_park
from vpp.portfolio.park import load_park

PARK_FILE = Path(__file__).resolve().parents[1] / "scenarios" / "park" / "xushuguan-park.yaml"
PARK = "xushuguan-park"
NOW = dt.datetime(2026, 7, 15, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
#: Sums of a few whole numbers [certificates, t].
TOL = 1e-9


@pytest.fixture
def demo(db_url: str) -> Iterator[tuple[Any, Any, pd.Timestamp]]:
    platform = Platform.open(db_url)
    platform.clock = lambda: NOW
    register_park(platform.sessions, PARK_FILE)
    park = load_park(PARK_FILE)
    yield platform, park, pd.Timestamp(NOW).tz_convert("Asia/Shanghai")
    platform.close()


def _entries(platform: Any) -> dict[str, list[dict[str, Any]]]:
    refs = list_sites(platform.sessions, PARK)
    held = load_entries(platform.sessions, [r.site_id for r in refs])
    return {r.site: held[r.site_id] for r in refs}


def test_demo_ledger_loads_once(demo: tuple[Any, Any, pd.Timestamp], tmp_path: Path) -> None:
    """The whole demo loading, twice on one database (a second ``vpp serve --demo --db``)."""
    platform = demo[0]
    assert load_demo(platform, tmp_path / "schedule").ledger_entries == 5
    first = _entries(platform)
    assert load_demo(platform, tmp_path / "schedule").ledger_entries == 0  # a second start
    again = _entries(platform)
    assert again == first
    assert {site: len(e) for site, e in again.items()} == {
        "biomedicine": 2,
        "electronics": 3,
        "logistics": 0,
        "rnd-offices": 0,
    }
    every = [e for entries in again.values() for e in entries]
    assert all(e["reference"].startswith(LEDGER_REFERENCE) for e in every)
    assert all(e["superseded_by"] is None for e in every)
    assert LEDGER_REFERENCE == "demo (illustrative)"


def test_demo_ledger_view(demo: tuple[Any, Any, pd.Timestamp]) -> None:
    """The view of the demo's entries: certificates without a target, allowances per year."""
    platform, park, now = demo
    load_demo_ledger(platform, PARK, park.sites, now)
    entries = _entries(platform)
    energy = {"load_kwh": 1000.0, "pv_kwh": 100.0}
    bio = carbon_assets(park.sites["biomedicine"], "2026-07", energy, 0.5, entries["biomedicine"])
    assert bio["target"] is None  # the demo sites declare no renewable target
    g = bio["certificates"]
    assert (g["bought"], g["retired"], g["held"]) == (2000.0, 1200.0, 800.0)
    assert g["bought_cost_cny"] == pytest.approx(2000 * 5.0, rel=TOL)
    assert g["needed"] is None
    assert bio["contracts"] == []  # no green contract: no deliveries
    ele = carbon_assets(park.sites["electronics"], "2026-07", energy, 0.5, entries["electronics"])
    years = {y["year"]: y for y in ele["allowances"]["years"]}
    assert set(years) == {"2025", "2026"}
    assert years["2025"]["held_t"] == pytest.approx(9000.0, rel=TOL)
    assert years["2025"]["surplus_vs_verified_t"] == pytest.approx(9000.0 - 9350.0, rel=TOL)
    assert years["2026"]["held_t"] == pytest.approx(8800.0, rel=TOL)
    assert years["2026"]["verified_emissions_t"] is None


def test_demo_ledger_says_what_it_leaves_out(
    demo: tuple[Any, Any, pd.Timestamp], capsys: pytest.CaptureFixture[str]
) -> None:
    """A park without the biomedicine site (a changed scenarios/park/ in the working
    folder): its two entries are not recorded, and a line names each."""
    platform, park, now = demo
    sites = {n: s for n, s in park.sites.items() if n != "biomedicine"}
    assert load_demo_ledger(platform, PARK, sites, now) == 3
    said = capsys.readouterr().out
    assert said.count("is not recorded: the park has no site 'biomedicine'") == 2, said
    assert "GEC purchase" in said and "GEC retirement" in said
