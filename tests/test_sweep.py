"""Sweeps: the example runs locally and on Dask, agrees with direct runs, and bad input fails."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

import vpp
from vpp.cli import main
from vpp.errors import ScenarioError
from vpp.planning.sweep import run_sweep
from vpp.planning.sweep_definition import combinations, load_sweep, scenario_data
from vpp.report.sweep_figures import write_sweep
from vpp.scenario.load import validate_scenario

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "scenarios" / "xushuguan-factory.yaml"
EXAMPLE = ROOT / "scenarios" / "sweeps" / "battery-and-tariff.yaml"
#: Metrics of a sweep run vs a direct vpp.run of the same scenario (same LP, same HiGHS) [-].
METRIC_RTOL = 1e-9
#: Days per run in the tests (the example uses 14).
TEST_DAYS = 2


def _write(folder: Path, name: str, data: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _small_example(folder: Path) -> Path:
    """The shipped example with a shorter horizon and the scenario path made absolute."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["scenario"] = str(DEMO)
    data["parameters"]["horizon.days"] = [TEST_DAYS]
    return _write(folder, "battery-and-tariff-small.yaml", data)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return load_sweep(_small_example(tmp_path_factory.mktemp("sweep")), allow_outside=True)


@pytest.fixture(scope="module")
def local_result(small):
    return run_sweep(small, workers=2)


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster


def _metric_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c.endswith(("_cny", "_kw")) or ".equivalent" in c]


def test_example_file_is_valid():
    sweep = load_sweep(EXAMPLE)
    assert sweep.runs == 18
    assert sweep.scenario_file.resolve() == DEMO.resolve()


def test_example_runs_every_combination_locally(small, local_result):
    table = local_result.table
    assert len(table) == small.runs == 18
    assert (table["status"] == "ok").all(), table["error"].dropna().tolist()
    assert table["error"].isna().all()
    assert (table["solver_status"] == "Optimal").all()
    energy = "site.batteries[0].energy_kwh"
    calendar = "site.grid.energy_price.calendar"
    seen = set(zip(table[energy], table[calendar]))
    assert seen == {
        (e, c)
        for e in (1000, 2000, 4000)
        for c in ("jiangsu-2025-industrial", "jiangsu-2023-industrial")
    }
    for column in ("total_cost_cny", "savings_cny", "peak_shaving_max_kw"):
        assert table[column].notna().all()
    assert "kpis.equivalent_full_cycles.bess" in table
    assert local_result.unknown_metrics == []


def test_sweep_metrics_equal_direct_runs(small, local_result):
    """Each row equals vpp.run of its combination; the combined power key sets both."""
    table = local_result.table.set_index("run")
    base_dir = small.scenario_file.parent.resolve()
    for i, combination in enumerate(combinations(small)):
        if i % 3:  # every third combination: all energies, powers and both calendars
            continue
        scenario = validate_scenario(scenario_data(small, combination), base_dir=base_dir)
        power = combination[
            "site.batteries[0].charge_power_kw, site.batteries[0].discharge_power_kw"
        ]
        battery = scenario.site.batteries[0]
        assert battery.charge_power_kw == battery.discharge_power_kw == power
        assert scenario.horizon.days == TEST_DAYS
        summary = vpp.run(scenario).summary
        for column in ("total_cost_cny", "savings_cny", "peak_shaving_max_kw"):
            assert math.isclose(table.loc[i, column], summary[column], rel_tol=METRIC_RTOL)


def test_example_on_dask_equals_local(small, local_result, dask_cluster):
    result = run_sweep(small, scheduler=dask_cluster.scheduler_address)
    assert result.where.startswith("Dask scheduler")
    local, remote = local_result.table, result.table
    assert (remote["status"] == "ok").all()
    keep = [c for c in local.columns if c != "seconds"]
    pd.testing.assert_frame_equal(
        local[keep].drop(columns=_metric_columns(local)),
        remote[keep].drop(columns=_metric_columns(remote)),
    )
    for column in _metric_columns(local):
        for a, b in zip(local[column], remote[column]):
            assert math.isclose(a, b, rel_tol=METRIC_RTOL)


