"""EV fleets charging under the site's carports: the scenario entry ``site.ev_fleets``.

A fleet reads its charging sessions from a CSV file (``sessions_file``, resolved against
the scenario file's folder like every series file) with one row per vehicle or group
of identical vehicles:

=================  ========  ==========================================================
column             required  meaning
=================  ========  ==========================================================
``vehicle``        yes       vehicle (or group) id, for messages
``count``          no        number of identical vehicles in the row (default 1)
``arrival``        yes       when the vehicles plug in (ISO 8601 with offset, e.g.
                             ``2026-01-05T18:00:00+08:00``; naive times need
                             ``timezone``)
``departure``      yes       when they leave (after ``arrival``)
``energy_kwh``     yes       energy each vehicle needs by departure, battery side [kWh]
``max_power_kw``   no        the vehicle's own charging limit [kW]; the effective
                             power is the lower of it and ``charger_power_kw``
=================  ========  ==========================================================

Reading and checking the file, and the series the block needs:
:mod:`vpp.assets.ev_fleet.sessions`. The block and its equations: :mod:`vpp.assets.ev_fleet.block`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from vpp.scenario.common import (
    CostCnyPerKwh,
    Efficiency,
    Name,
    Strict,
    optional_timezone,
    resolve_path,
)

#: Sessions up to which ``model: auto`` builds the per-vehicle model.
AUTO_MAX_SESSIONS = 50

ChargerKw = Annotated[float, Field(gt=0.0, le=1e4, description="[kW], at most 1e4")]


class EVFleet(Strict):
    """A fleet of electric vehicles charging (and with ``v2g``, discharging) at the site.

    ``model`` picks the formulation: ``per_vehicle`` (one power variable per session
    and step: exact), ``envelope`` (aggregate power and cumulative-energy bounds: the
    model does not grow with the number of vehicles) or ``auto`` (per vehicle up to
    ``auto_max_sessions`` sessions on the horizon, else envelope). ``unmet`` says what
    happens when the energy cannot be delivered by departure: ``infeasible`` (the run
    fails and names the vehicle) or ``priced`` (the shortfall costs
    ``unmet_cost_cny_per_kwh``).
    """

    name: Name = Field(
        description="Name of the fleet, unique on the site; it prefixes its schedule columns."
    )
    sessions_file: Path = Field(
        description="CSV file of charging sessions (vehicle, count, arrival, departure, "
        "energy_kwh, max_power_kw); a relative path resolves against the scenario file's folder."
    )
    timezone: str | None = Field(
        default=None,
        description="Time zone of timezone-naive timestamps in the sessions file; "
        "without it, naive timestamps are an error.",
    )
    charger_power_kw: ChargerKw = Field(description="Power of each charger, grid side [kW].")
    charge_efficiency: Efficiency = Field(
        default=0.92, description="Energy into the vehicle per energy from the bus [-]."
    )
    v2g: bool = Field(default=False, description="Vehicles may discharge to the site.")
    discharge_power_kw: ChargerKw | None = Field(
        default=None,
        description="Discharge power of each charger, grid side [kW] (v2g only); "
        "default charger_power_kw.",
    )
    discharge_efficiency: Efficiency = Field(
        default=0.92, description="Energy to the bus per energy out of the vehicle [-] (v2g)."
    )
    degradation_cost_cny_per_kwh: CostCnyPerKwh = Field(
        default=0.0, description="Battery wear per kWh discharged to the bus [CNY/kWh] (v2g)."
    )
    model: Literal["auto", "per_vehicle", "envelope"] = Field(
        default="auto",
        description="Formulation: per_vehicle (exact), envelope (aggregate bounds that do "
        "not grow with the fleet) or auto (per vehicle up to auto_max_sessions sessions on "
        "the horizon, else envelope).",
    )
    auto_max_sessions: Annotated[int, Field(gt=0, le=1_000_000)] = Field(
        default=AUTO_MAX_SESSIONS,
        description="Sessions on the horizon up to which model: auto builds the per-vehicle "
        "model [-].",
    )
    unmet: Literal["infeasible", "priced"] = Field(
        default="infeasible",
        description="When energy cannot be delivered by departure: infeasible (the run "
        "fails and names the vehicle) or priced (the shortfall costs unmet_cost_cny_per_kwh).",
    )
    unmet_cost_cny_per_kwh: CostCnyPerKwh | None = Field(
        default=None, description="Price of energy not delivered by departure [CNY/kWh]."
    )

    @field_validator("sessions_file")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        return resolve_path(value, info)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return optional_timezone(value)

    @model_validator(mode="after")
    def _consistent(self) -> EVFleet:
        if self.unmet == "priced" and self.unmet_cost_cny_per_kwh is None:
            raise ValueError(
                "unmet: priced needs 'unmet_cost_cny_per_kwh' [CNY/kWh]; or write unmet: infeasible"
            )
        if self.unmet == "infeasible" and self.unmet_cost_cny_per_kwh is not None:
            raise ValueError(
                "'unmet_cost_cny_per_kwh' goes with unmet: priced; remove it or write unmet: priced"
            )
        v2g_keys = {"discharge_power_kw", "discharge_efficiency", "degradation_cost_cny_per_kwh"}
        # a key at its default is not "given": a scenario dumped and validated again (the
        # sized scenario, a sweep's combination) writes every default out
        given = sorted(
            k
            for k in v2g_keys & self.model_fields_set
            if getattr(self, k) != type(self).model_fields[k].get_default(call_default_factory=True)
        )
        if given and not self.v2g:
            raise ValueError(f"{given} go with v2g: true; remove them or set v2g: true")
        return self

    @property
    def discharge_kw(self) -> float:
        """Discharge power of each charger [kW] (0 without V2G)."""
        if not self.v2g:
            return 0.0
        return float(self.discharge_power_kw or self.charger_power_kw)
