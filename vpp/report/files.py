"""Write a run's outputs atomically: all files appear together, or none do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vpp.report.atomic import write_csv, write_folder_atomically
from vpp.sim.run import RunResult
from vpp.sim.tariff_report import bill_csv_frame


def write_run(result: RunResult, out_dir: str | Path) -> list[Path]:
    """Write ``schedule.parquet``, ``schedule.csv``, ``summary.json``, ``bill.csv`` and
    ``dispatch.png`` into ``out_dir``, atomically (:func:`write_folder_atomically`).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from vpp.report.figures import dispatch_figure

    def fill(tmp: Path) -> None:
        schedule = result.schedule
        schedule.to_parquet(tmp / "schedule.parquet")
        write_csv(schedule, tmp / "schedule.csv")
        (tmp / "summary.json").write_text(
            json.dumps(_jsonable(result.summary), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        bill_csv_frame(result.summary).to_csv(tmp / "bill.csv", index=False)
        dispatch_figure(result, tmp / "dispatch.png")

    names = ("schedule.parquet", "schedule.csv", "summary.json", "bill.csv", "dispatch.png")
    return write_folder_atomically(out_dir, names, fill)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value
