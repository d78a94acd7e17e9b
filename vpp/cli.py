"""The ``vpp`` command: parses arguments and calls the package; nothing else."""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import time
from pathlib import Path

from vpp.console import (
    PROGRESS,
    add_output_options,
    configure_output,
    progress,
    progress_bar,
    version,
)
from vpp.errors import VppError
from vpp.report.outdir import check_output_folder

DEFAULT_SCENARIO = "xushuguan-factory.yaml"
ALLOW_OUTSIDE_HELP = (
    "let the input files name files outside their project folder (the parent of the "
    "folder of the file given; README 'Scenario files'); only for files you trust"
)


def _default_scenario() -> Path:
    """The demo scenario: ``scenarios/`` in the working folder, else in the source tree."""
    local = Path("scenarios") / DEFAULT_SCENARIO
    if local.is_file():
        return local
    return Path(__file__).resolve().parent.parent / "scenarios" / DEFAULT_SCENARIO


def cmd_run(args: argparse.Namespace) -> int:
    import vpp
    from vpp.report.files import write_run
    from vpp.report.text import print_summary

    start = time.perf_counter()
    say = progress(start)
    path = Path(args.scenario) if args.scenario else _default_scenario()
    from vpp.portfolio.park import is_park_file

    if is_park_file(path):
        return _run_park(path, args, say)
    say(f"scenario {path}")
    scenario = vpp.load_scenario(path, allow_outside=args.allow_outside)
    out = Path(args.out) if args.out else Path("runs") / scenario.name
    check_output_folder(out, inputs=[path])  # before the solve: a bad --out exits 2 at once
    result = vpp.run(scenario, mode=args.mode, time_limit_s=args.time_limit, progress=say)
    say(f"writing {out}/")
    files = write_run(result, out)
    print_summary(result, files)
    return 0


def _run_park(path: Path, args: argparse.Namespace, say) -> int:
    """``vpp run PARK.yaml``: the park as one virtual power plant."""
    from vpp.portfolio.park import load_park
    from vpp.portfolio.run import run_park
    from vpp.report.park_files import park_text, write_park

    say(f"park {path}")
    park = load_park(path, allow_outside=args.allow_outside)
    out = Path(args.out) if args.out else Path("runs") / park.name
    check_output_folder(out, inputs=[path])
    if (args.mode or park.spec.operation.mode) == "rolling":
        from vpp.operation.park_rolling import run_park_rolling

        result = run_park_rolling(park, time_limit_s=args.time_limit, progress=say)
    else:
        result = run_park(park, method=args.method, time_limit_s=args.time_limit, progress=say)
    say(f"writing {out}/")
    files = write_park(result, out)
    print(park_text(result))
    print(f"  wrote: {out}/ ({len(files)} files and folders)")
    return 0


def _default_forecasts() -> Path:
    """The sample forecasts: ``forecasts/`` in the working folder, else in the source tree."""
    local = Path("forecasts")
    if local.is_dir():
        return local
    return Path(__file__).resolve().parent.parent / "forecasts"


