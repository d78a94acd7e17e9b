"""Write the sample telemetry and notices the daily job's demo reads (``forecasts/``).

``python -m vpp.jobs.samples`` regenerates, for the demo park
(``scenarios/park/xushuguan-park.yaml``) and the sample forecast dates 2026-07-15..18:

- ``forecasts/telemetry/soc.csv``: each battery's state at 14:45 of 2026-07-14..17 (just
  before the job runs), as a battery management system would report it (illustrative
  values, one a little outside its bounds on purpose, to show the job's clipping and flag);
- ``forecasts/telemetry/pv-<site>.csv``: "measured" PV of each site's arrays at 15 min
  over 2026-07-13..17, modelled on the built-in typical year (the same truth the sample
  forecasts were made from; used only by the clear-sky-index fallback);
- ``forecasts/notices/2026-07-16.yaml``: a demand-response notice for 2026-07-16.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent


def main(argv: list[str] | None = None) -> int:
    from vpp.inputs.site import build_inputs
    from vpp.portfolio.park import load_park
    from vpp.solar.forecast import array_column

    park = load_park(ROOT / "scenarios" / "park" / "xushuguan-park.yaml")
    tele = ROOT / "forecasts" / "telemetry"
    tele.mkdir(parents=True, exist_ok=True)
    rows = []
    rng = np.random.default_rng(20260715)
    for day in pd.date_range("2026-07-14", "2026-07-17", freq="D"):
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
    for name, scenario in park.sites.items():
        if not scenario.site.pv:
            continue
        past = scenario.model_copy(
            update={
                "horizon": scenario.horizon.model_copy(
                    update={"start": pd.Timestamp("2026-07-13").to_pydatetime(), "days": 5}
                )
            }
        )
        inputs = build_inputs(past)
        frame = pd.DataFrame(
            {
                array_column(a.name): inputs.series[f"{a.name}_available_kw"].round(2)
                for a in scenario.site.pv
            },
            index=inputs.horizon.index,
        )
        frame.index = [t.isoformat() for t in frame.index]
        frame.index.name = "timestamp"
        frame.to_csv(tele / f"pv-{name}.csv")
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