def test_outputs_written(small, local_result, tmp_path):
    out = tmp_path / "out"
    written = write_sweep(local_result.table, local_result.definition(), out)
    names = {p.name for p in written}
    assert {"results.parquet", "results.csv", "sweep.json"} <= names
    assert "heatmap_total_cost_cny.png" in names
    assert all(p.is_file() and p.stat().st_size > 0 for p in written)
    back = pd.read_parquet(out / "results.parquet")
    assert len(back) == 18
    assert len(pd.read_csv(out / "results.csv")) == 18
    info = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    assert info["runs"] == 18 and info["ok"] == 18 and info["failed"] == 0
    assert not list(tmp_path.glob(".out.*"))  # no temporary folder left


def test_failed_run_is_recorded_and_cli_exits_1(tmp_path, monkeypatch, capsys):
    """An import limit far below the load is infeasible: that run fails, the other runs."""
    sweep = _write(
        tmp_path,
        "limits.yaml",
        {
            "scenario": str(DEMO),
            "parameters": {"site.grid.import_limit_kw": [5000, 100], "horizon.days": [1]},
            "metrics": ["total_cost_cny", "peak_shaving_max_kw", "no_such_metric_kw"],
        },
    )
    monkeypatch.chdir(tmp_path)
    code = main(["sweep", str(sweep), "--workers", "2", "--allow-outside"])
    captured = capsys.readouterr()
    assert code == 1
    assert "1 of 2 runs failed" in captured.err
    assert "no_such_metric_kw" in captured.err  # warned, not fatal
    out = tmp_path / "runs" / "sweeps" / "limits"
    table = pd.read_csv(out / "results.csv")
    assert list(table["status"]) == ["ok", "failed"]
    assert table.loc[1, "error"].startswith("InfeasibleError:")
    assert "site.grid.import_limit_kw" in table.loc[1, "error"]
    assert table.loc[0, "total_cost_cny"] > 0
    assert math.isnan(table.loc[1, "total_cost_cny"])
    assert (out / "chart_total_cost_cny.png").is_file()  # one parameter varies: a chart
    assert "5000" in captured.out and "failed" in captured.out


# ---------------------------------------------------------------------------- bad input


def _sweep(tmp_path: Path, **changes) -> Path:
    data = {
        "scenario": str(DEMO),
        "mode": "run",
        "parameters": {"site.batteries[0].energy_kwh": [1000, 2000], "horizon.days": [1]},
    }
    data.update(changes)
    return _write(tmp_path, "bad.yaml", data)


def _error(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_sweep(path, allow_outside=True)  # the demo scenario is outside tmp_path
    assert info.value.exit_code == 2
    return str(info.value)


def test_unknown_path_lists_valid_paths(tmp_path):
    text = _error(_sweep(tmp_path, parameters={"site.batteries[0].energy_kw": [1000]}))
    assert "bad.yaml" in text and "parameters.site.batteries[0].energy_kw" in text
    assert "did you mean 'site.batteries[0].energy_kwh'" in text
    assert "site.batteries[0].charge_power_kw" in text  # a sibling


def test_index_out_of_range_and_unset_parent(tmp_path):
    text = _error(_sweep(tmp_path, parameters={"site.batteries[1].energy_kwh": [1]}))
    assert "has 1 item(s), no [1]" in text and "site.batteries[0]" in text
    text = _error(_sweep(tmp_path, parameters={"site.grid.energy_price.series.file": ["x"]}))
    assert "is not set in the scenario (null)" in text


def test_empty_sweep_and_empty_values(tmp_path):
    assert "varies nothing" in _error(_sweep(tmp_path, parameters={}))
    text = _error(_sweep(tmp_path, parameters={"horizon.days": []}))
    assert "empty list of values" in text and "parameters.horizon.days" in text
    assert "must be a list" in _error(_sweep(tmp_path, parameters={"horizon.days": 3}))


def test_unknown_mode_key_and_missing_scenario(tmp_path):
    text = _error(_sweep(tmp_path, mode="optimise", extra=1, scenario="nowhere.yaml"))
    assert "unknown mode" in text and "allowed: run, size" in text
    assert "unknown key 'extra'" in text
    assert "scenario file not found" in text and "nowhere.yaml" in text


def test_invalid_combination_is_named(tmp_path, capsys):
    path = _sweep(tmp_path, parameters={"site.batteries[0].energy_kwh": [1000, -5]})
    text = _error(path)
    assert "combination 1 (site.batteries[0].energy_kwh=-5)" in text
    assert "greater than 0" in text
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--allow-outside"]) == 2
    assert "combination 1" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_malformed_path(tmp_path):
    text = _error(_sweep(tmp_path, parameters={"site.batteries[x].energy_kwh": [1]}))
    assert "not a key path" in text and "site.batteries[x].energy_kwh" in text