def cmd_forecast(args: argparse.Namespace) -> int:
    from vpp.report.forecast_run import run_forecast

    if (args.evaluate and args.now) or (args.weather and args.forecasts):
        print("vpp: error: --now goes with --weather, --forecasts with --evaluate", file=sys.stderr)
        return 2
    outcome = run_forecast(
        Path(args.scenario) if args.scenario else _default_scenario(),
        weather=args.weather,
        now=args.now,
        evaluate=args.evaluate,
        forecasts_dir=Path(args.forecasts) if args.forecasts else _default_forecasts(),
        out=args.out,
        allow_outside=args.allow_outside,
    )
    print(outcome.text)
    print("wrote " + ", ".join(str(p) for p in outcome.written))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from vpp.report.compare import compare_table, format_table, read_summaries, write_compare

    summaries = read_summaries(args.runs)
    out = Path(args.out) if args.out else Path("runs") / "compare"
    check_output_folder(out, inputs=args.runs)
    table = compare_table(summaries, allow_different_horizons=args.allow_different_horizons)
    written = write_compare(table, out, runs=args.runs)
    print(format_table(table))
    if any(str(c).endswith("_per_day") for c in table.columns):
        print("note: the runs cover different horizons; compare the *_per_day rows, not the totals")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def cmd_size(args: argparse.Namespace) -> int:
    import vpp
    from vpp.planning.size import size
    from vpp.report.sizing_files import sizing_text, write_sizing

    start = time.perf_counter()
    say = progress(start)
    path = Path(args.scenario)
    say(f"scenario {path}")
    scenario = vpp.load_scenario(path, allow_outside=args.allow_outside)
    out = Path(args.out) if args.out else Path("runs") / scenario.name / "sizing"
    check_output_folder(out, inputs=[path])
    result = size(
        scenario, frontier_points=args.frontier, time_limit_s=args.time_limit, progress=say
    )
    say(f"writing {out}/")
    files = write_sizing(result, out)
    print(sizing_text(result))
    print("  wrote: " + ", ".join(str(f) for f in files))
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    from vpp.jobs.plan_text import plan_text
    from vpp.jobs.schedule import run_schedule

    registry = None
    if args.db is not None or args.db_file is not None:  # the platform database's registry
        from vpp.platform.runs.registry_db import registry_of_args

        registry = registry_of_args(args)
    outcome = run_schedule(
        args.park,
        args.date,
        out_dir=args.out,
        forecasts_dir=args.forecasts,
        telemetry_dir=args.telemetry,
        notices_dir=args.notices,
        now=args.now,
        time_limit_s=args.time_limit,
        allow_outside=args.allow_outside,
        log=lambda line: print(line, file=sys.stderr, flush=True),
        intraday=args.intraday,
        registry=registry,
    )
    s = outcome.summary
    print(
        f"{s.get('park')} {s.get('date')}: {outcome.status} (run {outcome.run_id}); "
        f"{len(s.get('flags', []))} flag(s); outputs {outcome.out_dir}"
    )
    print(plan_text(s))
    for flag in s.get("flags", []):
        print(f"  flag: {flag}")
    if outcome.status != "ok":
        where = f"to {outcome.out_dir}" + (
            f" ({s['kept_schedule']['rule']})" if "kept_schedule" in s else ""
        )
        kind, _, message = str(s.get("failure", "failed: unknown")).partition(": ")
        print(
            f"vpp: error ({kind}): {message}; a safe fallback schedule was written {where}",
            file=sys.stderr,
        )
    if "registry" in s:
        note = s["registry"]
        print(
            f"vpp: error (registry): run {outcome.run_id} could not be recorded in "
            f"{note['file']} ({note['error']}); the outputs in {outcome.out_dir} are "
            f"complete and hold (status {outcome.status}); the next run records the run "
            "from them",
            file=sys.stderr,
        )
    return outcome.exit_code


