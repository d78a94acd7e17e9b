"""Time :func:`vpp.solar.arrays.arrays_ac_kw`: a year of PV for 20 arrays in one call.

The weather is the TMY3 file that ships inside pvlib (``pvlib/data/723170TYA.CSV``,
Greensboro NC, 8760 hours, labels moved to interval starts). The 20 arrays mix rooftops
and carports, tilts 3-30 deg, azimuths 90-270 deg, DC/AC ratios 1.1-1.4 and two bifacial
carports, all on the default PVWatts v8 chain. Extra cases: the same 20 arrays on
15-minute weather (the hourly values held), one array alone, and the 20 arrays with two
of them on a CEC module and inverter. Every figure is the best of ``--repeat`` runs,
timed with ``time.perf_counter`` after all imports and one warm-up call, whose time is
printed apart (the first call of a process also loads pvlib's CEC tables when an array
names a module or inverter; they are cached for the process).

Run from the repository root::

    python benchmarks/bench_pv.py [--repeat N]

See ``benchmarks/README.md`` ("PV arrays (issue 3)") for the recorded figures.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
import pvlib

from vpp.scenario.solar import Bifacial, CarportPV, RooftopPV
from vpp.solar.arrays import arrays_ac_kw

TMY3 = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"
TARGET_S = 2.0


def weather_and_site() -> tuple[pd.DataFrame, dict[str, float]]:
    data, meta = pvlib.iotools.read_tmy3(TMY3, coerce_year=2026)
    data.index = data.index - pd.Timedelta(hours=1)  # TMY3 labels the END of each hour
    site = {"latitude_deg": meta["latitude"], "longitude_deg": meta["longitude"],
            "altitude_m": meta["altitude"]}  # fmt: skip
    return data[["ghi", "dni", "dhi", "temp_air", "wind_speed"]], site


def twenty_arrays(cec: bool = False) -> list[Any]:
    arrays: list[Any] = []
    for i in range(20):
        common: dict[str, Any] = {
            "name": f"a{i:02d}",
            "dc_capacity_kw": 50.0 + 25.0 * i,
            "tilt_deg": (3.0, 5.0, 8.0, 10.0, 15.0, 20.0, 30.0)[i % 7],
            "azimuth_deg": (180.0, 90.0, 135.0, 225.0, 270.0, 160.0)[i % 6],
            "dc_ac_ratio": (1.1, 1.2, 1.3, 1.4)[i % 4],
            "commissioning_year": 2018 + i % 6,
        }
        if i % 2 == 0:
            arrays.append(RooftopPV(kind="rooftop", **common))
        else:
            bifacial = Bifacial() if i in (1, 3) else None
            arrays.append(CarportPV(kind="carport", bifacial=bifacial, **common))
    if cec:
        for i in (4, 5):
            arrays[i] = arrays[i].model_copy(update={
                "module": "Canadian_Solar_Inc__CS6X_300M",
                "inverter": "SMA_America__STP_60_US_10__400V_",
            })  # fmt: skip
    return arrays


def best_of(repeat: int, call: Callable[[], object]) -> tuple[float, list[float], float]:
    start = time.perf_counter()
    call()  # warm-up: reported apart, not in the best of
    first = time.perf_counter() - start
    runs = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        call()
        runs.append(time.perf_counter() - start)
    return min(runs), runs, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    weather, site = weather_and_site()
    quarter = weather.loc[weather.index.repeat(4)].set_axis(
        pd.date_range(weather.index[0], periods=4 * len(weather), freq="15min")
    )
    arrays = twenty_arrays()
    cases: dict[str, Callable[[], object]] = {
        "20 arrays x 8760 h (2 bifacial)": lambda: arrays_ac_kw(arrays, weather, **site),
        "1 array x 8760 h": lambda: arrays_ac_kw(arrays[:1], weather, **site),
        "20 arrays x 35040 (15 min)": lambda: arrays_ac_kw(arrays, quarter, **site),
        "20 arrays x 8760 h, 2 with CEC module+inverter": lambda: arrays_ac_kw(
            twenty_arrays(cec=True), weather, **site
        ),
    }
    print(f"machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, pvlib {version('pvlib')}, "
          f"numpy {version('numpy')}, pandas {version('pandas')}")  # fmt: skip
    print(f"best of {args.repeat} after one warm-up call [s]")
    for label, call in cases.items():
        best, runs, first = best_of(args.repeat, call)
        print(f"  {label:48s} {best:7.3f}   runs {[round(r, 3) for r in runs]}"
              f"  warm-up {first:.3f}")  # fmt: skip
        if label.startswith("20 arrays x 8760 h ("):
            verdict = "met" if best < TARGET_S else "NOT met"
            print(f"  target: under {TARGET_S} s -> {verdict}")


if __name__ == "__main__":
    main()
