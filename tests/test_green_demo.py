"""The demo factory with the proposed green-power, certificate and carbon entries (issue 4).

``GREEN_YAML`` is the block proposed for ``scenarios/xushuguan-factory.yaml`` (under
``site:``); this test runs the demo with it for two weeks through the command line and
checks the invariants and the ``green`` and ``carbon`` entries of ``summary.json``. If
the demo file already holds the block, the update below changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import check_invariants, write_scenario

import vpp
import vpp.cli

DEMO = Path(__file__).resolve().parent.parent / "scenarios" / "xushuguan-factory.yaml"

GREEN_YAML = """\
  # Green power, certificates and the carbon account (issue 4). Illustrative figures for
  # the demo factory, not its real data; sources of the policy figures in
  # /work/shared/reference/jiangsu-inputs.md and vpp/emissions/data/*.yaml.
  green_contracts:
    - name: wind_ppa
      # a baseload block of green power bought in Jiangsu green-power trading (illustrative
      # volumes, about 400 kW flat)
      monthly_mwh: {"2026-01": 298, "2026-02": 269, "2026-03": 298, "2026-04": 288,
                    "2026-05": 298, "2026-06": 288, "2026-07": 298, "2026-08": 298,
                    "2026-09": 288, "2026-10": 298, "2026-11": 288, "2026-12": 298}
      volume_shape: flat
      settlement: monthly
      energy_price_cny_per_mwh: 391    # Jiangsu coal benchmark as the energy part [illustrative]
      green_premium_cny_per_mwh: 27    # first national green-power trading day, 2021 [secondary]
      grid_fees_cny_per_kwh: 0.32      # fixed adders of the illustrative 2025 tariff [illustrative]
      take_or_pay_fraction: 0.8
      shortfall_penalty_cny_per_mwh: 50  # [illustrative]
  renewable_target:
    basis: annual
    fraction: 0.30
    certificate_price_cny_per_mwh: 7   # GEC price index Aug 2025, 6.9-7.8 CNY [secondary]
  emissions:
    factors:
      electricity: grid-east-china-2023                       # location-based
      electricity_market_based: grid-national-2022-excl-green  # grey energy, market-based
    activity:                      # the demo year [illustrative]
      natural_gas_nm3: 150000      # canteen and process heating
      diesel_t: 8                  # forklifts and the backup generator
      heat_gj: 6000                # steam bought from the zone's heat network
    economics:                     # the demo year [illustrative]
      output_value_cny: 1200000000   # 12 x 10^8 CNY
      value_added_cny: 300000000     # 3 x 10^8 CNY
    pre_assessment:
      threshold_t_per_10k_cny: 0.40  # [illustrative threshold, not the zone's]
      basis: value_added
      accounting: location_based
  carbon_price:
    cny_per_t: 75                  # national ETS, about 73.6 CNY/t in July 2025 [secondary]
    in_objective: true
"""


def demo_with_green(days: int) -> dict:
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["horizon"]["days"] = days
    data["site"].update(yaml.safe_load("site:\n" + GREEN_YAML)["site"])
    return data


def test_demo_with_green_power_and_carbon(tmp_path):
    path = write_scenario(tmp_path, demo_with_green(14))
    out = tmp_path / "out"
    assert vpp.cli.main(["run", str(path), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    result = vpp.run(vpp.load_scenario(path))
    check_invariants(result)
    green, carbon = summary["green"], summary["carbon"]
    contract = green["contracts"]["wind_ppa"]
    assert 0.0 < contract["taken_mwh"] <= contract["contracted_mwh"] + 1e-6
    assert contract["taken_while_exporting_mwh"] == 0.0 and green["notes"] == []
    assert green["target"]["achieved_fraction"] >= 0.3 - 1e-9
    assert carbon["market_based_t"] < carbon["baseline"]["market_based_t"]
    assert carbon["pre_assessment"]["result"] in ("pass", "fail")
    assert set(carbon["by_carrier_t"]) == {
        "electricity_location_based",
        "electricity_market_based",
        "natural_gas",
        "diesel",
        "heat",
    }
    for key in ("green_contracts_cny", "certificates_cny", "carbon_cny", "total_cost_cny"):
        assert summary[key] == pytest.approx(result.summary[key], rel=1e-9)
    assert summary["savings_cny"] > 0.0
