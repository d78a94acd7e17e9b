"""Bad PV array input in a scenario file: a clear error naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import vpp
from vpp.cli import main
from vpp.errors import ScenarioError

DEMO = Path(__file__).resolve().parent.parent / "scenarios" / "xushuguan-factory.yaml"


def _write(tmp_path: Path, array_index: int, key: str, value: object) -> Path:
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["site"]["pv"][array_index][key] = value
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("array_index", "key", "value", "expected"),
    [
        (0, "tilt_deg", 95, "less than or equal to 90"),
        (0, "tilt_deg", -3, "greater than or equal to 0"),
        (1, "azimuth_deg", 360, "less than 360"),
        (0, "dc_capacity_kw", 0, "greater than 0"),
        (1, "dc_capacity_kw", -400, "greater than 0"),
        (1, "temperature_model", "floating", "open_rack_glass_glass"),
    ],
)
def test_bad_array_values_name_file_and_key(tmp_path, array_index, key, value, expected):
    path = _write(tmp_path, array_index, key, value)
    with pytest.raises(ScenarioError) as info:
        vpp.load_scenario(path)
    message = str(info.value)
    assert "bad.yaml" in message
    assert f"site.pv[{array_index}].{key}" in message
    assert expected in message
    assert repr(value) in message or str(value) in message


def test_both_inverter_sizes_are_refused(tmp_path):
    path = _write(tmp_path, 0, "ac_capacity_kw", 1700)
    with pytest.raises(ScenarioError) as info:
        vpp.load_scenario(path)
    assert "dc_ac_ratio" in str(info.value) and "ac_capacity_kw" in str(info.value)


def test_cli_exits_2_and_writes_nothing(tmp_path, capsys):
    path = _write(tmp_path, 0, "tilt_deg", 120)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    assert not out.exists()
    assert "site.pv[0].tilt_deg" in capsys.readouterr().err


@pytest.mark.parametrize(("key", "value"), [("dc_capacity_kw", ".inf"), ("tilt_deg", ".nan")])
def test_nan_and_infinity_in_an_array_are_refused(tmp_path, key, value):
    path = _write(tmp_path, 0, key, "PLACEHOLDER")
    path.write_text(path.read_text().replace("PLACEHOLDER", value))
    with pytest.raises(ScenarioError) as info:
        vpp.load_scenario(path)
    (problem,) = info.value.problems
    assert problem.key == f"site.pv[0].{key}" and "finite number" in problem.message


def test_a_semicolon_weather_file_is_named_as_such(tmp_path, capsys):
    forecast = DEMO.parent.parent / "forecasts" / "xushuguan-2026-07-15.csv"
    lines = forecast.read_text(encoding="utf-8").splitlines()
    (tmp_path / "weather.csv").write_text(
        "\n".join(line if line.startswith("#") else line.replace(",", ";") for line in lines)
    )
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["horizon"] = {"start": "2026-07-15", "days": 1, "step": "15min"}
    data["site"]["weather"] = {"source": "file", "format": "csv", "file": "weather.csv"}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "weather.csv" in err and "';' (semicolon) as delimiter" in err
    assert "header 'timestamp;cloud_cover;temp_air;wind_speed'" in err
