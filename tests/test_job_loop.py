"""The daily job run day after day equals the park backtest (issue 14's loop test).

The job (``vpp schedule``) is run for 14 consecutive days of the demo park, at each
decision of the backtest: 00:00 of the first day for the first day, then 15:00 of each
day for the next. Each run's plan is operated on actuals by the real-time rule until the
next run, exactly as a site controller would (the public pieces the backtest uses:
:class:`vpp.assets.control.Applied`, :func:`vpp.operation.rolling.settle_span`), and the
settled operation is written as the next run's telemetry: the metered load and
exchange, the batteries' state of charge at the next ``now``. The job reads nothing
else of the past. The settled dispatch of the 14 days must equal the park backtest's
(:func:`vpp.operation.park_rolling.run_park_rolling`) over the same days, and so must the
demand-response offers (committed by the first plan that holds each event).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from vpp.assets import unit
from vpp.assets.control import Applied
from vpp.inputs.site import build_inputs
from vpp.jobs.schedule import run_schedule
from vpp.operation.park_rolling import (
    extended_horizon_spec,
    rolling_spec,
    run_park_rolling,
    site_rolling,
)
from vpp.operation.rolling import settle_span
from vpp.operation.windows import Operated, decision_steps, initial_states, load_history_kw
from vpp.portfolio.park import load_park
from vpp.solar.forecast_samples import Sample, make_samples

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "scenarios" / "park" / "sites"
START = "2026-07-01"  # the first of a month: the backtest's month-to-date peaks start at 0
DAYS = 14
#: Two runs of the same LP on the same numbers agree to this [kW].
DISPATCH_TOL_KW = 1e-6
#: Columns of the settled dispatch compared, when a site has them.
COMPARED = ("grid_import_kw", "grid_export_kw", "bess_charge_kw", "bess_discharge_kw")


def _park_file(tmp: Path, forecasts: Path) -> Path:
    data = yaml.safe_load((ROOT / "scenarios" / "park" / "xushuguan-park.yaml").read_text())
    data["horizon"] = {"start": START, "days": DAYS, "step": "15min"}
    data["sites"] = [{"file": str(SITES / Path(s["file"]).name)} for s in data["sites"]]
    event = data["demand_response"][0]
    data["demand_response"] = [  # one announced the morning before, one known all along
        {
            **event,
            "name": "peak-0708",
            "start": "2026-07-08T17:00",
            "end": "2026-07-08T19:00",
            "notified_at": "2026-07-07T09:00",
        },
        {
            **{k: v for k, v in event.items() if k != "notified_at"},
            "name": "peak-0710",
            "start": "2026-07-10T10:00",
            "end": "2026-07-10T12:00",
        },
    ]
    data["operation"] = {
        "mode": "rolling",
        "rolling": {
            "reoptimize_hour": 15,
            "load_forecast": "profile",
            "pv_forecast": "files",
            "pv_forecast_folder": str(forecasts),
            "lookahead_h": 48,
        },
    }
    path = tmp / "park.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _append(path: Path, frame: pd.DataFrame) -> None:
    frame = frame.copy()
    frame.index = pd.Index([t.isoformat() for t in frame.index], name="timestamp")
    frame.to_csv(path, mode="a", header=not path.is_file())


@pytest.fixture(scope="module")
def loop(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("loop")
    forecasts = tmp / "forecasts"
    days = pd.date_range("2026-06-30", "2026-07-17", freq="D").strftime("%Y-%m-%d")
    park_path = _park_file(tmp, forecasts)
    park = load_park(park_path, allow_outside=True)
    first = next(iter(park.sites.values()))
    make_samples(forecasts, first, [Sample(d, "irradiance", "15min") for d in days], months=())

    backtest = run_park_rolling(park, reference=False)

    spec = rolling_spec(park)
    long = extended_horizon_spec(park, spec.lookahead_h)
    sites = {n: site_rolling(s, spec, long) for n, s in park.sites.items()}
    actual = {n: build_inputs(s) for n, s in sites.items()}
    horizon = actual[next(iter(actual))].horizon
    n0 = DAYS * 96
    telemetry = tmp / "telemetry"
    telemetry.mkdir()
    for name, scenario in sites.items():  # the metered load before the first day
        history = load_history_kw(scenario, horizon, actual[name].series["load_kw"].to_numpy())
        before = history[history.index < horizon.index[0]]
        _append(telemetry / f"load-{name}.csv", before.to_frame("load_kw"))
    planned = {n: [a for a in s.assets if unit(a.kind).in_windows(a)] for n, s in actual.items()}
    states = {n: initial_states(s.assets, horizon) for n, s in actual.items()}
    ops = {n: Operated() for n in actual}
    for name, _site in actual.items():
        for a in planned[name]:
            ops[name].columns.update(unit(a.kind).operated_columns(a, horizon.n))
    decisions = [d for d in decision_steps(horizon, spec).tolist() if d < n0]
    summaries = []
    for i, start in enumerate(decisions):
        now = horizon.index[start]
        date = now.normalize() + pd.Timedelta(days=0 if now.hour == 0 else 1)
        outcome = run_schedule(
            park_path,
            date.strftime("%Y-%m-%d"),
            out_dir=tmp / "out",
            forecasts_dir=forecasts,
            telemetry_dir=telemetry,
            now=now.isoformat(),
            allow_outside=True,
        )
        assert outcome.status == "ok", outcome.summary.get("failure")
        summaries.append(outcome.summary)
        decision = outcome.decision
        until = decisions[i + 1] if i + 1 < len(decisions) else n0
        span = slice(start, until)
        soc_rows = []
        for name in actual:
            series = decision.inputs[name].series
            forecasts_kw = {
                c: series[c].to_numpy(float)
                for c in series.columns
                if c == "load_kw" or c.endswith("_available_kw")
            }
            applied = Applied(
                sites[name],
                horizon,
                start,
                until,
                decision.plan.plans[name],
                forecasts_kw,
                actual[name].series,
                spec.real_time_rule,
            )
            settle_span(planned[name], ops[name], states[name], applied)
            index = horizon.index[span]
            load = actual[name].series["load_kw"].iloc[span]
            _append(telemetry / f"load-{name}.csv", load.to_frame("load_kw"))
            grid = pd.DataFrame(
                {
                    "import_kw": ops[name].columns["grid_import_kw"][span],
                    "export_kw": ops[name].columns["grid_export_kw"][span],
                },
                index=index,
            )
            _append(telemetry / f"grid-{name}.csv", grid)
            for a in planned[name]:
                if unit(a.kind).measured_state(a.spec) is not None and until < horizon.n:
                    stamp = horizon.index[until].isoformat()
                    soc_rows.append((name, a.name, stamp, repr(float(states[name][a.name]))))
        if soc_rows:
            frame = pd.DataFrame(soc_rows, columns=["site", "battery", "timestamp", "soc_kwh"])
            path = telemetry / "soc.csv"
            frame.to_csv(path, mode="a", header=not path.is_file(), index=False)
    return {"backtest": backtest, "ops": ops, "summaries": summaries, "n0": n0}


def test_the_job_day_after_day_equals_the_park_backtest(loop) -> None:
    backtest, ops, n0 = loop["backtest"], loop["ops"], loop["n0"]
    assert len(loop["summaries"]) == DAYS + 1  # 00:00 of the first day, then 15:00 daily
    for name, result in backtest.sites.items():
        for column in COMPARED:
            if column not in ops[name].columns:
                continue
            job = ops[name].columns[column][:n0]
            ref = result.schedule[column].to_numpy(float)
            worst = float(np.max(np.abs(job - ref)))
            assert worst <= DISPATCH_TOL_KW, (name, column, worst)


def test_the_job_keeps_the_offers_the_backtest_committed(loop) -> None:
    offers = {e["name"]: e["offered_kw"] for e in loop["backtest"].summary["demand_response"]}
    assert set(offers) == {"peak-0708", "peak-0710"}
    decided: dict[str, float] = {}
    for summary in loop["summaries"]:
        for name, value in summary["offers_kw"].items():
            decided.setdefault(name, value)  # the first run that planned it decided it
            assert summary["offers_kw"][name] == pytest.approx(decided[name], abs=1e-9)
    for name, value in offers.items():
        assert decided[name] == pytest.approx(value, abs=DISPATCH_TOL_KW)


def test_the_job_reads_every_state_from_telemetry_after_the_first_run(loop) -> None:
    for summary in loop["summaries"][1:]:
        for site, batteries in summary["sources"]["soc"].items():
            for text in batteries.values():
                assert "telemetry soc.csv" in text, (site, text)
        for site, peak in summary["sources"]["mtd_peak"].items():
            assert peak["source"].startswith("telemetry grid-"), (site, peak)
