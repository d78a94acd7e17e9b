"""Bad input: the right exception, a message that says where and what, the right exit code.

Each case starts from a small valid scenario (24 h, a load and a price series, a
battery) and breaks one thing. The message must name the file, the key or column and,
where relevant, the timestamp and the value. A few cases also go through the command
line: exit code 2 (bad input) or 3 (infeasible), and no output folder left behind.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from helpers import battery, scenario_dict, solve_case, write_scenario

import vpp
import vpp.cli
from vpp.errors import (
    EXIT_BAD_INPUT,
    EXIT_INFEASIBLE,
    DataError,
    InfeasibleError,
    Problem,
    ScenarioError,
    VppError,
)

N = 24


@pytest.fixture
def case(tmp_path: Path) -> tuple[Path, dict]:
    """A valid scenario dict and its folder (series files already written)."""
    data = scenario_dict(
        tmp_path,
        [100.0] * N,
        price=[0.5] * 8 + [1.0] * 16,
        batteries=[battery(energy_kwh=100.0, power_kw=50.0)],
    )
    return tmp_path, data


def raises(folder: Path, data: dict, kind: type[VppError]) -> tuple[VppError, Path]:
    """Write the scenario, load and run it; return the error (of exactly ``kind``)."""
    path = write_scenario(folder, data)
    with pytest.raises(VppError) as info:
        vpp.run(vpp.load_scenario(path))
    assert type(info.value) is kind, f"{type(info.value).__name__}: {info.value}"
    assert info.value.problems
    return info.value, path


def problem_with(err: VppError, key: str) -> Problem:
    """The problem of ``err`` whose key is ``key`` (exactly one)."""
    found = [p for p in err.problems if p.key == key]
    assert len(found) == 1, f"no single problem at {key!r} in: {err}"
    return found[0]


def run_cli(folder: Path, data: dict, capsys: pytest.CaptureFixture) -> tuple[int, Path, str]:
    """``vpp run <scenario> --out <folder>/out``: exit code, out path, stderr."""
    path = write_scenario(folder, data)
    out = folder / "runs" / "out"
    before = set(folder.rglob("*"))
    code = vpp.cli.main(["run", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert not out.exists(), "a failed run must not create its output folder"
    after = set(folder.rglob("*"))
    assert after <= before | {folder / "runs"}, f"left behind: {sorted(after - before)}"
    return code, out, err


def rewrite(path: Path, change) -> None:
    """Apply ``change`` to a series CSV (read as text columns) and write it back."""
    frame = pd.read_csv(path, dtype=str)
    frame = change(frame)
    frame.to_csv(path, index=False)


# ---------------------------------------------------------------- scenario file


def test_unknown_key(case, capsys):
    folder, data = case
    data["site"]["batteries"][0]["capcity_kwh"] = 5
    err, path = raises(folder, data, ScenarioError)
    p = problem_with(err, "site.batteries[0].capcity_kwh")
    assert p.file == str(path)
    assert "unknown key 'capcity_kwh'" in str(err)
    assert "energy_kwh" in p.allowed  # says what is allowed
    code, _, stderr = run_cli(folder, data, capsys)
    assert code == EXIT_BAD_INPUT
    assert "capcity_kwh" in stderr and str(path) in stderr


def test_unknown_top_level_key(case):
    folder, data = case
    data["horizont"] = {"days": 1}
    err, path = raises(folder, data, ScenarioError)
    p = problem_with(err, "horizont")
    assert p.file == str(path)


def test_wrong_type(case):
    folder, data = case
    data["site"]["batteries"][0]["energy_kwh"] = "lots"
    err, path = raises(folder, data, ScenarioError)
    p = problem_with(err, "site.batteries[0].energy_kwh")
    assert p.file == str(path)
    assert p.value == "'lots'"
    assert "number" in p.message


@pytest.mark.parametrize("key", ["energy_kwh", "charge_power_kw", "discharge_power_kw"])
def test_negative_capacity(case, key):
    folder, data = case
    data["site"]["batteries"][0][key] = -100
    err, path = raises(folder, data, ScenarioError)
    p = problem_with(err, f"site.batteries[0].{key}")
    assert p.file == str(path)
    assert p.value == "-100"
    assert "greater than 0" in p.message


def test_inverted_soc_bounds(case, capsys):
    folder, data = case
    data["site"]["batteries"][0].update(
        soc_min_fraction=0.8, soc_max_fraction=0.2, soc_initial_fraction=0.5
    )
    err, path = raises(folder, data, ScenarioError)
    p = problem_with(err, "site.batteries[0]")
    assert p.file == str(path)
    assert "soc_min_fraction 0.8" in p.message and "soc_max_fraction 0.2" in p.message
    code, _, _ = run_cli(folder, data, capsys)
    assert code == EXIT_BAD_INPUT


@pytest.mark.parametrize("key", ["charge_efficiency", "discharge_efficiency"])
@pytest.mark.parametrize(("value", "shown"), [(0, "0"), (1.2, "1.2"), (-0.5, "-0.5")])
def test_efficiency_outside_0_1(case, key, value, shown):
    folder, data = case
    data["site"]["batteries"][0][key] = value
    err, path = raises(folder, data, ScenarioError)
    p = problem_with(err, f"site.batteries[0].{key}")
    assert p.file == str(path)
    assert p.value == shown


def test_efficiency_of_exactly_one_is_allowed(case):
    folder, data = case
    data["site"]["batteries"][0].update(charge_efficiency=1.0, discharge_efficiency=1.0)
    solve_case(folder, data)


def test_step_that_does_not_divide_an_hour(case, capsys):
    folder, data = case
    data["horizon"]["step"] = "7min"
    err, path = raises(folder, data, ScenarioError)
    p = problem_with(err, "horizon.step")
    assert p.file == str(path)
    assert p.value == "'7min'"
    assert "divide an hour" in p.message
    code, _, stderr = run_cli(folder, data, capsys)
    assert code == EXIT_BAD_INPUT
    assert "7min" in stderr


def test_scenario_problems_are_raised_together(case):
    folder, data = case
    data["site"]["batteries"][0].update(energy_kwh=-1, charge_efficiency=1.5, colour="red")
    err, _ = raises(folder, data, ScenarioError)
    keys = {p.key for p in err.problems}
    assert {
        "site.batteries[0].energy_kwh",
        "site.batteries[0].charge_efficiency",
        "site.batteries[0].colour",
    } <= keys


def test_missing_scenario_file(tmp_path, capsys):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScenarioError) as info:
        vpp.load_scenario(path)
    assert str(path) in str(info.value)
    out = tmp_path / "out"
    assert vpp.cli.main(["run", str(path), "--out", str(out)]) == EXIT_BAD_INPUT
    assert not out.exists()


def test_horizon_not_a_whole_number_of_steps(case):
    folder, data = case
    data["horizon"]["end"] = "2026-01-05T23:30:00"
    err, path = raises(folder, data, ScenarioError)
    assert any(p.key is not None and p.key.startswith("horizon") for p in err.problems)
    assert str(path) in str(err)


def test_horizon_not_a_whole_number_of_steps_cli(case, capsys):
    folder, data = case
    data["horizon"]["end"] = "2026-01-05T23:30:00"
    code, _, _ = run_cli(folder, data, capsys)
    assert code == EXIT_BAD_INPUT


# ---------------------------------------------------------------- series files


def test_missing_series_file(case, capsys):
    folder, data = case
    data["site"]["load"]["series"]["file"] = "nope.csv"
    err, _ = raises(folder, data, DataError)
    p = problem_with(err, "site.load.series column 'load_kw'")
    assert p.file == str(folder.resolve() / "nope.csv")
    assert "does not exist" in p.message
    code, _, stderr = run_cli(folder, data, capsys)
    assert code == EXIT_BAD_INPUT
    assert "nope.csv" in stderr


def test_missing_column(case):
    folder, data = case
    data["site"]["grid"]["energy_price"]["series"]["column"] = "price"
    err, _ = raises(folder, data, DataError)
    p = problem_with(err, "site.grid.energy_price.series column 'price'")
    assert p.file == str(folder.resolve() / "price.csv")
    assert "'price_cny_per_kwh'" in p.value  # lists the columns that are there


def test_nan_in_series(case, capsys):
    folder, data = case
    rewrite(folder / "load.csv", lambda f: f.assign(load_kw=f["load_kw"].where(f.index != 5)))
    err, _ = raises(folder, data, DataError)
    p = problem_with(err, "site.load.series column 'load_kw'")
    assert p.file == str(folder.resolve() / "load.csv")
    assert p.timestamp == "2026-01-05T05:00:00+08:00"
    assert "NaN" in p.message
    assert "line 7" in p.value  # data row 6 is line 7 (after the header)
    code, _, _ = run_cli(folder, data, capsys)
    assert code == EXIT_BAD_INPUT


def test_non_numeric_value_in_series(case):
    folder, data = case
    rewrite(folder / "load.csv", lambda f: f.assign(load_kw=f["load_kw"].mask(f.index == 9, "1,5")))
    err, _ = raises(folder, data, DataError)
    p = problem_with(err, "site.load.series column 'load_kw'")
    assert p.timestamp == "2026-01-05T09:00:00+08:00"
    assert "'1,5'" in p.value


def test_gap_in_series(case):
    folder, data = case
    rewrite(folder / "load.csv", lambda f: f.drop(index=[7, 8]))
    err, _ = raises(folder, data, DataError)
    p = problem_with(err, "site.load.series column 'load_kw'")
    assert p.file == str(folder.resolve() / "load.csv")
    assert "gap" in p.message and "2 missing step(s)" in p.message
    assert "2026-01-05T06:00:00+08:00" in p.message  # the last timestamp before the gap
    assert p.timestamp == "2026-01-05T07:00:00+08:00"  # the first one missing
    assert "2026-01-05T09:00:00+08:00" in p.value  # what came instead


def test_series_shorter_than_horizon(case, capsys):
    folder, data = case
    rewrite(folder / "load.csv", lambda f: f.iloc[:20])
    err, _ = raises(folder, data, DataError)
    p = problem_with(err, "site.load.series column 'load_kw'")
    assert p.file == str(folder.resolve() / "load.csv")
    assert "does not cover the horizon" in p.message
    assert p.timestamp == "2026-01-05T20:00:00+08:00"
    assert "20 rows" in p.value
    code, _, _ = run_cli(folder, data, capsys)
    assert code == EXIT_BAD_INPUT


def test_non_monotonic_timestamps(case):
    folder, data = case

    def swap(f):
        f.iloc[[3, 4]] = f.iloc[[4, 3]].to_numpy()
        return f

    rewrite(folder / "load.csv", swap)
    err, _ = raises(folder, data, DataError)
    p = problem_with(err, "site.load.series column 'load_kw'")
    assert p.file == str(folder.resolve() / "load.csv")
    assert "backwards" in p.message
    assert "2026-01-05T04:00:00+08:00" in p.message
    assert p.timestamp.startswith("2026-01-05T03:00:00+08:00")
    assert "line 6" in p.timestamp


def test_duplicated_timestamps(case):
    folder, data = case

    def dup(f):
        f.loc[4, "timestamp"] = f.loc[3, "timestamp"]
        return f

    rewrite(folder / "load.csv", dup)
    err, _ = raises(folder, data, DataError)
    p = problem_with(err, "site.load.series column 'load_kw'")
    assert p.file == str(folder.resolve() / "load.csv")
    assert "duplicated" in p.message
    assert p.timestamp.startswith("2026-01-05T03:00:00+08:00")


def test_timezone_naive_series_without_timezone(case, capsys):
    folder, data = case
    rewrite(folder / "load.csv", lambda f: f.assign(timestamp=f["timestamp"].str[:19]))
    err, _ = raises(folder, data, DataError)
    p = problem_with(err, "site.load.series column 'load_kw'")
    assert p.file == str(folder.resolve() / "load.csv")
    assert "naive" in p.message
    assert p.value == "'2026-01-05T00:00:00'"
    assert "timezone: Asia/Shanghai" in p.fix
    code, _, _ = run_cli(folder, data, capsys)
    assert code == EXIT_BAD_INPUT


def test_timezone_naive_series_with_timezone_is_accepted(case):
    folder, data = case
    rewrite(folder / "load.csv", lambda f: f.assign(timestamp=f["timestamp"].str[:19]))
    data["site"]["load"]["series"]["timezone"] = "Asia/Shanghai"
    result = solve_case(folder, data)
    assert result.schedule["load_kw"].to_numpy() == pytest.approx([100.0] * N)


def test_negative_load(case):
    folder, data = case
    rewrite(folder / "load.csv", lambda f: f.assign(load_kw=f["load_kw"].mask(f.index == 2, "-5")))
    err, _ = raises(folder, data, DataError)
    p = problem_with(err, "site.load.series column 'load_kw'")
    assert p.file == str(folder.resolve() / "load.csv")
    assert p.timestamp.startswith("2026-01-05") and "02:00" in p.timestamp
    assert p.value == "-5 kW"


def test_series_problems_are_raised_together(case):
    folder, data = case
    rewrite(folder / "load.csv", lambda f: f.assign(load_kw=f["load_kw"].where(f.index != 5)))
    data["site"]["grid"]["energy_price"]["series"]["column"] = "price"
    err, _ = raises(folder, data, DataError)
    problem_with(err, "site.load.series column 'load_kw'")
    problem_with(err, "site.grid.energy_price.series column 'price'")


# ---------------------------------------------------------------- infeasible


def test_load_above_import_limit(case, capsys):
    # No battery, no PV: 400 kW of load at 10:00-12:00 against a 300 kW import limit.
    folder, data = case
    del data["site"]["batteries"]
    data["site"]["grid"]["import_limit_kw"] = 300.0
    rewrite(
        folder / "load.csv",
        lambda f: f.assign(load_kw=f["load_kw"].mask(f.index.isin([10, 11, 12]), "400")),
    )
    err, _ = raises(folder, data, InfeasibleError)
    p = problem_with(err, "site.grid.import_limit_kw")
    assert "import limit of 300 kW" in p.message
    assert re.match(r"2026-01-05[ T]10:00:00\+08:00$", p.timestamp)
    assert "100.0 kW" in p.message  # the shortfall
    assert "3 step(s)" in p.message
    code, _, stderr = run_cli(folder, data, capsys)
    assert code == EXIT_INFEASIBLE
    assert "import limit" in stderr and "10:00" in stderr


def test_shiftable_window_too_small(case, capsys):
    # 500 kWh at <= 100 kW inside 08:00-12:00: at most 400 kWh fit.
    folder, data = case
    data["site"]["flexible_loads"] = [
        {
            "kind": "shiftable",
            "name": "batch",
            "energy_kwh": 500.0,
            "max_power_kw": 100.0,
            "window_start": "08:00",
            "window_end": "12:00",
        }
    ]
    err, _ = raises(folder, data, InfeasibleError)
    text = str(err)
    assert "'batch'" in text
    assert "08:00-12:00" in text
    assert "500" in text and "400" in text
    assert re.search(r"2026-01-05[ T]08:00:00\+08:00", text)
    code, _, stderr = run_cli(folder, data, capsys)
    assert code == EXIT_INFEASIBLE
    assert "batch" in stderr


def test_failed_run_keeps_previous_output(case, capsys):
    # A good run writes the folder; a later failing run into it leaves it as it was.
    folder, data = case
    path = write_scenario(folder, data)
    out = folder / "out"
    assert vpp.cli.main(["run", str(path), "--out", str(out)]) == 0

    def files() -> dict[str, bytes]:
        return {
            p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
        }

    before = files()
    written = {name for name in before if not name.startswith("figures/")}
    assert written - {".vpp-manifest.json"} == {
        "schedule.parquet",
        "schedule.csv",
        "summary.json",
        "bill.csv",
        "dispatch.png",
        "report.html",
    }
    assert "figures/peak_import.png" in before
    data["site"]["grid"]["import_limit_kw"] = 10.0
    path = write_scenario(folder, data)
    assert vpp.cli.main(["run", str(path), "--out", str(out)]) == EXIT_INFEASIBLE
    assert files() == before
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []
    capsys.readouterr()


def test_negative_pv_profile_names_file_and_column(case):
    folder, data = case
    data = scenario_dict(
        folder, [100.0] * N, price=[0.5] * N, pv_kw=[0.0] * 5 + [-3.0] + [0.0] * 18
    )
    err, _ = raises(folder, data, DataError)
    (p,) = err.problems
    assert p.timestamp.startswith("2026-01-05") and "05:00" in p.timestamp
    assert p.value == "-3 kW"
    assert p.file == str(folder.resolve() / "pv.csv")
    assert "pv_kw" in p.key


def test_negative_curtailable_power_series(case):
    folder, data = case
    data = scenario_dict(
        folder, [100.0] * N, price=[0.5] * N, curtailable_kw=[5.0] * 3 + [-10.0] + [5.0] * 20
    )
    err, _ = raises(folder, data, DataError)
    (p,) = err.problems
    assert p.file == str(folder.resolve() / "curtailable.csv")
    assert "power_kw" in p.key
    assert p.timestamp.startswith("2026-01-05") and "03:00" in p.timestamp
    assert p.value == "-10 kW"


def test_key_paths_inside_union_entries(case):
    folder, data = case
    data["site"]["flexible_loads"] = [
        {
            "kind": "shiftable",
            "name": "batch",
            "energy_kwh": -1.0,
            "max_power_kw": 100.0,
            "window_start": "08:00",
            "window_end": "12:00",
        }
    ]
    data["site"]["pv"] = [{"kind": "clearsky", "name": "roof", "dc_capacity_kw": 100, "tilt": 5}]
    err, path = raises(folder, data, ScenarioError)
    keys = sorted(p.key for p in err.problems)
    assert keys == ["site.flexible_loads[0].energy_kwh", "site.pv[0].tilt"]
    unknown = problem_with(err, "site.pv[0].tilt")
    assert unknown.allowed is not None and "tilt_deg" in unknown.allowed


# ---- NaN and infinity, written as YAML writes them -----------------------------------


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("    export_price_cny_per_kwh: .nan", "site.grid.export_price_cny_per_kwh"),
        ("    export_price_cny_per_kwh: -.inf", "site.grid.export_price_cny_per_kwh"),
        ("    import_limit_kw: .inf", "site.grid.import_limit_kw"),
        ("    demand_charge_cny_per_kw_month: .NaN", "site.grid.demand_charge_cny_per_kw_month"),
    ],
)
def test_nan_and_infinity_in_a_number_are_refused(case, capsys, line, key):
    folder, data = case
    data["site"]["grid"].pop(key.rsplit(".", 1)[1], None)  # written once, in the YAML below
    path = write_scenario(folder, data)
    text = path.read_text().replace("  grid:\n", f"  grid:\n{line}\n", 1)
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        vpp.load_scenario(path)
    (p,) = info.value.problems
    assert p.key == key and "finite number" in p.message
    assert vpp.cli.main(["run", str(path), "--out", str(folder / "o")]) == EXIT_BAD_INPUT
    assert "finite number" in capsys.readouterr().err and not (folder / "o").exists()


@pytest.mark.parametrize("scale", [".inf", ".nan", "1.0e+7"])
def test_a_series_scale_that_is_not_finite_or_too_large(case, scale):
    folder, data = case
    path = write_scenario(folder, data)
    path.write_text(
        path.read_text().replace("column: load_kw", f"column: load_kw\n      scale: {scale}")
    )
    with pytest.raises(ScenarioError) as info:
        vpp.load_scenario(path)
    (p,) = info.value.problems
    assert p.key == "site.load.series.scale"


def test_infinity_in_a_series_file(case, capsys):
    folder, data = case
    rewrite(
        folder / "price.csv",
        lambda f: f.assign(price_cny_per_kwh=f["price_cny_per_kwh"].mask(f.index == 4, "inf")),
    )
    err, _ = raises(folder, data, DataError)
    p = problem_with(err, "site.grid.energy_price.series column 'price_cny_per_kwh'")
    assert "infinite" in p.message and p.timestamp == "2026-01-05T04:00:00+08:00"
    code, _, _ = run_cli(folder, data, capsys)
    assert code == EXIT_BAD_INPUT
