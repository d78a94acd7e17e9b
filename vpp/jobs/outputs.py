"""The day's output folder of the job, and where a fallback may go.

``<out>/<date>/`` is written as a whole (:func:`vpp.report.atomic.write_folder_atomically`):
``sites/<site>/schedule.csv`` and ``.parquet`` (the target day), ``sites/<site>/today.csv``
and ``.parquet`` (the revised rest of today, when the run's ``now`` is before the target
day), ``park_plan.csv`` and ``.parquet``, ``park_today.csv`` and ``.parquet``,
``summary.json``, ``final_soc.json`` (each battery's state at the end of the target day),
``state.json`` (the plan's carried state, :func:`vpp.jobs.plan_tables.carried_state`) and
``report.html`` (the control-room page, :func:`vpp.report.job_html.job_report_html`).

**A fallback never replaces an earlier good schedule.** When ``<date>/summary.json``
already says ``"status": "ok"``, a fallback of a later run for the same date goes to
``<date>/fallback/`` instead (:data:`FALLBACK_DIR`): ``<date>/`` keeps the good schedule,
which stays the one to dispatch, and the fallback's ``summary.json`` says so under
``kept_schedule``. A later good run replaces ``<date>/`` and removes its ``fallback/``
(:func:`drop_fallback`).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from vpp.assets.columns import on_site_entries
from vpp.jobs.registry_file import plain_json
from vpp.portfolio.park import Park
from vpp.report.atomic import write_csv, write_folder_atomically
from vpp.report.jsonfile import non_finite_keys

#: Sub-folder of ``<date>/`` for a fallback written beside an earlier good schedule.
FALLBACK_DIR = "fallback"
#: Columns of a site's schedule file, besides those of its own assets.
SCHEDULE_COLUMNS = ("load_kw", "price_cny_per_kwh", "grid_import_kw", "grid_export_kw")


def summary_text(summary: dict[str, Any]) -> str:
    """``summary.json``'s text: sorted keys, plain JSON types, never NaN.

    The job must write its schedules whatever happens, so a non-finite number does not
    stop it (as it would any other output, :func:`vpp.report.jsonfile.dumps_json`): it is
    written as ``null`` and its key paths are named in ``flags``, never silently.
    """
    bad = non_finite_keys(summary)
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        flag = f"no finite value for {shown}; written as null (a bug in vpp: please report it)"
        summary = {**summary, "flags": [*summary.get("flags", []), flag]}
    data = plain_json(summary, "summary")
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, allow_nan=False) + "\n"


def earlier_status(folder: Path) -> str | None:
    """The ``status`` in ``folder/summary.json``; None if absent or unreadable."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    status = summary.get("status") if isinstance(summary, dict) else None
    return status if isinstance(status, str) else None


def fallback_place(out: Path, day_key: str) -> tuple[Path, dict[str, str] | None]:
    """Where a fallback for ``day_key`` goes, and what it keeps (see the module docstring).

    Returns
    -------
    pathlib.Path
        ``<out>/<date>/``, or ``<out>/<date>/fallback/`` beside an earlier good schedule.
    dict or None
        For ``summary.json``'s ``kept_schedule``: the folder kept and why; None when
        the fallback takes ``<date>/``.
    """
    folder = out / day_key
    if earlier_status(folder) != "ok":
        return folder, None
    kept = {
        "folder": f"{day_key}/",
        "status": "ok",
        "rule": "a fallback never replaces an earlier good schedule of the same date: "
        f"{day_key}/ keeps it and is the one to dispatch; this fallback is written beside it "
        f"in {day_key}/{FALLBACK_DIR}/",
    }
    return folder / FALLBACK_DIR, kept


def drop_fallback(folder: Path) -> None:
    """Remove ``<date>/fallback/`` once a good schedule has replaced ``<date>/``: the
    fallback written beside the earlier good schedule is obsolete (its run stays in the
    registry). The atomic writer carries vpp outputs nested in a replaced folder over."""
    shutil.rmtree(folder / FALLBACK_DIR, ignore_errors=True)


