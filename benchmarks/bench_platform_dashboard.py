"""Time the dashboard's park page with a month of data for many sites (issue 17: < 1 s).

A park of ``--sites`` sites (copies of the four demo sites, scenarios/park/sites/) is
registered on a fresh database (SQLite in a temporary folder; PostgreSQL in a throwaway
cluster, :mod:`vpp.platform.pg_cluster`); each site gets a month of 15-minute readings
of ``import_kw``, ``export_kw`` and ``load_kw`` (July 2026, inserted in bulk, not
through the API) and the platform's clock stands at 2026-07-31 23:50 local. The park
page (``GET /dashboard/parks/{park}``, logged in with an operator key) is then
rendered:

- ``bulk``: the first render right after the bulk load, no day summary stored yet:
  every site's past days computed and stored once (a one-off cost);
- ``restart``: the first render of a fresh process (a new :class:`Platform` on the same
  database, monitoring's in-memory state dropped) with the summaries stored: the park
  file loaded, every site's stored days read, today computed;
- ``restart, warmed``: the same after :func:`warm_in_background` (as ``vpp serve``
  starts it) has finished;
- ``warm``: again, nothing new (each site's result kept);
- ``one site new``: after one new reading at one site (that site's today recomputed);
- ``every site new``: every site gets its next 15-minute reading (the production
  case: 200 sites posting every 15 minutes; the present step moves too), written in bulk
  as the readings of a quarter hour;
- ``late reading``: one site gets a reading for a past day (that day recomputed).

Run from the repository root::

    python benchmarks/bench_platform_dashboard.py [--sites 200] [--repeat 3] \
        [--db sqlite,postgresql] [--record]

``--record`` stores the figures under ``platform_dashboard`` in
``benchmarks/results.json`` and as a section of ``benchmarks/results.txt``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform as host
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import insert

from vpp.platform import Platform, create_app
from vpp.platform.keys import create_key
from vpp.platform.models import Reading
from vpp.platform.monitoring.days import day_computations
from vpp.platform.monitoring.service import warm_in_background
from vpp.platform.parks import list_sites, register_park

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ("electronics", "biomedicine", "logistics", "rnd-offices")
PARK = "bench-park"
NOW = dt.datetime(2026, 7, 31, 4, 10, tzinfo=dt.UTC)  # 12:10 in Shanghai
MONTH_START_UTC = dt.datetime(2026, 6, 30, 16, 0)  # 2026-07-01 00:00 local, naive UTC
STEP = dt.timedelta(minutes=15)
STEPS = 30 * 96 + 48  # every step that has ended by NOW
CHANNELS = ("load_kw", "import_kw", "export_kw")


def make_park(folder: Path, n_sites: int) -> Path:
    """A park file of ``n_sites`` copies of the demo sites."""
    (folder / "sites").mkdir(parents=True)
    source = ROOT / "scenarios" / "park" / "sites"
    for extra in source.glob("*.csv"):
        (folder / "sites" / extra.name).write_text(extra.read_text())
    entries = []
    for i in range(n_sites):
        template = TEMPLATES[i % len(TEMPLATES)]
        data = yaml.safe_load((source / f"{template}.yaml").read_text())
        name = f"{template}-{i:03d}"
        data["name"] = name
        data["site"]["name"] = name
        (folder / "sites" / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        entries.append({"file": f"sites/{name}.yaml"})
    park = {
        "name": PARK,
        "timezone": "Asia/Shanghai",
        "horizon": {"start": "2026-07-15", "days": 1, "step": "15min"},
        "sites": entries,
    }
    path = folder / "bench-park.yaml"
    path.write_text(yaml.safe_dump(park, sort_keys=False))
    return path


def _row(site_id: int, channel: str, stamp: dt.datetime, value: float) -> dict[str, Any]:
    return {
        "site_id": site_id,
        "channel": channel,
        "timestamp_utc": stamp,
        "value": value,
        "received_at": NOW.replace(tzinfo=None),
    }


def fill(platform: Platform) -> int:
    """A month of readings for every site, inserted in bulk; returns the count."""
    rng = np.random.default_rng(1)
    stamps = [MONTH_START_UTC + k * STEP for k in range(STEPS)]
    hours = (np.arange(STEPS) % 96) / 4.0
    shape = 0.6 + 0.4 * np.clip(np.sin((hours - 6.0) / 12.0 * np.pi), 0.0, None)
    count = 0
    with platform.engine.begin() as connection:
        for ref in list_sites(platform.sessions, PARK):
            load = 1000.0 * shape * rng.uniform(0.9, 1.1, STEPS)
            rows = []
            for channel, values in zip(CHANNELS, (load, load * 0.9, np.zeros(STEPS)), strict=True):
                rows += [
                    _row(ref.site_id, channel, t, float(v))
                    for t, v in zip(stamps, values, strict=True)
                ]
            connection.execute(insert(Reading), rows)
            count += len(rows)
    return count


def render(client: TestClient) -> float:
    """One render of the park page [s]."""
    start = time.perf_counter()
    answer = client.get(f"/dashboard/parks/{PARK}")
    elapsed = time.perf_counter() - start
    assert answer.status_code == 200, answer.text[:500]
    return elapsed


def login(platform: Platform) -> TestClient:
    _, key = create_key(platform.sessions, "operator")
    client = TestClient(create_app(platform), follow_redirects=False)
    assert client.post("/login", data={"key": key}).status_code == 303
    return client


def restart(url: str, warmed: bool) -> dict[str, Any]:
    """The first render in a fresh process (this script with ``--child``)."""
    command = [sys.executable, __file__, "--child", url] + (["--warmed"] if warmed else [])
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=900)
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(url: str, warmed: bool) -> None:
    """A fresh process's first render (and what it computed), printed as JSON."""
    platform = Platform.open(url)
    platform.clock = lambda: NOW
    client = login(platform)
    warm_s = None
    if warmed:
        start = time.perf_counter()
        warm_in_background(platform).join()
        warm_s = time.perf_counter() - start
    before = day_computations(platform)
    first = render(client)
    print(
        json.dumps(
            {
                "render_s": first,
                "warm_thread_s": warm_s,
                "days_computed": day_computations(platform) - before,
            }
        )
    )
    platform.close()


