"""The notes and flags on the window occurrences a deferrable load's plan cuts say what
the mode that plans it does with them (:mod:`vpp.assets.deferrable.wording`): no
output of a rolling run, a park backtest or the daily job states the perfect-foresight
rule, and a perfect-foresight run still does.

The cases are those of ``tests/test_deferrable_rolling.py``: three days of the oven's
20:00-06:00 window, which the horizon cuts at both ends (the night that opened the day
before, the third night), and the job's evening site with its 21:00-03:00 window.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import yaml
from job_parks import write_park
from test_deferrable_rolling import _plant_with_oven, night_case

import vpp.cli
from vpp.assets.deferrable.wording import window_notes
from vpp.errors import EXIT_OK
from vpp.jobs.schedule import run_schedule

#: What a perfect-foresight run's notes say of the occurrences its horizon cuts: the one
#: that opened before the start is not planned, the one the end cuts must finish inside.
PERFECT_RULE = ("and are not planned:", "must finish their")
#: The files a run or the job writes that may hold notes or flags.
TEXT_SUFFIXES = (".json", ".txt", ".md", ".html", ".csv")


def _strings(value: object) -> list[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _said(folder: Path) -> list[str]:
    """Every string of every JSON output under ``folder`` and the text of its other
    text outputs (reports, tables)."""
    out = []
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".json":
            out += _strings(json.loads(path.read_text(encoding="utf-8")))
        elif path.suffix in TEXT_SUFFIXES:
            out.append(path.read_text(encoding="utf-8"))
    return out


def _perfect_rule(said: list[str]) -> list[str]:
    return [s for s in said if any(rule in s for rule in PERFECT_RULE)]


def _run(scenario: Path, out: Path) -> list[str]:
    assert vpp.cli.main(["-q", "run", str(scenario), "--out", str(out)]) == EXIT_OK
    return _said(out)


def test_a_perfect_foresight_run_states_its_rule(tmp_path):
    said = _run(night_case(tmp_path, None), tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    notes = summary["notes"]
    assert any("1 window occurrence(s) opened before" in n and PERFECT_RULE[0] in n for n in notes)
    assert any("must finish their 4 h inside it" in n for n in notes)
    assert _perfect_rule(said)


def test_a_rolling_run_states_what_its_windows_do_and_not_the_perfect_foresight_rule(tmp_path):
    # decisions every 12 h, 48 h look-ahead: the decision at 00:00 of the 2nd day cuts
    # the first whole night (opened at 20:00 of the 1st), the first window's look-ahead
    # cuts the second night; the horizon cuts the night before it and the third night
    path = night_case(tmp_path, {"interval_h": 12, "lookahead_h": 48})
    said = _run(path, tmp_path / "out")
    assert _perfect_rule(said) == []
    notes = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["notes"]
    text = "\n".join(notes)
    assert "nothing of them is settled, so no window plans them" in text
    assert "where the last window ends" in text
    assert "continued from the settled state" in text
    assert "leaves the steps after it to a later window" in text


def test_a_park_backtest_says_its_run_may_go_on_past_the_horizons_end(tmp_path):
    site = _plant_with_oven(tmp_path, power_kw=30.0, window_start="21:00", window_end="03:00")
    data = yaml.safe_load(site.read_text(encoding="utf-8"))
    data["horizon"]["days"] = 3
    site.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    park = write_park(tmp_path, [site])
    data = yaml.safe_load(park.read_text(encoding="utf-8"))
    data["horizon"]["days"] = 3
    data["operation"] = {
        "mode": "rolling",
        "rolling": {"load_forecast": "perfect", "lookahead_h": 24},
    }
    park.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    said = _run(park, tmp_path / "out")
    assert _perfect_rule(said) == []
    assert any("the backtest plans past it, so their run may go on after it" in s for s in said)
    assert any("continued from the settled state" in s for s in said)


def test_the_job_states_what_it_carries_and_not_the_perfect_foresight_rule(tmp_path):
    # the second run's now (00:00 of the 16th) is inside the night opened at 21:00 of
    # the 15th, whose run the first run planned from 23:00; its window's end (24:00 of
    # the 17th) cuts the 17th's night
    site = _plant_with_oven(tmp_path, power_kw=30.0, window_start="21:00", window_end="03:00")
    park = write_park(tmp_path, [site])
    out = tmp_path / "out"
    common = {"out_dir": out, "forecasts_dir": None, "telemetry_dir": None}
    run_schedule(park, "2026-07-16", now="2026-07-15T15:00:00+08:00", **common)
    run_schedule(park, "2026-07-17", now="2026-07-16T00:00:00+08:00", **common)
    said = _said(out)
    assert _perfect_rule(said) == []
    flags = json.loads((out / "2026-07-17" / "summary.json").read_text(encoding="utf-8"))["flags"]
    oven = [f for f in flags if "load 'oven'" in f]
    assert len(oven) == 1  # one flag says both, and no input note says otherwise
    assert "1 h of its 4 h run before now from the previous run's plan" in oven[0]
    assert "what its run needs after it is left to the next run" in oven[0]


def test_window_notes_name_each_cut_occurrence_once_and_not_the_last_windows_cut():
    # two occurrences: 0 on steps 2-5, 1 on steps 8-11, 12 steps; windows from 0 (to 5),
    # 4 and 8 (6 steps): the decision at 4 splits occurrence 0 (continued); the first
    # window's end (5) cuts occurrence 0 (left to the window at 4), the second's
    # (10) cuts occurrence 1 (left to the window at 8); the last window's end is the
    # horizon's (12), which cuts nothing and is no window's to leave
    ids = np.array([-1, -1, 0, 0, 0, 0, -1, -1, 1, 1, 1, 1])
    index = pd.date_range("2026-07-15", periods=ids.size, freq="h", tz="Asia/Shanghai")
    entry = SimpleNamespace(name="oven")
    notes = window_notes(entry, ids, index, [(0, 5), (4, 10), (8, 12)])
    assert notes == [
        "deferrable load 'oven': 1 window occurrence(s) under way at a decision are "
        "continued from the settled state (their steps on and starts before the decision "
        "count): 2026-07-15T02:00:00+08:00",
        "deferrable load 'oven': 2 window occurrence(s) close after a window's look-ahead: "
        "the window keeps the rest of the run possible and leaves the steps after it to a "
        "later window: 2026-07-15T02:00:00+08:00, 2026-07-15T08:00:00+08:00",
    ]
    # a last window cut short of the horizon (the park backtest's extended horizon) and
    # a step past every occurrence: nothing to leave
    assert window_notes(entry, ids, index, [(8, 10)]) == []
