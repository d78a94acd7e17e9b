"""The alerts' settings: the webhook, the evaluation's pace and thresholds, and targets.

``vpp serve --alerts FILE`` reads them from a YAML file (every key optional)::

    webhook: {url: "https://ems.park.example/hooks/vpp", timeout_s: 5, max_attempts: 6,
              backoff_s: 2}
    evaluation: {interval_s: 300, run_rate_days: 28, peak_warn_fraction: 0.95}
    telemetry_gaps:
      default_minutes: 60                       # every channel that has reported
      sites: {electronics: {import_kw: 30, natural_gas_nm3: 1440}}
    targets:                                    # stored in the targets table at start
      - park: xushuguan-park
        year: 2026
        park_targets: {energy_tce: 20000, co2_t: 45000}
        sites:
          electronics: {energy_tce: 8000, co2_t: 18000,
                        energy_intensity_tce_per_10k_cny: 0.05, value_added_cny: 1.6e9}

The numbers above are illustrative; the defaults are those of :class:`AlertSettings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError

from vpp.errors import ScenarioError
from vpp.scenario.common import Strict
from vpp.scenario.load import problems_of
from vpp.scenario.yaml_io import read_yaml

__all__ = ["AlertSettings", "ParkTargets", "TargetValues", "load_settings"]

Positive = Annotated[float, Field(gt=0, le=1e12)]


class TargetValues(Strict):
    """One enterprise's (or the park's) annual targets; a metric left out has none."""

    energy_tce: Positive | None = Field(
        default=None, description="Total energy of the year, GB/T 2589 equivalent [tce]."
    )
    co2_t: Positive | None = Field(
        default=None, description="Total CO2 of the year, location-based [t]."
    )
    energy_intensity_tce_per_10k_cny: Positive | None = Field(
        default=None, description="Energy per value added of the year [tce/10^4 CNY]."
    )
    co2_intensity_t_per_10k_cny: Positive | None = Field(
        default=None, description="CO2 per value added of the year [t/10^4 CNY]."
    )
    value_added_cny: Positive | None = Field(
        default=None,
        description="Value added planned for the year, the intensity's denominator; default "
        "the site scenario's emissions.economics.value_added_cny [CNY/yr].",
    )


class ParkTargets(Strict):
    """A park's targets for a year: the park's own and each enterprise's (site's)."""

    park: str = Field(description="The registered park's name [-].")
    year: int = Field(ge=2000, le=2100, description="The calendar year [-].")
    park_targets: TargetValues | None = Field(
        default=None, description="The park's own targets (sums) [-]."
    )
    sites: dict[str, TargetValues] = Field(
        default_factory=dict, description="Each site's targets, by site name [-]."
    )


class Webhook(Strict):
    """Where alerts are sent: a JSON POST per alert opened or closed."""

    url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s]+$",
        description="The receiver's URL (http or https) [-].",
    )
    timeout_s: float = Field(default=5.0, gt=0, le=120, description="Per attempt [s].")
    max_attempts: int = Field(default=6, ge=1, le=100, description="Attempts in all [-].")
    backoff_s: float = Field(
        default=2.0, ge=0, le=3600, description="Wait before the 2nd attempt, doubled after [s]."
    )


class Evaluation(Strict):
    """How often and against what the conditions are evaluated."""

    interval_s: float = Field(
        default=300.0, ge=0, le=86400, description="Between periodic evaluations; 0: none [s]."
    )
    run_rate_days: int = Field(
        default=28, ge=1, le=366, description="Days of the recent run-rate [d]."
    )
    peak_warn_fraction: float = Field(
        default=0.95,
        gt=0,
        le=1,
        description="Share of the month's planned peak at which the peak alert opens [-].",
    )


class Gaps(Strict):
    """The longest telemetry silence allowed, per site and channel."""

    default_minutes: float = Field(
        default=60.0, gt=0, le=525600, description="Any channel that has reported [min]."
    )
    sites: dict[str, dict[str, Annotated[float, Field(gt=0, le=525600)]]] = Field(
        default_factory=dict, description="Per site, per channel [min]."
    )


class AlertSettings(Strict):
    """Everything the alerts need besides the database (module docstring)."""

    webhook: Webhook = Field(default_factory=Webhook, description="The webhook [-].")
    evaluation: Evaluation = Field(default_factory=Evaluation, description="The pace [-].")
    telemetry_gaps: Gaps = Field(default_factory=Gaps, description="Gap thresholds [-].")
    targets: list[ParkTargets] = Field(
        default_factory=list, description="Targets stored at start [-]."
    )

    def gap_minutes(self, site: str, channel: str) -> float:
        """The gap threshold of a site's channel [min]."""
        per = self.telemetry_gaps.sites.get(site, {})
        return float(per.get(channel, self.telemetry_gaps.default_minutes))


def load_settings(path: str | Path) -> AlertSettings:
    """The settings of a YAML file (:class:`AlertSettings`).

    Raises
    ------
    ScenarioError
        The file is missing or does not fit (each problem names its key).
    """
    data = read_yaml(Path(path), what="alerts settings") or {}
    try:
        return AlertSettings.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems_of(exc, str(path))) from None