def bench_db(kind: str, url: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Every case on one database (module docstring)."""
    global NOW
    NOW = dt.datetime(2026, 7, 31, 4, 10, tzinfo=dt.UTC)
    park_path = folder / f"park-{kind}" / "bench-park.yaml"
    if not park_path.exists():
        make_park(park_path.parent, args.sites)
    platform = Platform.open(url)
    platform.clock = lambda: NOW
    register_park(platform.sessions, park_path)
    start = time.perf_counter()
    n = fill(platform)
    out: dict[str, Any] = {"db": kind, "sites": args.sites, "readings": n}
    out["insert_s"] = time.perf_counter() - start
    client = login(platform)
    out["bulk_s"] = render(client)
    out["bulk_days_computed"] = day_computations(platform)
    out["warm_s"] = [render(client) for _ in range(args.repeat)]
    refs = list_sites(platform.sessions, PARK)
    one = []
    for k in range(args.repeat):
        stamp = NOW - dt.timedelta(minutes=25 + 15 * k)  # a step of today that has ended
        platform.store_readings(
            PARK,
            refs[0].site,
            [{"channel": "heat_gj", "timestamp": stamp.isoformat(), "value": 1.0}],
        )
        one.append(render(client))
    out["one_site_new_s"] = one
    every = []
    for _ in range(args.repeat):
        label = NOW.replace(tzinfo=None) - dt.timedelta(minutes=10)  # the step ending now
        NOW += STEP
        rows = [_row(r.site_id, c, label, 900.0) for r in refs for c in CHANNELS]
        with platform.engine.begin() as connection:
            connection.execute(insert(Reading), rows)
        every.append(render(client))
    out["every_site_new_s"] = every
    before = day_computations(platform)
    platform.store_readings(
        PARK,
        refs[1].site,
        [{"channel": "heat_gj", "timestamp": "2026-07-03T08:00:00+08:00", "value": 2.0}],
    )
    out["late_reading_s"] = render(client)
    out["late_days_computed"] = day_computations(platform) - before
    platform.close()
    for warmed in (False, True):
        name = "restart_warmed" if warmed else "restart"
        facts = restart(url, warmed)
        out[f"{name}_s"] = facts["render_s"]
        out[f"{name}_days_computed"] = facts["days_computed"]
        if warmed:
            out["warm_thread_s"] = facts["warm_thread_s"]
    return out


def table(runs: list[dict[str, Any]], repeat: int) -> list[str]:
    """The figures as text lines."""
    med = statistics.median
    lines = [
        f"park page, {runs[0]['sites']} sites x a month of 15-min readings (median of {repeat})"
    ]
    rows = [
        ("readings inserted in bulk", lambda r: f"{r['readings']:,} in {r['insert_s']:.0f} s"),
        (
            "first render after the bulk load [s]",
            lambda r: f"{r['bulk_s']:.3f} ({r['bulk_days_computed']} days computed)",
        ),
        (
            "restart, summaries stored [s]",
            lambda r: f"{r['restart_s']:.3f} ({r['restart_days_computed']} days computed)",
        ),
        (
            "restart after the warm thread [s]",
            lambda r: f"{r['restart_warmed_s']:.3f} (thread {r['warm_thread_s']:.1f} s)",
        ),
        ("warm [s]", lambda r: f"{med(r['warm_s']):.3f}"),
        ("one site new [s]", lambda r: f"{med(r['one_site_new_s']):.3f}"),
        ("every site new (next 15 min) [s]", lambda r: f"{med(r['every_site_new_s']):.3f}"),
        (
            "a late reading for a past day [s]",
            lambda r: f"{r['late_reading_s']:.3f} ({r['late_days_computed']} day computed)",
        ),
    ]
    lines.append(f"{'':40s}" + "".join(f"{r['db']:>28s}" for r in runs))
    for name, cell in rows:
        lines.append(f"{name:40s}" + "".join(f"{cell(r):>28s}" for r in runs))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--record", action="store_true", help="write results.json/.txt")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--warmed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.warmed)
        return
    runs = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="vpp-dash-") as tmp:
        folder = Path(tmp)
        for kind in args.db.split(","):
            if kind == "sqlite":
                runs.append(bench_db(kind, f"sqlite:///{folder / 'bench.sqlite'}", folder, args))
            elif kind == "postgresql":
                from vpp.platform.pg_cluster import new_database, throwaway_cluster

                with throwaway_cluster() as cluster:
                    runs.append(bench_db(kind, new_database(cluster), folder, args))
            else:
                parser.error(f"unknown --db {kind!r}: sqlite or postgresql")
            print(json.dumps(runs[-1], default=str), flush=True)
    lines = table(runs, args.repeat)
    print("\n".join(lines))
    if args.record:
        from record import record  # the benchmarks' results files

        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
        facts = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "commit": commit,
            "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
            "nproc": os.cpu_count(),
            "machine": host.machine(),
            "python": host.python_version(),
            "runs": runs,
        }
        record("platform_dashboard", facts, lines)


if __name__ == "__main__":
    main()