def cmd_sweep(args: argparse.Namespace) -> int:
    from vpp.planning.sweep import format_table, run_sweep
    from vpp.planning.sweep_definition import load_sweep
    from vpp.report.sweep_figures import write_sweep

    if args.workers is not None and args.workers < 1:
        print(f"vpp: error: --workers must be at least 1, got {args.workers}", file=sys.stderr)
        return 2
    path = Path(args.sweep)
    sweep = load_sweep(path, allow_outside=args.allow_outside)
    out = Path(args.out) if args.out else Path("runs") / "sweeps" / path.stem
    check_output_folder(out, inputs=[path])
    where = f"Dask scheduler {args.scheduler}" if args.scheduler else "local processes"
    PROGRESS.info(f"sweep {path}: {sweep.runs} runs on {where}")
    try:
        result = run_sweep(
            sweep, workers=args.workers, scheduler=args.scheduler, progress=progress_bar()
        )
    except OSError as exc:
        if not args.scheduler:
            raise
        print(
            f"vpp: error: could not reach the Dask scheduler {args.scheduler}: {exc}. Fix: "
            "check the address (tcp://host:port) and that `dask scheduler` runs there",
            file=sys.stderr,
        )
        return 2
    written = write_sweep(result.table, result.definition(), out)
    print(format_table(result.table))
    for metric in result.unknown_metrics:
        print(f"vpp: warning: no run has the metric {metric}", file=sys.stderr)
    print(f"wrote {out}/: " + ", ".join(p.name for p in written))
    if result.failed:
        first = result.table.loc[result.table["status"] != "ok", "error"].iloc[0]
        print(f"first failure: {first}", file=sys.stderr)
        print(
            f"vpp: {result.failed} of {len(result.table)} runs failed (see {out / 'results.csv'})",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    import json

    from vpp.jobs.registry import (
        DEFAULT_OUT_DIR,
        REGISTRY_NAME,
        Registry,
        check_date,
        format_runs,
        normalize_since,
    )

    out = Path(args.out) if args.out else DEFAULT_OUT_DIR
    path = Path(args.registry) if args.registry else out / REGISTRY_NAME
    try:
        if args.date is not None:
            check_date(args.date)
        if args.since is not None:
            normalize_since(args.since)
        if args.limit is not None and args.limit < 1:
            raise ValueError(f"--limit must be at least 1, got {args.limit}")
    except ValueError as exc:
        print(f"vpp: error: {exc}", file=sys.stderr)
        return 2
    if args.db is not None or args.db_file is not None:  # the platform database's registry
        from vpp.platform.runs.registry_db import registry_of_args

        registry = registry_of_args(args, read_only=True)
    elif not path.is_file():
        print(
            f"vpp: error: no run registry at {path}. Fix: run `vpp schedule PARK --date "
            f"YYYY-MM-DD{'' if out == DEFAULT_OUT_DIR else f' --out {out}'}` first (it creates "
            "the registry), or name an existing one with --registry PATH or --out DIR",
            file=sys.stderr,
        )
        return 2
    else:
        registry = Registry(path, read_only=True)  # listing never writes to the file
    rows = registry.runs(
        date=args.date,
        status=args.status,
        site=args.site,
        park=args.park,
        since=args.since,
        limit=args.limit,
    )
    print(json.dumps(rows, indent=2) if args.json else format_runs(rows))
    return 0


def cmd_tariffs(args: argparse.Namespace) -> int:
    from vpp.tariffs import basic_charge_rules, list_calendars

    for cal in list_calendars():
        valid = f"{cal['valid_from']} .. {cal['valid_to'] or 'open'}"
        print(f"{cal['name']:<28} {valid:<26} {cal['title']}")
        source = cal["source"]
        if isinstance(source, dict):
            source = f"{source.get('document', '')} [{source.get('reliability', '?')}]"
        print(f"{'':<28} source: {source}")
        print(f"{'':<28} periods: {', '.join(cal['periods'])}")
        if cal["day_rules"]:
            rules = ", ".join(f"{k} ({'on' if v else 'off'})" for k, v in cal["day_rules"].items())
            print(f"{'':<28} day rules: {rules}")
    rules = basic_charge_rules()
    valid = f"{rules['valid_from']} .. {rules['valid_to'] or 'open'}"
    print(f"{rules['name']:<28} {valid:<26} {rules['title']}")
    print(f"{'':<28} source: {rules['source']['document']} [{rules['source']['reliability']}]")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from vpp.doctor import doctor

    report = doctor()
    print("\n".join(report.lines))
    return 0 if report.ok else 4


_DB_HELP = (
    "the platform database: sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB "
    "(default sqlite:///runs/platform.sqlite, what `vpp serve` uses)"
)


def _time_limit_s(text: str) -> float:
    """``--time-limit``: a positive, finite number of seconds (argparse exits 2 otherwise).

    NaN, infinity, zero and negative values are refused, not taken as "no limit":
    leave the option out for that.
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0.0):
        raise argparse.ArgumentTypeError(
            f"got {text[:40]!r}; allowed: a number of seconds > 0, such as 60 "
            "(leave --time-limit out for no limit)"
        )
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="vpp",
        description="Virtual power plant and PV/storage dispatch for industrial parks: "
        "optimize a scenario (run), forecast PV (forecast), compare runs (compare).",
        epilog="Exit codes: 0 ok, 2 bad input, 3 infeasible, 4 solver failure, 5 another "
        "scheduling run for the same date is in progress.",
    )
    parser.add_argument("--version", action="version", version=f"vpp {version()}")
    add_output_options(parser, defaults=True)
    from vpp.platform.db_source import add_db_options  # --db, --db-file, $VPP_DB

    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "run",
        help="optimize a site scenario, or a park file (many sites as one virtual power plant)",
    )
    p.add_argument(
        "scenario", nargs="?", help=f"scenario YAML (default: scenarios/{DEFAULT_SCENARIO})"
    )
    p.add_argument("--out", help="output folder (default: runs/<scenario-name>/)")
    p.add_argument(
        "--mode",
        choices=("perfect", "rolling"),
        help="perfect: one optimization with perfect foresight; rolling: re-optimize daily on "
        "forecasts and settle on actuals (needs the scenario's operation.rolling settings); "
        "default: the scenario's operation.mode",
    )
    p.add_argument(
        "--method",
        choices=("monolithic", "decomposed", "auto"),
        help="for a park: one LP, or the sites solved apart and coordinated by prices "
        "(default: the park file's solve.method)",
    )
    p.add_argument("--time-limit", type=_time_limit_s, default=None, help="solver time limit [s]")
    p.add_argument("--allow-outside", action="store_true", help=ALLOW_OUTSIDE_HELP)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser(
        "forecast",
        help="PV forecast per array from a weather-forecast file, or evaluate forecasts",
        description="vpp forecast SCENARIO --weather FILE [--now TIME] [--out DIR] writes "
        "pv_forecast.csv/.parquet/.png; vpp forecast SCENARIO --evaluate MEASURED.csv "
        "[--forecasts DIR] [--out DIR] evaluates every forecast file in DIR against measured "
        "PV and writes evaluation.csv/.png. Formats: forecasts/README.md.",
    )
    p.add_argument(
        "scenario", nargs="?", help=f"scenario YAML (default: scenarios/{DEFAULT_SCENARIO})"
    )
    what = p.add_mutually_exclusive_group()
    what.add_argument(
        "--weather", help="weather-forecast file (default: the scenario's site.weather.file)"
    )
    what.add_argument(
        "--evaluate", metavar="MEASURED.csv", help="measured PV [kW] to score the forecasts against"
    )
    p.add_argument("--forecasts", help="folder of forecast files to evaluate (default: forecasts/)")
    p.add_argument(
        "--now",
        help="the present, ISO 8601 (naive: scenario time zone); refuses forecasts issued "
        "after it or whose period ended before it",
    )
    p.add_argument(
        "--out",
        help="output folder (default: runs/<scenario>/forecast-<first day>/ or "
        "runs/<scenario>/forecast-evaluation/)",
    )
    p.add_argument("--allow-outside", action="store_true", help=ALLOW_OUTSIDE_HELP)
    p.set_defaults(func=cmd_forecast)
    p = sub.add_parser(
        "compare",
        help="KPIs of run folders side by side (compare.csv and compare.png)",
        description="vpp compare RUN_DIR... reads each folder's summary.json and writes the "
        "KPIs side by side (horizon; savings, peak shaving and emission cuts against each "
        "baseline, self-consumption, self-sufficiency, curtailment, cycles) to --out. Runs "
        "must cover the same horizon (start and end) unless --allow-different-horizons.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="folders written by `vpp run`")
    p.add_argument("--out", help="output folder (default: runs/compare/)")
    p.add_argument(
        "--allow-different-horizons",
        action="store_true",
        help="compare runs over different horizons (start or end): adds money, energy and "
        "CO2 per day of each run's horizon (columns *_per_day); without it such runs are "
        "refused (exit 2), as their totals cover different periods",
    )
    p.set_defaults(func=cmd_compare)
    p = sub.add_parser(
        "sweep",
        help="run a scenario for every combination of parameter values, in parallel",
        description="vpp sweep SWEEP.yaml runs the sweep file's scenario for every "
        "combination of its parameters (local processes, or a Dask cluster with "
        "--scheduler) and writes results.csv/.parquet, sweep.json and heat maps. A "
        "parameter given as a mapping of key paths is linked: its values step together "
        "(or give a battery's energy_kwh list and duration_h). mode: run dispatches each "
        "combination, size sizes it, finance dispatches it at the sizes given and values "
        "the entries with a sizing entry (NPV, IRR, payback) against the site without "
        "them. Examples: scenarios/sweeps/battery-and-tariff.yaml, battery-finance.yaml; "
        "docs/sweeps.md. Exit 1 when a run failed.",
    )
    p.add_argument("sweep", metavar="SWEEP.yaml", help="the sweep file")
    p.add_argument("--out", help="output folder (default: runs/sweeps/<sweep file name>/)")
    p.add_argument(
        "--workers", type=int, help="local worker processes (default: the number of CPUs)"
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on this Dask scheduler (tcp://host:port) instead of local processes; "
        "its workers need vpp installed and the scenario's files at the same paths",
    )
    p.add_argument("--allow-outside", action="store_true", help=ALLOW_OUTSIDE_HELP)
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser(
        "size",
        help="size PV and storage at least lifecycle cost, with NPV, IRR, payback, LCOE",
        description="vpp size SCENARIO chooses the kWp of each PV array and the kWh/kW of each "
        "battery that carry a 'sizing' entry, minimizing annualized investment plus the "
        "horizon's bill; values the investment against the site as it is (scenario key "
        "'finance'); writes summary.json, sizes.csv, cash_flows.csv/.png, "
        "sized-scenario.yaml and dispatch/ (and frontier.csv/.png with --frontier).",
    )
    p.add_argument(
        "scenario", help="planning scenario YAML (see scenarios/xushuguan-factory-planning.yaml)"
    )
    p.add_argument("--out", help="output folder (default: runs/<scenario-name>/sizing/)")
    p.add_argument(
        "--frontier",
        type=int,
        default=0,
        metavar="N",
        help="also compute N points of the cost-carbon frontier (least cost under caps on "
        "location-based electricity emissions)",
    )
    p.add_argument(
        "--time-limit", type=_time_limit_s, default=None, help="solver time limit per solve [s]"
    )
    p.add_argument("--allow-outside", action="store_true", help=ALLOW_OUTSIDE_HELP)
    p.set_defaults(func=cmd_size)
    p = sub.add_parser(
        "runs",
        help="list the runs of the daily scheduling job from its registry",
        description="vpp runs lists the runs recorded in the daily job's registry, newest "
        "first: id, date, park, status (running, ok, fallback, failed), exit code, start, "
        "duration, objective and message. A run whose process died shows as failed once "
        "the next run has started. Exit 2 when the registry does not exist.",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--registry", metavar="PATH", help="the registry file")
    where.add_argument(
        "--out",
        metavar="DIR",
        help="the job's output folder, holding registry.sqlite (default: runs/schedule/)",
    )
    add_db_options(where, _DB_HELP, optional_url=True)
    p.add_argument("--date", help="only runs for this day, YYYY-MM-DD")
    p.add_argument("--status", choices=("running", "ok", "fallback", "failed"))
    p.add_argument("--site", help="only runs whose KPIs include this site")
    p.add_argument("--park", help="only runs of this park")
    p.add_argument("--since", help="only runs started at or after this ISO date or time (UTC)")
    p.add_argument("--limit", type=int, metavar="N", help="at most N runs")
    p.add_argument("--json", action="store_true", help="print the runs as JSON")
    p.set_defaults(func=cmd_runs)
    p = sub.add_parser(
        "schedule",
        help="the daily job: tomorrow's park schedules from forecasts and telemetry",
        description="vpp schedule PARK --date YYYY-MM-DD writes <out>/<date>/ (per-site "
        "15-min schedules, park plan, summary.json with every source and flag), records the "
        "run in <out>/registry.sqlite and writes a safe fallback schedule on any failure. "
        "docs/operations.md: cron and systemd units, exit codes, fallbacks.",
    )
    p.add_argument("park", help="park file (see scenarios/park/xushuguan-park.yaml)")
    p.add_argument("--date", required=True, help="the day to schedule, YYYY-MM-DD (local)")
    p.add_argument("--out", default="runs/schedule", help="output root (default runs/schedule)")
    p.add_argument("--forecasts", default="forecasts", help="weather-forecast folder")
    p.add_argument(
        "--telemetry",
        help="telemetry folder: soc.csv, load-/pv-/grid-/ev-<site>.csv (docs/telemetry.md)",
    )
    p.add_argument("--notices", help="folder of demand-response notices (*.yaml)")
    add_db_options(
        p,
        "record the run in the platform database's registry instead of <out>/registry"
        ".sqlite; " + _DB_HELP,
        optional_url=True,
    )
    p.add_argument(
        "--now",
        help="the present, ISO 8601 (default: 15:00 the day before; --intraday: the clock)",
    )
    p.add_argument(
        "--intraday",
        action="store_true",
        help="re-plan the rest of --date (today) from the latest telemetry, keeping the "
        "committed offers and the day-ahead peak targets unless they must break",
    )
    p.add_argument("--time-limit", type=_time_limit_s, default=None, help="wall-clock budget [s]")
    p.add_argument("--allow-outside", action="store_true", help=ALLOW_OUTSIDE_HELP)
    p.set_defaults(func=cmd_schedule)
    p = sub.add_parser("tariffs", help="list the built-in tariff calendars")
    p.set_defaults(func=cmd_tariffs)
    p = sub.add_parser("doctor", help="check that HiGHS, pvlib and the rest work")
    p.set_defaults(func=cmd_doctor)
    from vpp.platform.commands import add_commands

    add_commands(sub)  # serve and keys: the park platform (docs/platform.md)
    for command in sub.choices.values():  # -q and -v also after the subcommand
        add_output_options(command, defaults=False)
    args = parser.parse_args(argv)
    if args.quiet and args.verbose:
        parser.error("-q (quiet) and -v (verbose) contradict each other: give one")
    configure_output(args.quiet, args.verbose)
    try:
        return args.func(args)
    except VppError as exc:
        kind = type(exc).__name__.removesuffix("Error").lower()
        print(f"vpp: error ({kind}): {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"vpp: error: could not read or write a file: {exc}", file=sys.stderr)
        return 1


def entry_point() -> None:
    """The console script: run :func:`main`, then leave without tearing the heap down.

    A year of 15-minute steps leaves millions of small Pyomo objects; freeing them one
    by one at interpreter exit takes longer than writing the outputs. Every output is
    complete and closed when :func:`main` returns, so the process flushes its streams
    and exits at once (as mypy does).
    """
    gc.disable()  # a short-lived process: the cyclic collector only slows model building
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry_point()
