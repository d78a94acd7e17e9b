"""Carbon accounting: emission-factor tables (data files) and accounts on plain data."""

from vpp.emissions.accounting import (
    ACCOUNT_LINES,
    ECONOMIC_BASES,
    ELECTRICITY_LINES,
    FUEL_CARRIERS,
    CarbonFlow,
    electricity_kg,
    flows_account,
    fuel_kg,
    intensity_t_per_10k_cny,
    line_activity,
    line_kg_per_step,
    park_account,
    pre_assessment,
    reduction,
    site_account,
)
from vpp.emissions.factors import CARRIERS, Factor, factor, factor_names, list_factors
from vpp.emissions.period import ANNUAL_RULE, horizon_year_share, prorate, year_share

__all__ = [
    "ACCOUNT_LINES",
    "ANNUAL_RULE",
    "CARRIERS",
    "ECONOMIC_BASES",
    "ELECTRICITY_LINES",
    "FUEL_CARRIERS",
    "CarbonFlow",
    "Factor",
    "electricity_kg",
    "flows_account",
    "factor",
    "factor_names",
    "fuel_kg",
    "horizon_year_share",
    "intensity_t_per_10k_cny",
    "line_activity",
    "line_kg_per_step",
    "list_factors",
    "park_account",
    "pre_assessment",
    "prorate",
    "reduction",
    "site_account",
    "year_share",
]
