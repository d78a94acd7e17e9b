"""`vpp compare`: KPIs of run folders side by side; bad input exits 2."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from test_demo import demo_data

import vpp.cli
from vpp.report.compare import COMPARE_FILES, compare_table, read_summaries

#: Table values against summary.json [-].
TABLE_RTOL = 1e-9


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The demo shortened to 7 days, as is and with twice the battery."""
    root = tmp_path_factory.mktemp("compare")
    folders = []
    for label, scale in (("demo", 1.0), ("big-battery", 2.0)):
        data = demo_data(days=7)
        (bess,) = data["site"]["batteries"]
        for key in ("energy_kwh", "charge_power_kw", "discharge_power_kw"):
            bess[key] *= scale
        path = root / f"{label}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        out = root / "runs" / label
        assert vpp.cli.main(["run", str(path), "--out", str(out)]) == 0
        folders.append(out)
    return root, folders


def test_compare_two_demo_runs(two_runs, capsys):
    root, folders = two_runs
    out = root / "runs" / "compare"
    capsys.readouterr()
    code = vpp.cli.main(["compare", *map(str, folders), "--out", str(out)])
    assert code == 0
    for name in COMPARE_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp folders
    table = pd.read_csv(out / "compare.csv", index_col="run")
    assert list(table.index) == ["demo", "big-battery"]
    for folder in folders:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        row = table.loc[folder.name]
        assert row["total_cost_cny"] == pytest.approx(summary["total_cost_cny"], rel=TABLE_RTOL)
        for name in ("no-assets", "pv-only", "rule-based"):
            v = summary["kpis"]["vs_baseline"][name]
            assert row[f"savings_vs_{name}_cny"] == pytest.approx(v["savings_cny"], rel=TABLE_RTOL)
        assert row["savings_vs_pv-only_cny"] == pytest.approx(
            summary["savings_cny"], rel=TABLE_RTOL
        )
        assert 0.0 <= row["self_sufficiency_fraction"] <= 1.0
    # Twice the battery saves at least as much against the same pv-only baseline.
    assert (
        table.loc["big-battery", "savings_vs_pv-only_cny"]
        >= table.loc["demo", "savings_vs_pv-only_cny"]
    )
    printed = capsys.readouterr().out
    assert "savings_vs_rule-based_cny" in printed and "big-battery" in printed


