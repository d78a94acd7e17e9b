"""Write the sample telemetry and notices the daily job's demo reads (``forecasts/``).

``python -m vpp.jobs.samples`` regenerates, for the demo park
(``scenarios/park/xushuguan-park.yaml``) and the sample forecast dates 2026-07-15..18:

The telemetry is the platform's export as the README's run sees it, at ``now`` =
2026-07-15 15:00 (the job refuses readings after its ``now``):

- ``forecasts/telemetry/soc.csv``: each battery's state at 14:45 of 2026-07-13..15 (just
  before the job runs), as a battery management system would report it (illustrative
  values, one a little outside its bounds on purpose, to show the job's clipping and flag);
- ``forecasts/telemetry/pv-<site>.csv``: "measured" PV of each site's arrays at 15 min
  from 2026-06-17 to 14:45 of 2026-07-15, modelled on the built-in typical year (the same
  truth the sample forecasts were made from; used by the clear-sky-index fallback);
- ``forecasts/telemetry/load-<site>.csv``: the metered site load over the same steps (the
  scenario's synthetic load: the load forecast's history);
- ``forecasts/telemetry/grid-<site>.csv``: the metered exchange over the same steps, as
  the site would have run without storage or flexibility (import = load - PV when
  positive, export the rest up to the export limit; illustrative): its month-to-date
  peak is the plan's peak floor;
- ``forecasts/notices/2026-07-16.yaml``: a demand-response notice for 2026-07-16.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
#: The present of the README's sample run (``--date 2026-07-16``, default ``--now``).
NOW = "2026-07-15T15:00"
#: The first metered step: four weeks of load history before the run's date [-].
HISTORY_START = "2026-06-17"


def main(argv: list[str] | None = None) -> int:
    from vpp.assets.grid.limits import site_limits_kw
    from vpp.inputs.site import build_inputs
    from vpp.portfolio.park import load_park
    from vpp.solar.forecast import array_column

    park = load_park(ROOT / "scenarios" / "park" / "xushuguan-park.yaml")
    tele = ROOT / "forecasts" / "telemetry"
    tele.mkdir(parents=True, exist_ok=True)
    rows = []
    rng = np.random.default_rng(20260715)
    for day in pd.date_range("2026-07-13", "2026-07-15", freq="D"):
        stamp = (day + pd.Timedelta(hours=14, minutes=45)).tz_localize("Asia/Shanghai")
        for name, scenario in park.sites.items():
            for b in scenario.site.batteries:
                fraction = float(rng.uniform(0.3, 0.7))
                rows.append(
                    {
                        "site": name,
                        "battery": b.name,
                        "timestamp": stamp.isoformat(),
                        "soc_kwh": round(fraction * b.energy_kwh, 1),
                    }
                )
    rows[-1]["soc_kwh"] = round(1.02 * park.sites[rows[-1]["site"]].site.batteries[0].energy_kwh, 1)
    pd.DataFrame(rows).to_csv(tele / "soc.csv", index=False)
    for old in tele.glob("*-*.csv"):
        old.unlink()
    for name, scenario in park.sites.items():
        past = scenario.model_copy(
            update={
                "horizon": scenario.horizon.model_copy(
                    update={
                        "start": pd.Timestamp(HISTORY_START).to_pydatetime(),
                        "end": pd.Timestamp(NOW).to_pydatetime(),
                        "days": None,
                    }
                )
            }
        )
        inputs = build_inputs(past)
        index = [t.isoformat() for t in inputs.horizon.index]
        load = inputs.series["load_kw"].to_numpy(float)
        pv = sum(
            (inputs.series[f"{a.name}_available_kw"].to_numpy(float) for a in scenario.site.pv),
            np.zeros(len(load)),
        )
        if scenario.site.pv:
            frame = pd.DataFrame(
                {
                    array_column(a.name): inputs.series[f"{a.name}_available_kw"].round(2)
                    for a in scenario.site.pv
                },
                index=pd.Index(index, name="timestamp"),
            )
            frame.to_csv(tele / f"pv-{name}.csv")
        pd.DataFrame(
            {"load_kw": np.round(load, 2)}, index=pd.Index(index, name="timestamp")
        ).to_csv(tele / f"load-{name}.csv")
        limit = site_limits_kw(inputs.assets, inputs.horizon.n)[1]  # limits of each step
        surplus = np.maximum(pv - load, 0.0)
        grid = pd.DataFrame(
            {
                "import_kw": np.round(np.maximum(load - pv, 0.0), 2),
                "export_kw": np.round(
                    np.minimum(surplus, limit) if limit is not None else surplus, 2
                ),
            },
            index=pd.Index(index, name="timestamp"),
        )
        grid.to_csv(tele / f"grid-{name}.csv")
    notices = ROOT / "forecasts" / "notices"
    notices.mkdir(exist_ok=True)
    (notices / "2026-07-16.yaml").write_text(
        "# Demand-response notice from the grid company for 2026-07-16 (sample; illustrative).\n"
        + yaml.safe_dump(
            [
                {
                    "name": "summer-peak-0716",
                    "kind": "peak_shaving",
                    "start": "2026-07-16T17:00:00",
                    "end": "2026-07-16T19:00:00",
                    "requested_kw": 1200,
                    "notified_at": "2026-07-15T10:00:00",
                }
            ],
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
