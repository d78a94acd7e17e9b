"""``vpp serve`` and ``vpp keys``: their arguments and what they call.

:func:`add_commands` adds both subcommands to ``vpp``'s parser; nothing heavy is
imported until one of them runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_commands", "cmd_keys", "cmd_serve"]

_DB_HELP = (
    "database URL: sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB "
    "(default: sqlite:///runs/platform.sqlite)"
)


_ALERTS_HELP = (
    "alert settings: webhook URL and retries, evaluation interval, telemetry-gap thresholds, "
    "targets per park and site (vpp.platform.alerts.settings)"
)


def _url(args: argparse.Namespace) -> str:
    from vpp.platform.db import default_url

    return args.db or default_url()


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate the database, register ``--park`` files, serve the API with uvicorn."""
    import uvicorn

    from vpp.platform.alerts import configure as configure_alerts
    from vpp.platform.alerts.settings import load_settings as load_alert_settings
    from vpp.platform.app import create_app
    from vpp.platform.monitoring.service import warm_in_background
    from vpp.platform.parks import register_park
    from vpp.platform.refusals import PlatformRefusal
    from vpp.platform.runs import RunSettings, end_orphans
    from vpp.platform.service import Platform

    if args.demo:  # the demo park, a week of demo telemetry, a key (vpp.platform.demo)
        from vpp.platform.demo import demo_platform

        platform = demo_platform(args.db, args.host, args.port)
    else:
        platform = Platform.open(_url(args))
    orphans = end_orphans(platform)
    if orphans:
        print(
            f"vpp serve: {orphans} run(s) left running by a stopped server: failed", file=sys.stderr
        )
    for file in args.park or []:
        try:
            park = register_park(platform.sessions, file)
        except PlatformRefusal as exc:
            print(f"vpp: error: --park {file}: {exc.message}", file=sys.stderr)
            return 2
        print(f"park {park['park']}: sites {', '.join(park['sites'])}", file=sys.stderr)
    print(f"vpp serve: database {platform.url}", file=sys.stderr, flush=True)
    settings = RunSettings(out_root=Path(args.runs_dir), forecasts_dir=Path(args.forecasts))
    if args.alerts:  # webhook, thresholds, targets (vpp.platform.alerts.settings)
        configure_alerts(platform, load_alert_settings(args.alerts))
    app = create_app(platform, max_body_bytes=args.max_body_bytes, run_settings=settings)
    app.state.demo = bool(args.demo)  # the dashboard labels demo telemetry as such
    warm_in_background(platform)  # the park pages' views computed once at start
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    finally:
        platform.close()  # the queued readings are committed before the process ends
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    """Create, list or revoke API keys in the database."""
    from vpp.platform.keys import create_key, list_keys, revoke_key
    from vpp.platform.refusals import PlatformRefusal
    from vpp.platform.service import Platform

    platform = Platform.open(_url(args))
    try:
        if args.action == "create":
            key_id, text = create_key(
                platform.sessions, args.role, park=args.park, site=args.site, label=args.label
            )
            print(f"key {key_id} ({args.role}) created; its text, shown this once:")
            print(text)
            return 0
        if args.action == "list":
            rows = list_keys(platform.sessions)
            print(json.dumps(rows, indent=2) if args.json else _keys_table(rows))
            return 0
        if not revoke_key(platform.sessions, args.key_id):
            print(f"vpp: error: no key {args.key_id!r} (see `vpp keys list`)", file=sys.stderr)
            return 2
        print(f"key {args.key_id} revoked")
        return 0
    except PlatformRefusal as exc:
        print(f"vpp: error: {exc.message}", file=sys.stderr)
        return 2
    finally:
        platform.close()


def _keys_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'key id':<14}{'role':<10}{'site':<32}{'created (UTC)':<27}state  label"]
    for r in rows:
        where = f"{r['park']}/{r['site']}" if r["site"] else "-"
        state = "revoked" if r["revoked"] else "active "
        lines.append(
            f"{r['key_id']:<14}{r['role']:<10}{where:<32}{r['created_at'][:19]:<27}"
            f"{state}{r['label']}"
        )
    return "\n".join(lines)


def add_commands(sub: Any) -> None:
    """Add ``serve`` and ``keys`` to ``vpp``'s subcommands."""
    from vpp.platform.limits import DEFAULT_MAX_BODY_BYTES

    p = sub.add_parser(
        "serve",
        help="the park platform: HTTP API (telemetry in, schedules out) over a database",
        description="vpp serve migrates the database (SQLite by default, PostgreSQL by URL) "
        "and serves the API under /api/v1 with OpenAPI docs at /docs (docs/platform.md). "
        "Create the first key with `vpp keys create --role admin`.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="port to listen on")
    p.add_argument("--db", help=_DB_HELP)
    p.add_argument("--park", action="append", metavar="PARK.yaml", help="register a park file")
    p.add_argument(
        "--demo",
        action="store_true",
        help="load the demo park, a week of demo telemetry and today's schedule into a fresh "
        "database (runs/demo/ unless --db) and print a demo operator key",
    )
    p.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        help=f"largest request body, else 413 (default {DEFAULT_MAX_BODY_BYTES}) [bytes]",
    )
    p.add_argument(
        "--runs-dir",
        default="runs/platform",
        help="where runs started through the API write (<dir>/<park>/<date>/, as vpp schedule)",
    )
    p.add_argument("--forecasts", default="forecasts", help="weather-forecast folder of runs")
    p.add_argument("--alerts", metavar="ALERTS.yaml", help=_ALERTS_HELP)
    p.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug")
    )
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser(
        "keys",
        help="create, list or revoke the platform's API keys",
        description="vpp keys create --role site|operator|admin [--park P --site S] prints a "
        "new key once (only its salted hash is stored); list shows every key without its "
        "secret; revoke KEY_ID refuses the key from the next request on.",
    )
    p.add_argument("--db", help=_DB_HELP)
    actions = p.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="a new key, its text shown once")
    create.add_argument("--role", required=True, choices=("site", "operator", "admin"))
    create.add_argument("--park", help="a site key's park")
    create.add_argument("--site", help="a site key's site")
    create.add_argument("--label", default="", help="who holds the key")
    listing = actions.add_parser("list", help="every key, without secrets")
    listing.add_argument("--json", action="store_true", help="as JSON")
    revoke = actions.add_parser("revoke", help="revoke a key")
    revoke.add_argument("key_id", help="the key's id (vpp keys list)")
    for action in (create, listing, revoke):
        action.add_argument("--db", help=_DB_HELP, default=argparse.SUPPRESS)
    p.set_defaults(func=cmd_keys)
