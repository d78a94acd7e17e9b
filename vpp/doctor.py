"""``vpp doctor``: does this installation work? Versions, HiGHS in memory, pvlib's clear sky.

:func:`doctor` runs the checks and returns what to print and whether every check
passed; the command line prints it and exits 0, or 4 when a check failed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

__all__ = ["DOCTOR_LP_OBJECTIVE", "DoctorReport", "doctor"]

#: Optimum of the doctor's LP (min x, 0.5 <= x <= 1) [-].
DOCTOR_LP_OBJECTIVE = 0.5
#: Clear-sky energy of 1 kWp at Suzhou on midsummer day must fall in this range [kWh/kWp].
CLEAR_SKY_KWH_PER_KWP = (3.0, 10.0)


@dataclass(frozen=True)
class DoctorReport:
    """The outcome of :func:`doctor`.

    Attributes
    ----------
    lines : list of str
        One line per check: versions, HiGHS, pvlib.
    ok : bool
        Whether every check passed.
    """

    lines: list[str]
    ok: bool


def doctor() -> DoctorReport:
    """Check the installation: versions, a tiny LP solved by HiGHS in memory, and a
    pvlib clear-sky day for 1 kWp at Suzhou on 2026-06-21.

    Returns
    -------
    DoctorReport
        The lines to print and whether both checks passed (HiGHS: optimal with the
        objective :data:`DOCTOR_LP_OBJECTIVE`; pvlib: a daily energy inside
        :data:`CLEAR_SKY_KWH_PER_KWP` [kWh/kWp] and nothing before 05:00).
    """
    import pandas as pd
    import pvlib
    import pyomo
    import pyomo.environ as pyo

    from vpp.console import version
    from vpp.model.solve import quiet_highs, solve
    from vpp.solar.clearsky import clearsky_pv_kw

    lines = [
        f"vpp {version()}, python {sys.version.split()[0]}",
        f"pyomo {pyomo.version.version}, highspy {quiet_highs().version()}, "
        f"pvlib {pvlib.__version__}, pandas {pd.__version__}",
    ]

    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 1))
    m.c = pyo.Constraint(expr=m.x >= DOCTOR_LP_OBJECTIVE)
    m.objective = pyo.Objective(expr=m.x)
    r = solve(m)
    ok = r.status == "Optimal" and abs(r.objective_cny - DOCTOR_LP_OBJECTIVE) < 1e-9
    lines.append(f"HiGHS in memory: {'ok' if ok else 'FAILED ' + r.status}")

    day = pd.date_range("2026-06-21", periods=24, freq="h", tz="Asia/Shanghai")
    pv = clearsky_pv_kw(
        day,
        latitude_deg=31.38,
        longitude_deg=120.48,
        dc_capacity_kw=1.0,
        tilt_deg=5.0,
        azimuth_deg=180.0,
        dc_ac_ratio=1.2,
        losses_fraction=0.14,
        clearness_fraction=1.0,
    )
    low, high = CLEAR_SKY_KWH_PER_KWP
    pv_ok = low < pv.sum() < high and pv[:5].max() == 0.0
    lines.append(
        f"pvlib clear sky, Suzhou midsummer: {pv.sum():.2f} kWh/kWp {'ok' if pv_ok else 'FAILED'}"
    )
    return DoctorReport(lines, ok and pv_ok)
