"""Carbon accounting: emission-factor tables (data files) and accounts on plain data."""

from vpp.emissions.accounting import (
    ECONOMIC_BASES,
    FUEL_CARRIERS,
    electricity_kg,
    fuel_kg,
    intensity_t_per_10k_cny,
    park_account,
    pre_assessment,
    reduction,
    site_account,
)
from vpp.emissions.factors import CARRIERS, Factor, factor, factor_names, list_factors
from vpp.emissions.period import ANNUAL_RULE, horizon_year_share, prorate, year_share

__all__ = [
    "ANNUAL_RULE",
    "CARRIERS",
    "ECONOMIC_BASES",
    "FUEL_CARRIERS",
    "Factor",
    "electricity_kg",
    "factor",
    "factor_names",
    "fuel_kg",
    "horizon_year_share",
    "intensity_t_per_10k_cny",
    "list_factors",
    "park_account",
    "pre_assessment",
    "prorate",
    "reduction",
    "site_account",
    "year_share",
]
