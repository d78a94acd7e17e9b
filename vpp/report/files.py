"""Write a run's outputs atomically: all files appear together, or none do."""

from __future__ import annotations

from pathlib import Path

from vpp.report.atomic import write_csv, write_folder_atomically
from vpp.report.jsonfile import jsonable, write_json
from vpp.runs.tariff_report import bill_csv_frame
from vpp.sim.run import RunResult


def write_run(result: RunResult, out_dir: str | Path) -> list[Path]:
    """Write ``schedule.parquet``, ``schedule.csv``, ``summary.json``, ``bill.csv``,
    ``dispatch.png``, the report's other figures as ``figures/*.png`` and the
    self-contained ``report.html`` into ``out_dir``, atomically
    (:func:`write_folder_atomically`). Each figure is rendered once: the same PNG bytes
    go to its file and, as a data URI, into the report.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from vpp.report.figures import dispatch_figure
    from vpp.report.html import build_report
    from vpp.report.html_parts import data_uri
    from vpp.report.report_figures import report_figures

    figures = report_figures(result)

    def fill(tmp: Path) -> None:
        schedule = result.schedule
        schedule.to_parquet(tmp / "schedule.parquet")
        write_csv(schedule, tmp / "schedule.csv")
        write_json(tmp / "summary.json", jsonable(result.summary))
        bill_csv_frame(result.summary).to_csv(tmp / "bill.csv", index=False)
        dispatch_figure(result, tmp / "dispatch.png")
        (tmp / "figures").mkdir()
        for name, png in figures.items():
            (tmp / "figures" / name).write_bytes(png)
        sources = {name: data_uri(png) for name, png in figures.items()}
        sources["dispatch.png"] = data_uri((tmp / "dispatch.png").read_bytes())
        (tmp / "report.html").write_text(build_report(result, sources), encoding="utf-8")

    names = (
        "schedule.parquet",
        "schedule.csv",
        "summary.json",
        "bill.csv",
        "dispatch.png",
        "report.html",
        *(f"figures/{name}" for name in figures),
    )
    return write_folder_atomically(out_dir, names, fill, kind="run")