def test_compare_missing_summary_exits_2(two_runs, tmp_path, capsys):
    _, folders = two_runs
    empty = tmp_path / "not-a-run"
    empty.mkdir()
    out = tmp_path / "compare"
    code = vpp.cli.main(["compare", str(folders[0]), str(empty), "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "not-a-run" in err and "summary.json" in err
    assert not out.exists()


@pytest.mark.parametrize(
    "key, value",
    [
        ("peak_import_kw", ["a", "b"]),
        ("kpis", {"total_cost_cny": "12"}),
        ("kpis", {"emissions_t": [1]}),
        ("kpis", {"emissions_t": []}),  # an empty list is not an absent section
        ("kpis", {"vs_baseline": {"pv-only": {"emission_reduction_t": []}}}),
        ("peak_import_kw", float("nan")),  # Python's JSON reads NaN and Infinity
        ("kpis", {"total_cost_cny": float("inf")}),
    ],
)
def test_a_damaged_summary_is_named_not_a_traceback(two_runs, tmp_path, capsys, key, value):
    """A summary.json edited by hand (a number as text, a list for a mapping) exits 2."""
    _, folders = two_runs
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    summary = json.loads((folders[0] / "summary.json").read_text(encoding="utf-8"))
    summary[key] = value
    (damaged / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    out = tmp_path / "compare"
    code = vpp.cli.main(["compare", str(folders[1]), str(damaged), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "damaged" in err and "summary.json" in err and "Traceback" not in err
    assert not out.exists()


def test_a_horizon_step_that_is_not_finite_exits_2(two_runs, tmp_path, capsys):
    """``horizon.step_h: NaN`` (the CLI fuzz test's find) is refused, not an empty cell."""
    _, folders = two_runs
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    summary = json.loads((folders[0] / "summary.json").read_text(encoding="utf-8"))
    summary["horizon"]["step_h"] = float("nan")
    (damaged / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    out = tmp_path / "compare"
    code = vpp.cli.main(["compare", str(folders[1]), str(damaged), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "horizon" in err and "finite" in err and "Traceback" not in err
    assert not out.exists()


# ---- horizons ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_run(two_runs):
    """The demo over 6 days instead of 7: cheaper in total, not per day."""
    root, _ = two_runs
    path = root / "short.yaml"
    path.write_text(yaml.safe_dump(demo_data(days=6), sort_keys=False), encoding="utf-8")
    out = root / "runs" / "short"
    assert vpp.cli.main(["run", str(path), "--out", str(out)]) == 0
    return out


def test_every_row_shows_its_horizon(two_runs):
    _, folders = two_runs
    table = compare_table(read_summaries(folders))
    for folder in folders:
        horizon = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["horizon"]
        row = table.loc[folder.name]
        assert pd.Timestamp(row["horizon_start"]) == pd.Timestamp(horizon["start"])
        assert pd.Timestamp(row["horizon_end"]) == pd.Timestamp(horizon["end"])
        assert row["horizon_days"] == 7.0 and row["horizon_step_h"] == 1.0
    assert not [c for c in table.columns if c.endswith("_per_day")]  # same horizon: totals


def test_different_horizons_are_refused(two_runs, short_run, tmp_path, capsys):
    _, folders = two_runs
    out = tmp_path / "compare"
    capsys.readouterr()
    code = vpp.cli.main(["compare", str(folders[0]), str(short_run), "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "different horizons" in err and "--allow-different-horizons" in err
    assert "demo: 2026-01-01T00:00:00+08:00 .. 2026-01-08T00:00:00+08:00 (7 days" in err
    assert "short: 2026-01-01T00:00:00+08:00 .. 2026-01-07T00:00:00+08:00 (6 days" in err
    assert not out.exists()


def test_different_horizons_allowed_compare_per_day(two_runs, short_run, tmp_path, capsys):
    _, folders = two_runs
    out = tmp_path / "compare"
    capsys.readouterr()
    runs = [str(folders[0]), str(short_run)]
    code = vpp.cli.main(["compare", *runs, "--out", str(out), "--allow-different-horizons"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "_per_day" in printed and "different horizons" in printed
    table = pd.read_csv(out / "compare.csv", index_col="run")
    assert list(table["horizon_days"]) == [7.0, 6.0]
    for run, days in (("demo", 7.0), ("short", 6.0)):
        summary = json.loads(
            ((folders[0] if run == "demo" else short_run) / "summary.json").read_text("utf-8")
        )
        row = table.loc[run]
        assert row["total_cost_cny_per_day"] == pytest.approx(
            summary["total_cost_cny"] / days, rel=TABLE_RTOL
        )
        assert row["location_based_t_per_day"] == pytest.approx(
            summary["kpis"]["emissions_t"]["location_based_t"] / days, rel=TABLE_RTOL
        )
        assert row["consumption_kwh_per_day"] == pytest.approx(
            summary["kpis"]["consumption_kwh"] / days, rel=TABLE_RTOL
        )
        assert "self_sufficiency_fraction_per_day" not in row  # shares are not totals
        assert "peak_import_max_kw_per_day" not in row
    # the totals make the shorter run look cheaper; per day it is not far from the week
    assert table.loc["short", "total_cost_cny"] < table.loc["demo", "total_cost_cny"]


def _write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_park_sizing_and_horizonless_folders_are_explained(tmp_path, capsys):
    """Summaries that are not a site run's say what they are and what to give instead."""
    park = tmp_path / "park"
    _write_json(park / "park_summary.json", {"park": "p", "mode": "park"})
    _write_json(park / "sites" / "north" / "summary.json", {"scenario": "north"})
    sizing = tmp_path / "sizing"
    _write_json(sizing / "summary.json", {"scenario": "s", "sizes": {}, "horizon_years": 1.0})
    bare = tmp_path / "bare"
    _write_json(bare / "summary.json", {"scenario": "b", "total_cost_cny": 1.0})
    listed = tmp_path / "listed"
    _write_json(listed / "summary.json", [1, 2, 3])
    out = tmp_path / "compare"
    code = vpp.cli.main(
        ["compare", str(park), str(sizing), str(bare), str(listed), "--out", str(out)]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "is a park run" in err and str(park / "sites" / "north") in err
    assert "is a sizing study" in err and str(sizing / "dispatch") in err
    assert "horizon.start/end" in err and str(bare / "summary.json") in err
    assert "does not hold a run summary" in err
    assert "Traceback" not in err
    assert not out.exists()
