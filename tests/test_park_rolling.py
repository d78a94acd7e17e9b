"""The park backtest (vpp.operation.park_rolling): the park operated day after day."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpp.operation.park_rolling import run_park_rolling
from vpp.portfolio.park import load_park

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "scenarios" / "park" / "sites"
#: Relative agreement of two optimal costs of the same problem [-].
COST_RTOL = 1e-7


def _park(tmp_path: Path, days: int, rolling: str, *, notified: bool = True) -> object:
    text = (ROOT / "scenarios" / "park" / "xushuguan-park.yaml").read_text(encoding="utf-8")
    text = text.replace("days: 1", f"days: {days}").replace("file: sites/", f"file: {SITES}/")
    if not notified:
        text = "\n".join(line for line in text.splitlines() if "notified_at" not in line)
    text += f"\noperation:\n  mode: rolling\n  rolling: {rolling}\n"
    path = tmp_path / "park.yaml"
    path.write_text(text, encoding="utf-8")
    return load_park(path, allow_outside=True)


def test_perfect_forecasts_over_the_horizon_cost_what_perfect_foresight_costs(tmp_path):
    """Windows that reach the horizon's end on perfect forecasts: re-planning each day
    from the settled state keeps the perfect-foresight optimum (Bellman), events and
    feeder limit included."""
    park = _park(
        tmp_path,
        3,
        "{reoptimize_hour: 15, load_forecast: perfect, pv_forecast: perfect, lookahead_h: 72}",
        notified=False,
    )
    result = run_park_rolling(park, lookahead_past_end=False)
    rolling = result.summary["rolling"]
    assert rolling["decisions"] == 4  # 00:00 of the first day, then 15:00 of each day
    perfect = rolling["perfect"]
    assert result.summary["net_cost_cny"] == pytest.approx(perfect["net_cost_cny"], rel=COST_RTOL)
    for name, cost in perfect["by_site_cny"].items():
        assert result.sites[name].summary["total_cost_cny"] == pytest.approx(cost, rel=1e-6)
    assert rolling["shared_limit_violation"]["steps"] == 0


def test_an_event_announced_after_a_decision_is_not_planned_by_it(tmp_path):
    """The event is notified at 09:00 of its day: the 00:00 decision cannot know it, the
    15:00 decision of the day before is the run's start, so the event is planned by no
    day-ahead window and the perfect-forecast park costs more than perfect foresight
    (which knows the event from the start)."""
    park = _park(
        tmp_path,
        2,
        "{reoptimize_hour: 15, load_forecast: perfect, pv_forecast: perfect, lookahead_h: 48}",
    )
    result = run_park_rolling(park, lookahead_past_end=False)
    rolling = result.summary["rolling"]
    assert result.summary["net_cost_cny"] > rolling["perfect"]["net_cost_cny"] + 1.0


def test_imperfect_forecasts_cost_more_and_violations_are_counted(tmp_path):
    park = _park(
        tmp_path,
        2,
        "{reoptimize_hour: 15, load_forecast: profile, pv_forecast: synthetic, lookahead_h: 48}",
    )
    result = run_park_rolling(park)
    rolling = result.summary["rolling"]
    assert rolling["cost_of_imperfect_forecasts_cny"] > 0.0
    net = result.schedule["park_net_import_kw"].abs()
    limit = park.spec.shared_limit_kw
    assert rolling["shared_limit_violation"]["steps"] == int((net > limit + 1e-6).sum())
    for site in result.sites.values():
        assert site.summary["mode"] == "park-rolling"
        assert len(site.schedule) == 2 * 96
