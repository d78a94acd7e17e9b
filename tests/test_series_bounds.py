"""A series' bounds hold on every row of its file, before ``resample: mean`` averages rows.

Before session 8 the bounds were checked on the values after resampling: a 15-minute
import limit of -50 kW among three rows of 500 kW averaged to 362.5 kW for its hour and
was accepted. Now each bounded kind is refused row by row (exit 2), naming the file, the
key with the column, the raw row's own timestamp and line, its value, what is allowed and
the fix (:mod:`vpp.series_bounds`). Every hostile file below averages into its bounds on
the hourly horizon, so each case is accepted without the row check. A negative price is
allowed (prices are bounded only in magnitude) and stays accepted.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from helpers import index, scenario_dict, write_csv, write_scenario

import vpp.cli
from vpp.errors import EXIT_BAD_INPUT, DataError
from vpp.timeseries import SERIES_LIMIT, Horizon

#: 15-minute rows of one day, read onto an hourly horizon with `resample: mean`.
ROWS = 96
#: The hostile row: 03:30, the third quarter of hour 3 (data row 15, line 16 of the file).
BAD = 14
BAD_STAMP = "2026-01-05T03:30:00+08:00"
BAD_ROW = "data row 15, line 16 of the file"


def with_row(value: float, bad: float) -> list[float]:
    values = [value] * ROWS
    values[BAD] = bad
    return values


def case(folder: Path, load: list[float] | None = None, **grid: object) -> dict:
    """A day at 1 h from 15-minute files (load 100 kW, flat price 0.5), ``grid`` keys added."""
    return scenario_dict(
        folder,
        load or [100.0] * ROWS,
        price=[0.5] * ROWS,
        series_step_min=15,
        step="1h",
        resample="mean",
        grid=dict(grid),
    )


def series(file: str, column: str) -> dict:
    return {"file": file, "column": column, "resample": "mean"}


def run_cli(folder: Path, data: dict, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    path = write_scenario(folder, data)
    code = vpp.cli.main(["-q", "run", str(path), "--out", str(folder / "o")])
    return code, capsys.readouterr().err


def hour_mean(values: list[float]) -> float:
    """The mean of the hostile row's hour, as `resample: mean` makes it."""
    return float(np.mean(values[BAD - BAD % 4 : BAD - BAD % 4 + 4]))


def limit_case(folder: Path) -> dict:
    values = with_row(500.0, -50.0)
    assert hour_mean(values) == pytest.approx(362.5)  # inside the bound once averaged
    write_csv(folder / "limit.csv", index(ROWS, step_min=15), limit_kw=values)
    return case(folder, import_limit_kw=series("limit.csv", "limit_kw"))


def load_case(folder: Path) -> dict:
    values = with_row(100.0, -20.0)
    assert hour_mean(values) == pytest.approx(70.0)
    return case(folder, values)


def factor_case(folder: Path) -> dict:
    values = with_row(0.5, 20.0)  # gCO2/kWh-like, among kgCO2/kWh
    assert hour_mean(values) == pytest.approx(5.375)  # below the 10 kgCO2/kWh bound
    write_csv(folder / "factor.csv", index(ROWS, step_min=15), kg_per_kwh=values)
    data = case(folder)
    data["site"]["emissions"] = {"grid_factor_series": series("factor.csv", "kg_per_kwh")}
    return data


def price_case(folder: Path) -> dict:
    values = with_row(0.5, 2e9)
    assert hour_mean(values) < SERIES_LIMIT  # 5e8: inside the magnitude bound averaged
    data = case(folder)
    write_csv(folder / "price.csv", index(ROWS, step_min=15), price_cny_per_kwh=values)
    return data


#: (case, file, key with its column, raw value as shown, what is allowed, words of the fix)
HOSTILE = {
    "import limit >= 0": (
        limit_case,
        "limit.csv",
        "site.grid.import_limit_kw column 'limit_kw'",
        "-50 kW",
        ">= 0 kW",
        "fix:",
    ),
    "load >= 0": (
        load_case,
        "load.csv",
        "site.load.series column 'load_kw'",
        "-20 kW",
        ">= 0 kW",
        "positive kW",
    ),
    "grid factor <= 10": (
        factor_case,
        "factor.csv",
        "site.emissions.grid_factor_series column 'kg_per_kwh'",
        "20 kgCO2/kWh",
        "0 to 10 kgCO2/kWh",
        "scale: 0.001",
    ),
    "price magnitude <= 1e9": (
        price_case,
        "price.csv",
        "column 'price_cny_per_kwh'",
        "2e+09",
        "at most 1e+09 in absolute value",
        "their unit",
    ),
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_row_outside_its_bounds_is_refused_before_averaging(
    tmp_path: Path, capsys: pytest.CaptureFixture, kind: str
) -> None:
    make, file, key, value, allowed, fix = HOSTILE[kind]
    code, err = run_cli(tmp_path, make(tmp_path), capsys)
    assert code == EXIT_BAD_INPUT, err
    assert file in err and key in err, err
    assert BAD_STAMP in err and BAD_ROW in err, err  # the raw row, not its hour
    assert f"got {value}" in err and allowed in err and fix.lower() in err.lower(), err
    assert "before any averaging" in err, err
    assert not (tmp_path / "o").exists()


def test_a_negative_price_row_is_allowed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = case(tmp_path)
    write_csv(
        tmp_path / "price.csv", index(ROWS, step_min=15), price_cny_per_kwh=with_row(0.5, -0.3)
    )
    code, err = run_cli(tmp_path, data, capsys)
    assert code == 0, err


@pytest.mark.parametrize(("bad", "mean"), [(1.3, 0.925), (-0.2, 0.55)])
def test_a_genset_availability_row_outside_0_to_1_is_refused_before_averaging(
    tmp_path: Path, bad: float, mean: float
) -> None:
    from test_genset_unit import cols, site

    from vpp.assets.genset.rules import genset_input

    values = with_row(0.8, bad)
    assert hour_mean(values) == pytest.approx(mean)  # a share once averaged
    path = write_csv(tmp_path / "a.csv", index(ROWS, step_min=15), share=values)
    s = site(availability={"file": str(path), "column": "share", "resample": "mean"})
    start = dt.datetime(2026, 1, 5)
    day = Horizon.from_bounds(start, end=start + dt.timedelta(hours=24), step_minutes=60)
    columns = {k: np.resize(v, 24) for k, v in cols().items()}
    with pytest.raises(DataError) as exc:
        genset_input(s.gensets[0], s, day, columns)
    (problem,) = exc.value.problems
    assert problem.file == str(path) and "column 'share'" in problem.key
    assert problem.timestamp == BAD_STAMP and BAD_ROW in problem.message
    assert problem.value == f"{bad:g}" and problem.allowed == "0 to 1 [-]"
    assert "share of the rated power" in problem.message and "not kW or percent" in problem.fix
