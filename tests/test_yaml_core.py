"""Scenario files are read with YAML 1.2's core schema for booleans and numbers.

Under YAML 1.1 (PyYAML's default) the key ``on:`` of a demand charge is the boolean
``True`` and an unquoted clock time ``17:00`` is the base-60 integer 1020, so the
README's own examples failed to load with messages about keys and integers the user
never wrote.
"""

from __future__ import annotations

import textwrap

import pytest

from vpp.scenario import load_scenario
from vpp.scenario.yaml_io import read_yaml

SCENARIO = """
name: yaml-core
horizon: {start: 2026-07-15, days: 1, step: 1h}
site:
  load: {synthetic: {profile: two_shift, peak_kw: 800}}
  batteries:
    - {name: bess, energy_kwh: 400, charge_power_kw: 200, discharge_power_kw: 200,
       export_to_grid: no}
  flexible_loads:
    - {kind: shiftable, name: batch, energy_kwh: 100, max_power_kw: 50,
       window_start: 22:00, window_end: 06:00}
  grid:
    energy_price: {calendar: jiangsu-2025-industrial}
    export_limit_kw: 100
  demand_charges:
    - name: evening
      rate_cny_per_kw: 2
      on: net
      hours: [{start: 17:00, end: 21:00}]
"""


def test_words_and_clock_times_stay_text(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("a: on\nb: 17:00\nc: yes\nd: true\ne: 1.5\nf: 12\non: x\n", encoding="utf-8")
    assert read_yaml(path) == {
        "a": "on",
        "b": "17:00",
        "c": "yes",
        "d": True,
        "e": 1.5,
        "f": 12,
        "on": "x",
    }


def test_unquoted_on_key_and_clock_times_load(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    path = folder / "s.yaml"
    path.write_text(textwrap.dedent(SCENARIO), encoding="utf-8")
    scenario = load_scenario(path)
    charge = scenario.site.demand_charges[0]
    assert charge.on == "net"
    assert (charge.hours[0].start, charge.hours[0].end) == ("17:00", "21:00")
    flex = scenario.site.flexible_loads[0]
    assert (flex.window_start, flex.window_end) == ("22:00", "06:00")
    assert scenario.site.batteries[0].export_to_grid is False  # 'no' is still a boolean field


@pytest.mark.parametrize("text", ["a: 1:30\n", "a: 190:20:30\n"])
def test_no_base_60_numbers(tmp_path, text):
    path = tmp_path / "b.yaml"
    path.write_text(text, encoding="utf-8")
    assert isinstance(read_yaml(path)["a"], str)