def stale_temporaries(out: Path, day_key: str) -> list[Path]:
    """Temporary folders a killed run for ``day_key`` left (its date folder, its fallback)."""
    return [*out.glob(f".{day_key}.*"), *(out / day_key).glob(f".{FALLBACK_DIR}.*")]


@dataclass
class DayOutputs:
    """Everything a run writes into one folder; :meth:`write` writes it as a whole.

    Attributes
    ----------
    folder : pathlib.Path
        ``<out>/<date>/`` or ``<out>/<date>/fallback/``.
    schedules : dict of str to pandas.DataFrame
        Each scheduled site's 15-minute schedule.
    plan : pandas.DataFrame or None
        The park plan (each site's and the park's net import [kW]).
    summary : dict
        ``summary.json``.
    final : dict
        ``final_soc.json``: each battery's state at the end of the day [kWh].
    park : Park
        The park (which columns belong to which site).
    """

    folder: Path
    schedules: dict[str, pd.DataFrame]
    plan: pd.DataFrame | None
    summary: dict[str, Any]
    final: dict[str, Any]
    park: Park
    today: dict[str, pd.DataFrame] = field(default_factory=dict)
    plan_today: pd.DataFrame | None = None
    state: dict[str, Any] | None = None

    def site_table(self, name: str, frames: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        """A site's schedule with the columns of its own assets, as floats."""
        site = self.park.sites[name].site
        assets = on_site_entries(site)
        frame = (self.schedules if frames is None else frames)[name]
        own = [
            c
            for c in frame.columns
            if c in SCHEDULE_COLUMNS or any(c.startswith(f"{a.name}_") for a in assets)
        ]
        return frame[own].astype(float)

    def write(self) -> list[Path]:
        """Write the folder, replacing an earlier one as a whole, or nothing on failure."""

        from vpp.report.job_html import job_report_html

        today = {n: f for n, f in self.today.items() if len(f)}

        def fill(tmp: Path) -> None:
            (tmp / "sites").mkdir()
            for name in self.schedules:
                (tmp / "sites" / name).mkdir()
                table = self.site_table(name)
                table.to_parquet(tmp / "sites" / name / "schedule.parquet")
                write_csv(table, tmp / "sites" / name / "schedule.csv")
                if name in today:
                    table = self.site_table(name, today)
                    table.to_parquet(tmp / "sites" / name / "today.parquet")
                    write_csv(table, tmp / "sites" / name / "today.csv")
            if self.plan is not None:
                self.plan.to_parquet(tmp / "park_plan.parquet")
                write_csv(self.plan, tmp / "park_plan.csv")
            if self.plan_today is not None:
                self.plan_today.to_parquet(tmp / "park_today.parquet")
                write_csv(self.plan_today, tmp / "park_today.csv")
            (tmp / "summary.json").write_text(summary_text(self.summary), encoding="utf-8")
            if self.state is not None:
                state = json.dumps(
                    plain_json(self.state, "state"), indent=2, sort_keys=True, allow_nan=False
                )
                (tmp / "state.json").write_text(state + "\n", encoding="utf-8")
            page = job_report_html(
                self.summary,
                {n: self.site_table(n) for n in self.schedules},
                self.plan,
                {n: self.site_table(n, today) for n in today} or None,
                self.plan_today,
            )
            (tmp / "report.html").write_text(page, encoding="utf-8")
            # a non-finite state is written as null; the next run's reader drops it with a
            # flag and takes the next source (vpp.jobs.inputs)
            final = json.dumps(
                plain_json(self.final, "final_soc"), indent=2, sort_keys=True, allow_nan=False
            )
            (tmp / "final_soc.json").write_text(final + "\n", encoding="utf-8")
            pause = os.environ.get("VPP_JOB_PAUSE_BEFORE_RENAME_S")
            if pause:  # fault tests: a window in which to kill the job before the rename
                time.sleep(float(pause))

        return write_folder_atomically(self.folder, ["summary.json"], fill, kind="schedule")
