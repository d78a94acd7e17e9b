"""Settlement periods of a green-power contract on a horizon, and its flat delivery.

Shared by the contract's inputs (:mod:`vpp.assets.green_contract.rules`) and the carbon
account (:mod:`vpp.runs.carbon`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from vpp.errors import Problem, ScenarioError
from vpp.scenario.green import GreenContract

__all__ = ["VOLUME_RTOL", "ContractPeriods", "contract_periods", "flat_delivery_kw"]

#: Monthly volumes and a profile must agree to this share on whole months [-].
VOLUME_RTOL = 0.01
_KWH_PER_MWH = 1000.0
_NS_PER_H = 3_600_000_000_000


@dataclass(frozen=True)
class ContractPeriods:
    """Settlement periods of a contract on the horizon.

    Attributes
    ----------
    period_id : numpy.ndarray
        Per step, the period (0..P-1).
    volume_kwh : numpy.ndarray
        Per period, the contracted volume inside the horizon [kWh].
    labels : list of str
        Per period, its start (``YYYY-MM-DDTHH:00`` for hours, ``YYYY-MM`` for months).
    month_of_period : list of str
        Per period, its calendar month ``YYYY-MM``.
    """

    period_id: np.ndarray
    volume_kwh: np.ndarray
    labels: list[str]
    month_of_period: list[str]


def _month_hours(key: str, tz: Any) -> float:
    start = pd.Timestamp(f"{key}-01").tz_localize(tz)
    end = (pd.Timestamp(f"{key}-01") + pd.offsets.MonthBegin(1)).tz_localize(tz)
    return (end - start).total_seconds() / 3600.0


def contract_periods(
    contract: GreenContract,
    index: pd.DatetimeIndex,
    step_h: float,
    available_kw: np.ndarray | None,
    where: str = "site.green_contracts",
) -> ContractPeriods:
    """Settlement periods of ``contract`` and its contracted volume in each [kWh].

    Hourly settlement: clock hours, volume = the profile's energy in the hour. Monthly:
    calendar months; volume = the profile's energy in the month when there is a
    profile, else ``monthly_mwh`` times the share of the month inside the horizon.
    With both a profile and ``monthly_mwh``, every whole month inside the horizon must
    agree to :data:`VOLUME_RTOL`.

    Raises
    ------
    ScenarioError
        A month of the horizon without a volume (no profile), or volumes that disagree
        with the profile.
    """
    months = np.asarray(index.strftime("%Y-%m"))
    month_keys, month_id = np.unique(months, return_inverse=True)
    steps_per_month = np.bincount(month_id, minlength=len(month_keys))
    volumes = contract.monthly_mwh or {}
    problems: list[Problem] = []
    profile_kwh = None
    if available_kw is not None:
        profile_kwh = np.bincount(
            month_id, weights=available_kw * step_h, minlength=len(month_keys)
        )
        for j, key in enumerate(month_keys.tolist()):
            whole = abs(steps_per_month[j] * step_h - _month_hours(key, index.tz)) < 1e-9
            if key not in volumes or not whole:
                continue
            given = volumes[key] * _KWH_PER_MWH
            if abs(profile_kwh[j] - given) > VOLUME_RTOL * max(given, profile_kwh[j]):
                problems.append(
                    Problem(
                        f"the monthly volume of {key} disagrees with the delivery profile, "
                        f"whose energy in that month is {profile_kwh[j] / _KWH_PER_MWH:.3f} MWh",
                        key=f"{where}.monthly_mwh.{key}",
                        value=f"{volumes[key]:g} MWh",
                        allowed=f"the profile's energy within {VOLUME_RTOL:.0%}",
                        fix="correct the volume or the profile (its unit is kW, its scale "
                        "factor 'scale'), or give only one of them",
                    )
                )
    else:
        missing = [k for k in month_keys.tolist() if k not in volumes]
        if missing:
            problems.append(
                Problem(
                    f"no contracted volume for month(s) {', '.join(missing)} of the horizon",
                    key=f"{where}.monthly_mwh",
                    allowed="a volume [MWh] for every month the horizon touches, keyed 'YYYY-MM'",
                    fix="add the missing months, or give a delivery 'profile'",
                )
            )
    if problems:
        raise ScenarioError(problems)
    if contract.settlement == "hourly":
        hours = index.as_unit("ns").asi8 // _NS_PER_H
        _, period_id = np.unique(hours, return_inverse=True)
        first = np.unique(period_id, return_index=True)[1]
        volume = np.bincount(period_id, weights=available_kw * step_h)
        labels = [index[i].strftime("%Y-%m-%dT%H:00") for i in first.tolist()]
        return ContractPeriods(period_id, volume, labels, [months[i] for i in first.tolist()])
    if profile_kwh is not None:
        volume = profile_kwh
    else:
        volume = np.array(
            [
                volumes[k] * _KWH_PER_MWH * steps_per_month[j] * step_h / _month_hours(k, index.tz)
                for j, k in enumerate(month_keys.tolist())
            ]
        )
    keys = month_keys.tolist()
    return ContractPeriods(month_id.astype(int), volume, keys, keys)


def flat_delivery_kw(contract: GreenContract, index: pd.DatetimeIndex) -> np.ndarray:
    """The flat delivery of monthly volumes: volume / hours of the month, per step [kW]."""
    months = np.asarray(index.strftime("%Y-%m"))
    keys, month_id = np.unique(months, return_inverse=True)
    rate = [
        contract.monthly_mwh[k] * _KWH_PER_MWH / _month_hours(k, index.tz) for k in keys.tolist()
    ]
    return np.asarray(rate, dtype=float)[month_id]
