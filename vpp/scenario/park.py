"""Scenario schema of a park: many sites as one virtual power plant (:mod:`vpp.portfolio`).

A park file lists its sites, each a site scenario (by ``file``, relative to the park file,
or ``inline``), and the park-level terms: the shared transformer or feeder limit, the
demand-response events and how the plant's revenue is shared. The park's ``horizon`` and
``timezone`` replace those of every site; its ``currency``, when given, must be every
site's (an inline site without one takes it; :func:`vpp.portfolio.park.load_park`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from vpp.errors import short
from vpp.scenario.common import (
    Name,
    PowerKw,
    Strict,
    check_currency,
    check_timezone,
    resolve_path,
)
from vpp.scenario.dr import DemandResponseEvent
from vpp.scenario.operation import Operation
from vpp.scenario.schema import HorizonSpec

__all__ = ["ParkScenario", "ParkSolve", "SiteRef"]


class SiteRef(Strict):
    """One site of the park: a site scenario file, or the scenario inline."""

    file: Path | None = None
    inline: dict[str, Any] | None = None
    name: Name | None = Field(
        None, description="the site's name in the park (default: its scenario's)"
    )

    @field_validator("file")
    @classmethod
    def _resolve(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return resolve_path(value, info)

    @model_validator(mode="after")
    def _one(self) -> SiteRef:
        if (self.file is None) == (self.inline is None):
            raise ValueError("give a site as exactly one of 'file' or 'inline'")
        return self


class ParkSolve(Strict):
    """How the park is solved.

    ``monolithic``: one LP with every site. ``decomposed``: each site alone, coordinated
    by prices on the shared limit and the demand-response commitment (Dantzig-Wolfe,
    :mod:`vpp.portfolio.decompose`). ``auto``: monolithic up to ``monolithic_max_sites``.
    """

    method: Literal["monolithic", "decomposed", "auto"] = "auto"
    monolithic_max_sites: int = Field(400, ge=1, le=1_000_000, description="[sites]")
    workers: Annotated[int, Field(ge=1, le=1024)] | None = Field(
        None, description="worker processes for the decomposed solve, 1 to 1024"
    )
    max_iterations: int = Field(200, ge=1, le=100_000, description="[iterations]")
    tolerance_fraction: float = Field(
        1e-7, gt=0.0, le=0.1, description="relative gap that ends the iterations [-]"
    )


class ParkScenario(Strict):
    """A park: sites, a shared limit, demand-response events and revenue sharing."""

    name: Name
    description: str = ""
    timezone: str = "Asia/Shanghai"
    currency: str | None = Field(
        None,
        description="Currency of the park's money amounts and outputs' labels: three "
        "upper-case letters (ISO 4217, such as CNY, EUR); every site must state its money "
        "in it (a site file's own `currency:`, CNY when it has none; an inline site without "
        "one takes the park's); nothing is converted. None: the sites' one currency [-]",
    )
    horizon: HorizonSpec
    sites: list[SiteRef] = Field(min_length=1)
    shared_limit_kw: PowerKw | None = Field(
        None,
        description="the shared transformer or feeder: |sum of the sites' net import| at "
        "most this [kW]",
    )
    demand_response: list[DemandResponseEvent] = []
    revenue_sharing: Literal["delivered", "equal", "capacity"] = "delivered"
    solve: ParkSolve = ParkSolve()
    operation: Operation = Field(
        Operation(),
        description="how the park is operated: perfect foresight, or rolling (one decision "
        "a day on forecasts for every site, vpp.operation.park_rolling); the rolling "
        "settings' forecast methods apply to every site unless the site's own scenario "
        "gives operation.rolling",
    )

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        check_timezone(value)
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        return None if value is None else check_currency(value)

    @model_validator(mode="after")
    def _unique_sites(self) -> ParkScenario:
        files = [str(s.file.resolve()) for s in self.sites if s.file is not None]
        twice = sorted({f for f in files if files.count(f) > 1})
        if twice:
            raise ValueError(
                f"a site file is listed more than once: {short(twice, 300)}; list each site once "
                "(give two sites with the same layout two files, or inline entries with names)"
            )
        names = [e.name for e in self.demand_response]
        if len(set(names)) != len(names):
            raise ValueError(f"demand-response event names must be unique: {short(names, 300)}")
        return self
