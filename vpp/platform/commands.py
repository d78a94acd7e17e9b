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

__all__ = ["add_commands", "cmd_keys", "cmd_mqtt_access", "cmd_serve"]

_PASSWORD_ENV = "VPP_MQTT_PASSWORD"  # vpp.platform.mqtt_access.PASSWORD_ENV (not imported here)
_DB_HELP = (
    "database URL: sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB "
    "(default: sqlite:///runs/platform.sqlite)"
)


_ALERTS_HELP = (
    "alert settings: webhook URL and retries, evaluation interval, telemetry-gap thresholds, "
    "targets per park and site (vpp.platform.alerts.settings)"
)


def _open(args: argparse.Namespace) -> Any:
    """The :class:`~vpp.platform.service.Platform` of ``--db``, ``--db-file``, ``$VPP_DB``
    or the default, in that order (:mod:`vpp.platform.db_source`)."""
    from vpp.platform.db import default_url
    from vpp.platform.db_source import db_from_args
    from vpp.platform.service import Platform

    found = db_from_args(args, default_url)
    assert found is not None  # a default is given
    return Platform.open(found.url, source=found.source)


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate the database, register ``--park`` files, serve the API with uvicorn."""
    import uvicorn

    from vpp.platform.alerts import configure as configure_alerts
    from vpp.platform.alerts.settings import load_settings as load_alert_settings
    from vpp.platform.app import create_app
    from vpp.platform.monitoring.service import warm_in_background
    from vpp.platform.parks import register_park
    from vpp.platform.refusals import PlatformRefusal
    from vpp.platform.runs.supervisor import RunSupervisor

    if args.root_path and (not args.root_path.startswith("/") or args.root_path.endswith("/")):
        print(
            f"vpp: error: --root-path {args.root_path!r}: a path prefix starting with / and "
            "not ending with one, e.g. /vpp (the proxy's location without its last /)",
            file=sys.stderr,
        )
        return 2
    if args.demo:  # the demo park, a week of demo telemetry, a key (vpp.platform.demo)
        from vpp.platform.db_source import db_from_args
        from vpp.platform.demo import demo_platform

        given = db_from_args(args, None, use_env=False)  # never the $VPP_DB database
        platform = demo_platform(given, args.host, args.port)
    else:
        platform = _open(args)
    for file in args.park or []:
        try:
            park = register_park(platform.sessions, file)
        except PlatformRefusal as exc:
            print(f"vpp: error: --park {file}: {exc.message}", file=sys.stderr)
            return 2
        print(f"park {park['park']}: sites {', '.join(park['sites'])}", file=sys.stderr)
    print(f"vpp serve: database {platform.url} ({platform.source})", file=sys.stderr, flush=True)
    runs = RunSupervisor(  # finishes or watches again the runs a stopped server left
        platform,
        Path(args.runs_dir),
        workers=args.workers,
        forecasts_dir=Path(args.forecasts),
        scenario_roots=args.scenario_dir,
    )
    recovered = runs.recovered
    if any(recovered.values()):
        print(f"vpp serve: runs a stopped server left: {recovered}", file=sys.stderr)
    if args.alerts:  # webhook, thresholds, targets (vpp.platform.alerts.settings)
        configure_alerts(platform, load_alert_settings(args.alerts))
    app = create_app(platform, max_body_bytes=args.max_body_bytes, runs=runs)
    app.state.demo = bool(args.demo)  # the dashboard labels demo telemetry as such
    mqtt = None
    if args.mqtt:
        mqtt = _start_mqtt(platform, args)
        if isinstance(mqtt, int):
            platform.close()
            return mqtt
        app.state.mqtt = mqtt
    warm_in_background(platform)  # the park pages' views computed once at start
    try:
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            root_path=args.root_path,
        )
    finally:
        if mqtt is not None:
            mqtt.stop()
        platform.close()  # the queued readings are committed before the process ends
    return 0


def _start_mqtt(platform: Any, args: argparse.Namespace) -> Any:
    """The started MQTT service of ``--mqtt``, or the exit code after a printed message
    (2: bad option or password source; 1: the broker failed, as ``BrokerError``)."""
    from vpp.platform.mqtt_access import platform_password
    from vpp.platform.mqtt_service import MqttService, parse_broker
    from vpp.platform.refusals import PlatformRefusal
    from vpp.platform_mqtt import BrokerError, BrokerSettings

    try:
        host, port = parse_broker(args.mqtt)
        password = platform_password(args.mqtt_password_file)
    except ValueError as exc:
        print(f"vpp: error: {exc}", file=sys.stderr)
        return 2
    except PlatformRefusal as exc:
        print(f"vpp: error: {exc.message}", file=sys.stderr)
        return 2
    settings = BrokerSettings(
        host=host,
        port=port,
        username=args.mqtt_user,
        password=password,
        tls_ca_file=args.mqtt_ca_file,
    )
    service = MqttService(platform, settings)
    try:
        service.start()
    except BrokerError as exc:
        print(f"vpp: error: {exc}", file=sys.stderr)
        return exc.exit_code
    status = service.status()["publisher"]
    print(
        f"vpp serve: MQTT {settings.where()}: {status['republished_at_start']} schedule(s) "
        f"re-published, telemetry of {', '.join(service.parks or []) or 'no park'}",
        file=sys.stderr,
        flush=True,
    )
    return service


def cmd_keys(args: argparse.Namespace) -> int:
    """Create, list or revoke API keys in the database."""
    from vpp.platform.keys import create_key, list_keys, revoke_key
    from vpp.platform.refusals import PlatformRefusal

    platform = _open(args)
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


def cmd_mqtt_access(args: argparse.Namespace) -> int:
    """Create, list or revoke the sites' broker users; write the broker's files."""
    from vpp.platform import mqtt_access as access
    from vpp.platform.refusals import PlatformRefusal
    from vpp.platform_mqtt import MqttUser

    platform = _open(args)
    try:
        if args.action == "create":
            made = access.create_site_user(platform.sessions, args.park, args.site)
            print(
                f"MQTT user {made.username} created (any earlier one revoked); "
                "its password, shown this once:"
            )
            print(made.password)
            print(
                "write the broker's files again: vpp mqtt-access write --out FOLDER",
                file=sys.stderr,
            )
            return 0
        if args.action == "list":
            rows = access.list_site_users(platform.sessions)
            print(json.dumps(rows, indent=2) if args.json else _users_table(rows))
            return 0
        if args.action == "revoke":
            count = access.revoke_site_user(platform.sessions, args.park, args.site)
            if count == 0:
                print(
                    f"vpp: error: {args.park}/{args.site} has no active MQTT user", file=sys.stderr
                )
                return 2
            print(
                f"MQTT user of {args.park}/{args.site} revoked; it loses access when the "
                "broker reads the files written next (vpp mqtt-access write, then SIGHUP)"
            )
            return 0
        user = MqttUser(args.mqtt_user, access.platform_password(args.mqtt_password_file))
        files, created = access.write_access(
            platform.sessions,
            args.out,
            user,
            host=args.host,
            port=args.port,
            run_as=args.run_as,
            create_missing=not args.no_create,
        )
        made = [
            {"park": u.park, "site": u.site, "username": u.username, "password": u.password}
            for u in created
        ]
        if args.json:
            print(json.dumps({"folder": str(Path(args.out)), "created": made}, indent=2))
        else:
            print(
                f"wrote {files.password_file}, {files.acl_file} and "
                f"{Path(args.out) / 'mosquitto.conf'}; send the broker SIGHUP"
            )
            if made:
                print("new MQTT users, their passwords shown this once:")
            for u in made:
                print(f"{u['username']} {u['password']}")
        return 0
    except PlatformRefusal as exc:
        print(f"vpp: error: {exc.message}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"vpp: error: {exc}", file=sys.stderr)
        return 2
    finally:
        platform.close()


def _users_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'user':<48}{'created (UTC)':<27}state"]
    for r in rows:
        state = "revoked" if r["revoked"] else "active"
        lines.append(f"{r['username']:<48}{r['created_at'][:19]:<27}{state}")
    return "\n".join(lines)


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
    from vpp.platform.db_source import add_db_options
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
    add_db_options(p, _DB_HELP)
    p.add_argument("--park", action="append", metavar="PARK.yaml", help="register a park file")
    p.add_argument(
        "--demo",
        action="store_true",
        help="load the demo park, a week of demo telemetry and today's schedule into a fresh "
        "database (runs/demo/ unless --db or --db-file; never $VPP_DB's) and print a demo "
        "operator key",
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
        help="where runs started through the API write: <dir>/<park>/ (the job's output "
        "root, as vpp schedule --out) and <dir>/requests/<id>/ (log, inputs, outputs)",
    )
    p.add_argument("--forecasts", default="forecasts", help="weather-forecast folder of runs")
    p.add_argument("--workers", type=int, default=2, help="most runs at once (default 2)")
    p.add_argument(
        "--scenario-dir",
        action="append",
        metavar="DIR",
        help="a folder scenario runs may come from (repeatable; default scenarios/)",
    )
    p.add_argument(
        "--root-path",
        default="",
        metavar="PREFIX",
        help="the path prefix a reverse proxy serves the platform under, e.g. /vpp for "
        "nginx's location /vpp/ { proxy_pass http://127.0.0.1:8000/; } (which strips it): "
        "the dashboard's links, redirects and cookie carry it (default: none, the root)",
    )
    p.add_argument("--alerts", metavar="ALERTS.yaml", help=_ALERTS_HELP)
    p.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug")
    )
    p.add_argument(
        "--mqtt",
        metavar="HOST:PORT",
        help="publish schedules to and take telemetry from this MQTT broker "
        "(docs/platform-mqtt.md); the platform user's password comes from "
        f"${_PASSWORD_ENV} or --mqtt-password-file",
    )
    _platform_user_args(p)
    p.add_argument("--mqtt-ca-file", help="CA certificate: connect to the broker with TLS")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser(
        "keys",
        help="create, list or revoke the platform's API keys",
        description="vpp keys create --role site|operator|admin [--park P --site S] prints a "
        "new key once (only its salted hash is stored); list shows every key without its "
        "secret; revoke KEY_ID refuses the key from the next request on.",
    )
    add_db_options(p, _DB_HELP)
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
        add_db_options(action, _DB_HELP, suppress=True)
    p.set_defaults(func=cmd_keys)
    _add_mqtt_access(sub)


def _platform_user_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--mqtt-user", default="vpp-platform", help="the platform's broker user (vpp-platform)"
    )
    p.add_argument(
        "--mqtt-password-file",
        metavar="FILE",
        help=f"a file whose first line is the platform user's broker password "
        f"(default: ${_PASSWORD_ENV}); never a password on the command line",
    )


def _add_mqtt_access(sub: Any) -> None:
    from vpp.platform.db_source import add_db_options

    p = sub.add_parser(
        "mqtt-access",
        help="the MQTT broker's users and ACL: one user per site, stored hashed",
        description="vpp mqtt-access write --out FOLDER writes Mosquitto's passwd, acl and "
        "mosquitto.conf for the platform user and every registered site (a site without a "
        "user gets one, its password shown once); create/revoke/list manage one site's user "
        "as vpp keys does API keys (docs/platform.md).",
    )
    add_db_options(p, _DB_HELP)
    actions = p.add_subparsers(dest="action", required=True)
    write = actions.add_parser("write", help="write passwd, acl and mosquitto.conf")
    write.add_argument("--out", required=True, metavar="FOLDER", help="where the files go")
    write.add_argument("--host", default="127.0.0.1", help="the broker's listening address")
    write.add_argument("--port", type=int, default=1883, help="the broker's port")
    write.add_argument("--run-as", help="the system user mosquitto runs as (reads the files)")
    write.add_argument(
        "--no-create", action="store_true", help="create no user for sites that have none"
    )
    write.add_argument("--json", action="store_true", help="as JSON (new passwords included)")
    _platform_user_args(write)
    create = actions.add_parser("create", help="a site's user with a new password, shown once")
    revoke = actions.add_parser("revoke", help="revoke a site's user")
    for action in (create, revoke):
        action.add_argument("--park", required=True, help="the site's park")
        action.add_argument("--site", required=True, help="the site")
    listing = actions.add_parser("list", help="every site user, without hashes")
    listing.add_argument("--json", action="store_true", help="as JSON")
    for action in (write, create, revoke, listing):
        add_db_options(action, _DB_HELP, suppress=True)
    p.set_defaults(func=cmd_mqtt_access)
