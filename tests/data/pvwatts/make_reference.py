"""Make ``reference.json``: NREL PVWatts v8 (SAM, through PySAM) on pvlib's bundled TMY3 file.

Not imported by the tests and not a dependency of vpp. It needs ``nrel-pysam`` and ``pvlib``
in a scratch environment, for example::

    python3 -m venv /tmp/pysam-venv
    /tmp/pysam-venv/bin/pip install nrel-pysam pvlib
    /tmp/pysam-venv/bin/python tests/data/pvwatts/make_reference.py

The weather is pvlib's ``data/723170TYA.CSV`` (TMY3, Greensboro NC), read with
``pvlib.iotools.read_tmy3`` and handed to PVWatts as ``solar_resource_data`` with the same
hourly ghi, dni, dhi, dry-bulb temperature and wind speed that ``tests/test_arrays.py``
gives vpp. Each record is the hour that starts at (month, day, hour) (TMY3 labels the
end of the hour, so its labels move one hour earlier), with minute 30: PVWatts computes
the sun position at that minute, the middle of the hour, as vpp does. Albedo is fixed at
0.2 (the file's albedo column is zero, and vpp's default is 0.2). For comparison the
script also runs PVWatts on the file itself (``solar_resource_file``); both figures are
stored, and the tests use the ``solar_resource_data`` ones.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pvlib
import PySAM.Pvwattsv8 as pvwatts

TMY3 = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"
OUT = Path(__file__).with_name("reference.json")

COMMON = {
    "system_capacity": 100.0,  # kW DC
    "dc_ac_ratio": 1.2,
    "inv_eff": 96.0,  # percent
    "losses": 14.0,  # percent
    "module_type": 0,  # standard
    "tilt": 20.0,
    "azimuth": 180.0,
    "gcr": 0.4,
    "bifaciality": 0.0,
    "en_snowloss": 0,
    "albedo": [0.2],
}
CASES = {
    "open_rack": {"array_type": 0},  # fixed open rack (PVWatts applies row self-shading)
    "roof_mount": {"array_type": 1},  # fixed roof mount (INOCT 49 degC, no self-shading)
    # diagnostic: open rack at PVWatts' smallest gcr, which makes row self-shading negligible
    "open_rack_gcr_0.01": {"array_type": 0, "gcr": 0.01},
}
OUTPUTS = ["annual_energy", "monthly_energy", "kwh_per_kw", "capacity_factor", "ts_shift_hours"]
SUMS_KWH = {"poa": "poa_kwh_per_m2", "tpoa": "tpoa_kwh_per_m2", "dc": "dc_kwh", "ac": "ac_kwh"}


def resource_data() -> dict[str, object]:
    data, meta = pvlib.iotools.read_tmy3(TMY3, coerce_year=1990)
    start = data.index - dt.timedelta(hours=1)  # TMY3 labels the END of each hour
    return {
        "lat": meta["latitude"], "lon": meta["longitude"], "tz": meta["TZ"],
        "elev": meta["altitude"],
        "year": [1990] * len(start), "month": start.month.tolist(),
        "day": start.day.tolist(), "hour": start.hour.tolist(),
        "minute": [30] * len(start),  # the middle of each hour: where PVWatts puts the sun
        "gh": data["ghi"].tolist(), "dn": data["dni"].tolist(), "df": data["dhi"].tolist(),
        "tdry": data["temp_air"].tolist(), "wspd": data["wind_speed"].tolist(),
    }  # fmt: skip


def run(case: dict[str, object], weather: dict[str, object] | None) -> dict[str, object]:
    model = pvwatts.new()
    if weather is None:
        model.SolarResource.solar_resource_file = str(TMY3)
    else:
        model.SolarResource.solar_resource_data = weather
    for key, value in {**COMMON, **case}.items():
        model.value(key, value)
    model.execute(0)
    out = {}
    for key in OUTPUTS:
        value = model.value(key)
        out[key] = [round(v, 3) for v in value] if isinstance(value, tuple) else round(value, 3)
    for key, name in SUMS_KWH.items():  # hourly W/m^2 or W: sum / 1000 is kWh/m^2 or kWh
        out[name] = round(float(np.sum(model.value(key))) / 1000.0, 3)
    poa = np.asarray(model.Outputs.poa)
    out["tcell_mean_when_poa_positive_degC"] = round(
        float(np.mean(np.asarray(model.Outputs.tcell)[poa > 0])), 3
    )
    return out


def main() -> None:
    weather = resource_data()
    result: dict[str, object] = {
        "what": "NREL PVWatts v8 (SAM ssc pvwattsv8 via PySAM) on pvlib's bundled TMY3 file, "
        "the reference for tests/test_arrays.py (PVWatts agreement within 2 % annual AC).",
        "made_by": "tests/data/pvwatts/make_reference.py (needs nrel-pysam and pvlib; "
        "not a vpp dependency, not imported by the tests)",
        "made_on": dt.date.today().isoformat(),
        "versions": {
            "nrel-pysam": version("nrel-pysam"), "pvlib": version("pvlib"),
            "python": platform.python_version(),
        },  # fmt: skip
        "weather": {
            "file": "pvlib/data/723170TYA.CSV (TMY3, GREENSBORO PIEDMONT TRIAD INT, NC)",
            "read_with": "pvlib.iotools.read_tmy3(coerce_year=1990); labels moved one hour "
            "earlier (TMY3 is hour-ending) and passed as solar_resource_data with "
            "year/month/day/hour of the hour's start and minute 30 (PVWatts computes the "
            "sun position at that minute: the middle of each hour)",
            "columns": {"gh": "ghi", "dn": "dni", "df": "dhi", "tdry": "temp_air",
                        "wspd": "wind_speed"},
            "lat": weather["lat"], "lon": weather["lon"], "tz": weather["tz"],
            "elev": weather["elev"],
        },  # fmt: skip
        "inputs": {**COMMON, "array_type": "per case"},
        "notes": [
            "open_rack (array_type 0) includes PVWatts' row-to-row self-shading at gcr 0.4 "
            "(beam and diffuse); roof_mount (array_type 1) has none; open_rack_gcr_0.01 is "
            "a diagnostic run at PVWatts' smallest gcr, where self-shading is negligible.",
            "PVWatts v8 thermal model: Fuentes with installed NOCT 45 degC (open rack) or "
            "49 degC (roof mount); DC: gamma -0.0037/K (standard module); cover: "
            "anti-reflective glass; spectral: De Soto air-mass modifier; inverter: PVWatts "
            "curve, eta_nom 0.96, clipping at system_capacity / dc_ac_ratio.",
        ],
        "units": {"annual_energy": "kWh AC", "monthly_energy": "kWh AC",
                  "kwh_per_kw": "kWh/kW DC", "poa_kwh_per_m2": "kWh/m^2 (sum of hourly poa)",
                  "tpoa_kwh_per_m2": "kWh/m^2 (sum of hourly poa through the cover)",
                  "dc_kwh": "kWh", "ac_kwh": "kWh", "capacity_factor": "percent"},
        "cases": {},
    }  # fmt: skip
    for name, case in CASES.items():
        result["cases"][name] = {  # type: ignore[index]
            "inputs": case,
            "solar_resource_data": run(case, weather),
            "solar_resource_file": {
                k: v for k, v in run(case, None).items() if k in ("annual_energy", "monthly_energy")
            },
        }
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    for name, case in result["cases"].items():  # type: ignore[union-attr]
        print(name, case["solar_resource_data"]["annual_energy"],
              case["solar_resource_file"]["annual_energy"])  # fmt: skip


if __name__ == "__main__":
    main()
