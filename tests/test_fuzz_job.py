"""Fuzz: the daily job's inputs (telemetry, notices, --date/--now/--time-limit).

The small park of ``tests/data/fuzz/park/`` (two sites, one day at 1 h) is scheduled
with ``vpp schedule`` in-process, with the forecast, telemetry (``soc.csv``,
``pv-works.csv``) and notices of ``tests/data/fuzz/job/``. Each example damages one
input. Beyond the property of :func:`fuzz_harness.check` (the job's ``--out`` root is
the only folder that may change), a run that did not succeed must leave a **schedule
for every site** in the date's folder: telemetry and notices never make a site
unreadable, so the safe fallback covers every site.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from fuzz_harness import (
    alias_bomb,
    damaged_csv,
    dump_yaml,
    examples,
    mutated,
    run_in_sandbox,
)
from hypothesis import given, settings
from hypothesis import strategies as st

FOLDER = Path(__file__).parent / "data" / "fuzz"
SITES = ("works", "offices")
DATE = "2026-07-16"
INPUTS = {
    "in/park.yaml": "park/park.yaml",
    "in/sites/works.yaml": "park/sites/works.yaml",
    "in/sites/offices.yaml": "park/sites/offices.yaml",
    "forecasts/xushuguan-2026-07-16.csv": "job/forecasts/xushuguan-2026-07-16.csv",
    "telemetry/soc.csv": "job/telemetry/soc.csv",
    "telemetry/pv-works.csv": "job/telemetry/pv-works.csv",
    "notices/2026-07-16.yaml": "job/notices/2026-07-16.yaml",
}


def job_files() -> dict[str, bytes]:
    return {name: (FOLDER / source).read_bytes() for name, source in INPUTS.items()}


def argv(date: str = DATE, *extra: str) -> list[str]:
    return [
        "schedule",
        "{root}/in/park.yaml",
        "--date",
        date,
        "--out",
        "{root}/work/out",
        "--forecasts",
        "{root}/forecasts",
        "--telemetry",
        "{root}/telemetry",
        "--notices",
        "{root}/notices",
        *extra,
    ]


def schedule(files: dict[str, bytes | str], args: list[str], *, bounded: bool = False):
    # bounded: an alias bomb; a correct job refuses it in seconds
    """Run the job and check the property; a day folder written must cover every site."""
    holder: dict[str, list[str]] = {}

    def every_site(root: Path) -> None:
        day = root / "work" / "out" / DATE
        holder["written"] = [DATE] if (day / "summary.json").is_file() else []
        holder["missing"] = [s for s in SITES if not (day / "sites" / s / "schedule.csv").is_file()]

    outcome = run_in_sandbox(
        files, args, ["{root}/work/out"], bounded=bounded, timeout_s=30, after=every_site
    )
    if holder["written"]:  # a day folder was written (ok or fallback): every site has its plan
        assert not holder["missing"], (
            f"the day's folder has no schedule for {holder['missing']}\n{outcome.describe()}"
        )
    return outcome


def test_the_base_day_runs() -> None:
    outcome = schedule(job_files(), argv())
    assert outcome.code == 0, outcome.describe()


@settings(max_examples=examples(12), deadline=60_000)
@given(st.sampled_from(("telemetry/soc.csv", "telemetry/pv-works.csv")), st.data())
def test_damaged_telemetry_schedules_every_site(name: str, data: st.DataObject) -> None:
    files = job_files()
    files[name] = data.draw(damaged_csv(files[name].decode()))
    schedule(files, argv())


@pytest.mark.parametrize("cell", ["n/a", "nan", "inf", "-1e9", "1e999", ""])
def test_a_bad_state_of_charge_is_named_not_solved(cell: str) -> None:
    """``n/a`` in soc.csv became 'clipped to nan', a Pyomo warning and exit 4."""
    files = job_files()
    text = files["telemetry/soc.csv"].decode()
    files["telemetry/soc.csv"] = text.replace("250.0", cell)
    outcome = schedule(files, argv())
    assert outcome.code != 4, outcome.describe()
    assert "nan" not in re.sub(r"\bn/a\b", "", outcome.stderr.lower()).split("clipped to")[-1][:8]


@settings(max_examples=examples(10), deadline=60_000)
@given(st.data())
def test_mutated_notice_schedules_every_site(data: st.DataObject) -> None:
    files = job_files()
    tree = yaml.safe_load(files["notices/2026-07-16.yaml"])
    files["notices/2026-07-16.yaml"] = dump_yaml(data.draw(mutated(tree)))
    schedule(files, argv())


@pytest.mark.parametrize("where", ["name", "requested_kw"])
def test_a_notice_alias_bomb_is_bounded(where: str) -> None:
    files = job_files()
    text = files["notices/2026-07-16.yaml"].decode()
    text = text.replace("- name: notice-0716", "- name: *a8" if where == "name" else "- name: x")
    if where == "requested_kw":
        text = text.replace("requested_kw: 50", "requested_kw: *a8")
    # a list document whose first entry holds the anchors, the event after it
    bomb = alias_bomb().replace("\n", "\n  ")
    files["notices/2026-07-16.yaml"] = "- " + bomb.rstrip() + "\n" + text
    outcome = schedule(files, argv(), bounded=True)
    assert outcome.code in (0, 2), outcome.describe()  # refused, or skipped with a flag


def test_an_event_past_midnight_schedules_every_site() -> None:
    """The issue: one notice running past midnight left no site schedule at all."""
    files = job_files()
    text = files["notices/2026-07-16.yaml"].decode()
    files["notices/2026-07-16.yaml"] = text.replace(
        "'2026-07-16T15:00:00'", "'2026-07-17T01:00:00'"
    )
    schedule(files, argv())


DATES = (
    "2026-07-16T00:00:00Z",
    "2026-02-30",
    "2026-7-16",
    "16.07.2026",
    "",
    "today",
    "2026-07-16 08:00",
    "99999-01-01",
    "0001-01-01",
    "2026-07-16\n",
    "nan",
)


@settings(max_examples=examples(10), deadline=60_000)
@given(st.one_of(st.sampled_from(DATES), st.text(max_size=20), st.dates().map(str)))
def test_any_date_is_a_day_or_exit_2(date: str) -> None:
    """``--date`` is a local day ``YYYY-MM-DD`` of the park; anything else exits 2."""
    files = job_files()
    outcome = schedule(files, argv(date))
    try:
        real = re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) and dt.date.fromisoformat(date)
    except ValueError:
        real = False
    if not real:
        assert outcome.code == 2, outcome.describe()


NOWS = (
    "yesterday-ish",
    "2026-07-15T15:00:00+08:00",
    "2026-07-15",
    "2026-07-17T00:00:00",
    "2026-02-30T10:00",
    "",
    "nan",
    "NaT",
    "now",
    "1e9",
)
LIMITS = ("-1", "nan", "inf", "-inf", "0", "1e-9", "1e308", "x", "")


@settings(max_examples=examples(10), deadline=60_000)
@given(st.sampled_from(NOWS), st.sampled_from((None, *LIMITS)))
def test_any_now_and_time_limit_run_or_exit_2(now: str, limit: str | None) -> None:
    extra = ["--now", now] + (["--time-limit", limit] if limit is not None else [])
    outcome = schedule(job_files(), argv(DATE, *extra))
    if limit in ("-1", "nan", "-inf", "x", ""):
        assert outcome.code == 2, outcome.describe()
