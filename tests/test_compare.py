"""`vpp compare`: KPIs of run folders side by side; bad input exits 2."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from test_demo import demo_data

import vpp.cli
from vpp.report.compare import COMPARE_FILES

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
