"""PV inputs of a run: modelled arrays on the site's weather, and forecast issue times."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import vpp
from vpp.errors import DataError
from vpp.inputs.site import build_inputs
from vpp.scenario import validate_scenario

ROOT = Path(__file__).resolve().parent.parent
NEXT_DAY = ROOT / "scenarios" / "xushuguan-factory-next-day.yaml"


def _next_day(tmp_path: Path, forecast_text: str) -> vpp.scenario.Scenario:
    forecast = tmp_path / "forecast.csv"
    forecast.write_text(forecast_text, encoding="utf-8")
    data = yaml.safe_load(NEXT_DAY.read_text(encoding="utf-8"))
    data["site"]["weather"]["file"] = str(forecast)
    return validate_scenario(data, base_dir=NEXT_DAY.parent)


def _sample_text() -> str:
    data = yaml.safe_load(NEXT_DAY.read_text(encoding="utf-8"))
    return (NEXT_DAY.parent / data["site"]["weather"]["file"]).read_text(encoding="utf-8")


def test_a_forecast_issued_before_the_horizon_is_used(tmp_path: Path) -> None:
    inputs = build_inputs(_next_day(tmp_path, _sample_text()))
    pv = inputs.series[[c for c in inputs.series if c.endswith("_available_kw")]]
    assert pv.to_numpy().sum() > 0.0
    assert "forecast.csv" in (inputs.weather_source or "")


def test_a_forecast_issued_after_the_horizon_start_is_refused(tmp_path: Path) -> None:
    text = _sample_text()
    first = text.splitlines()[0]
    assert first.startswith("# issued_at:")
    late = text.replace(first, "# issued_at: 2026-07-15T06:00:00+08:00", 1)
    with pytest.raises(DataError) as info:
        build_inputs(_next_day(tmp_path, late))
    message = str(info.value)
    assert "forecast.csv" in message
    assert "issued_at" in message
    assert "2026-07-15T06:00:00+08:00" in message


def test_the_demo_uses_modelled_arrays_on_the_typical_year() -> None:
    scenario = vpp.load_scenario(ROOT / "scenarios" / "xushuguan-factory.yaml")
    kinds = {a.kind for a in scenario.site.pv}
    assert kinds == {"rooftop", "carport"}
    data = scenario.model_dump()
    data["horizon"] = {"start": "2026-07-01", "days": 2, "step": "1h"}
    short = validate_scenario(data)
    inputs = build_inputs(short)
    assert "typical year" in (inputs.weather_source or "").lower()
    roof = inputs.series["roof_available_kw"].to_numpy()
    assert roof.max() > 0.3 * 2000 / 1.15  # a July day reaches a good share of the AC rating
    assert roof[:5].max() == 0.0  # night
