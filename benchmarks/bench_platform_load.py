"""Load on ``vpp serve``: 200 sites posting a 15-minute reading each for a day (issue 17).

Loopback only, bounded in count and time. For each database (SQLite in a temporary
folder; PostgreSQL in a throwaway cluster, :mod:`vpp.platform.pg_cluster`):

1. a fresh database gets the demo park and a park ``load-bench`` of ``--sites`` sites
   (rows written directly, each with the demo electronics site's channels) and one site
   key per site;
2. ``vpp serve`` starts as a subprocess on a free loopback port (``--log-level warning``:
   no access log);
3. a small pool of ``--concurrency`` asyncio workers sharing one ``httpx.AsyncClient``
   posts one ``load_kw`` reading per site and 15-minute step of one day (slot by slot,
   every site in a slot), each post a JSON batch of one reading with that site's key:
   ``sites x 96`` posts (19,200 for 200 sites), in two modes, each on its own day:

   - ``paced``: open loop, post ``i`` is due at ``start + i / --rate``; its latency is
     counted from the moment it was sent, and its lateness (sent after it was due, when
     every worker was busy) is reported on its own;
   - ``unpaced``: closed loop, every worker sends its next post as soon as its last is
     answered: the maximum throughput;

4. the server is stopped (SIGTERM), and the database is read directly: every reading
   answered ``200`` must be there with its value (**lost** counts those that are not).

Latency is wall time from the request's send to its answer's end, as the client sees it
(``time.perf_counter``); the client runs on the same 2 shared cores as the server, so
its own CPU time is reported too, with the server's (``/proc/PID/stat``) and the load
average. Figures drift with the host's other work: compare ratios within one run.

Run from the repository root::

    python benchmarks/bench_platform_load.py [--db sqlite,postgresql] [--sites 200]
        [--rate 200] [--concurrency 16] [--modes paced,unpaced] [--record]

``--record`` stores the figures under ``platform_load`` in ``benchmarks/results.json``
and as a section of ``benchmarks/results.txt`` (the other benchmarks' figures are kept).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform as host
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import func, select

from vpp.platform.keys import create_key
from vpp.platform.models import Park, Reading, Site
from vpp.platform.parks import find_site, register_park
from vpp.platform.pg_cluster import new_database, throwaway_cluster
from vpp.platform.service import Platform

ROOT = Path(__file__).resolve().parent.parent
PARK_FILE = ROOT / "scenarios" / "park" / "xushuguan-park.yaml"
BENCH_PARK = "load-bench"
STEPS_PER_DAY = 96  # 15-minute readings [-]
START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
MARK_BEGIN = "== bench_platform_load: begin ==\n"
MARK_END = "== bench_platform_load: end ==\n"
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_s(pid: int) -> float:
    """User + system CPU time of a process [s]."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def prepare(url: str, sites: int) -> list[tuple[int, str]]:
    """The bench park's sites in a fresh database: ``(site row id, key text)`` each."""
    platform = Platform.open(url)
    try:
        register_park(platform.sessions, PARK_FILE)
        with platform.sessions() as session, session.begin():
            electronics = session.execute(
                select(Site.channels).where(Site.name == "electronics")
            ).scalar_one()
            park = Park(
                name=BENCH_PARK,
                file=str(PARK_FILE),
                timezone="Asia/Shanghai",
                registered_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            )
            session.add(park)
            session.flush()
            for i in range(sites):
                session.add(Site(park_id=park.id, name=f"site-{i:03d}", channels=electronics))
        keyed = []
        for i in range(sites):
            name = f"site-{i:03d}"
            ref = find_site(platform.sessions, BENCH_PARK, name)
            keyed.append(
                (ref.site_id, create_key(platform.sessions, "site", park=BENCH_PARK, site=name)[1])
            )
        return keyed
    finally:
        platform.close()


def start_server(url: str, port: int, log: Path) -> subprocess.Popen:
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}
    command = [sys.executable, "-m", "vpp.cli", "serve", "--port", str(port), "--db", url,
               "--log-level", "warning"]  # fmt: skip
    with open(log, "ab") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
        if server.poll() is not None:
            raise RuntimeError(f"vpp serve exited: {log.read_text()[-3000:]}")
    server.kill()
    raise RuntimeError(f"vpp serve did not start in {START_TIMEOUT_S} s")


@dataclass
class Post:
    site: int  # index into the keyed sites
    stamp: str  # ISO 8601 with offset
    value: float
    due: float = 0.0  # [s] after the mode's start (paced)
    sent: float = 0.0
    done: float = 0.0
    status: int = 0
    stored: int = 0


@dataclass
class ModeResult:
    mode: str
    posts: list[Post] = field(default_factory=list)
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)


def day_posts(day: dt.date, sites: int, seed: int) -> list[Post]:
    """One reading per site and 15-minute step of ``day`` (UTC), slot by slot."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    posts = []
    for step in range(STEPS_PER_DAY):
        stamp = (start + dt.timedelta(minutes=15 * step)).isoformat()
        for s in range(sites):
            posts.append(
                Post(s, stamp, float(100 + (seed * 7919 + s * 131 + step * 17) % 900) + 0.25)
            )
    return posts


async def drive(
    port: int, keyed: list[tuple[int, str]], posts: list[Post], concurrency: int, rate: float | None
) -> float:
    """Send ``posts`` with ``concurrency`` workers (paced at ``rate`` per s, or unpaced);
    returns the wall time [s]."""
    url = f"http://127.0.0.1:{port}/api/v1/parks/{BENCH_PARK}/sites/site-{{:03d}}/telemetry"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    next_index = 0
    async with httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT_S) as client:
        t0 = time.perf_counter()

        async def worker() -> None:
            nonlocal next_index
            while next_index < len(posts):
                post = posts[next_index]
                next_index += 1
                if rate is not None:
                    post.due = next_index / rate
                    wait = t0 + post.due - time.perf_counter()
                    if wait > 0:
                        await asyncio.sleep(wait)
                body = {
                    "readings": [
                        {"channel": "load_kw", "timestamp": post.stamp, "value": post.value}
                    ]
                }
                post.sent = time.perf_counter() - t0
                try:
                    answer = await client.post(
                        url.format(post.site), json=body, headers={"X-API-Key": keyed[post.site][1]}
                    )
                    post.status = answer.status_code
                    if answer.status_code == 200:
                        post.stored = answer.json()["stored"]
                except httpx.HTTPError:
                    post.status = -1
                post.done = time.perf_counter() - t0

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - t0


def run_mode(mode: str, port: int, pid: int, keyed: list[tuple[int, str]], day: dt.date,
             args: argparse.Namespace) -> ModeResult:  # fmt: skip
    posts = day_posts(day, len(keyed), seed=day.toordinal())
    result = ModeResult(mode, posts, load_before=os.getloadavg())
    server0, client0 = cpu_s(pid), time.process_time()
    rate = args.rate if mode == "paced" else None
    result.wall_s = asyncio.run(drive(port, keyed, posts, args.concurrency, rate))
    result.server_cpu_s = cpu_s(pid) - server0
    result.client_cpu_s = time.process_time() - client0
    result.load_after = os.getloadavg()
    return result


def lost(url: str, keyed: list[tuple[int, str]], results: list[ModeResult]) -> tuple[int, int, int]:
    """``(acknowledged, lost, readings in the bench park)``: acknowledged readings missing
    from the database or stored with another value."""
    platform = Platform.open(url)
    try:
        with platform.sessions() as session:
            ids = [site_id for site_id, _ in keyed]
            stored = {
                (s, t): v
                for s, t, v in session.execute(
                    select(Reading.site_id, Reading.timestamp_utc, Reading.value).where(
                        Reading.site_id.in_(ids)
                    )
                )
            }
            count = session.execute(
                select(func.count()).select_from(Reading).where(Reading.site_id.in_(ids))
            ).scalar_one()
    finally:
        platform.close()
    acked = missing = 0
    for result in results:
        for post in result.posts:
            if post.status != 200:
                continue
            acked += 1
            when = dt.datetime.fromisoformat(post.stamp).astimezone(dt.UTC).replace(tzinfo=None)
            if stored.get((keyed[post.site][0], when)) != post.value:
                missing += 1
    return acked, missing, count


def figures(result: ModeResult) -> dict[str, Any]:
    ok = [p for p in result.posts if p.status == 200]
    latency = np.array([p.done - p.sent for p in ok]) * 1000
    late = np.array([max(0.0, p.sent - p.due) for p in ok]) * 1000
    n = len(result.posts)
    out = {
        "mode": result.mode,
        "posts": n,
        "ok": len(ok),
        "errors": n - len(ok),
        "statuses": sorted({p.status for p in result.posts}),
        "wall_s": result.wall_s,
        "throughput_per_s": len(ok) / result.wall_s,
        "latency_ms": {
            q: float(np.percentile(latency, v)) if len(ok) else float("nan")
            for q, v in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))
        },
        "server_cpu_s": result.server_cpu_s,
        "server_cpu_ms_per_post": 1000 * result.server_cpu_s / max(n, 1),
        "server_cpu_fraction": result.server_cpu_s / result.wall_s,
        "client_cpu_s": result.client_cpu_s,
        "load_before": list(result.load_before),
        "load_after": list(result.load_after),
    }
    if result.mode == "paced":
        out["late_ms"] = {"p99": float(np.percentile(late, 99)), "max": float(late.max())}
        out["latency_from_due_ms_p99"] = float(
            np.percentile(np.array([p.done - p.due for p in ok]) * 1000, 99)
        )
    return out


def bench_db(kind: str, url: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    keyed = prepare(url, args.sites)
    print(
        f"{kind}: {args.sites} sites and keys ready in {time.perf_counter() - t0:.1f} s", flush=True
    )
    port = free_port()
    log = folder / f"serve-{kind}.log"
    server = start_server(url, port, log)
    results = []
    today = dt.datetime.now(dt.UTC).date()
    try:
        warm = ModeResult(
            "warm-up", day_posts(today - dt.timedelta(days=3), len(keyed), 3)[: len(keyed)]
        )
        asyncio.run(drive(port, keyed, warm.posts, args.concurrency, None))
        results.append(warm)
        for back, mode in enumerate(args.modes.split(","), start=1):
            result = run_mode(mode, port, server.pid, keyed, today - dt.timedelta(days=back), args)
            results.append(result)
            f = figures(result)
            print(f"{kind} {mode:<8} {f['ok']}/{f['posts']} ok in {f['wall_s']:.1f} s: "
                  f"{f['throughput_per_s']:.0f}/s, p50 {f['latency_ms']['p50']:.1f} ms, "
                  f"p99 {f['latency_ms']['p99']:.1f} ms; server CPU "
                  f"{f['server_cpu_ms_per_post']:.2f} ms/post", flush=True)  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
    acked, missing, count = lost(url, keyed, results)
    return {
        "db": kind,
        "modes": [figures(r) for r in results if r.mode != "warm-up"],
        "acknowledged": acked,
        "lost": missing,
        "readings_in_db": count,
    }


def table(runs: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"{args.sites} sites x {STEPS_PER_DAY} readings, 1 reading per post, "
        f"{args.concurrency} client workers, paced at {args.rate:g}/s",
        f"{'db':<11}{'mode':<9}{'ok/posts':>13}{'wall s':>8}{'/s':>7}{'p50 ms':>8}{'p90 ms':>8}"
        f"{'p99 ms':>8}{'max ms':>8}{'srv ms/post':>12}{'srv cpu':>8}{'cli cpu s':>10}"
        f"  load before/after",
    ]
    for run in runs:
        for f in run["modes"]:
            lat = f["latency_ms"]
            lines.append(
                f"{run['db']:<11}{f['mode']:<9}{f['ok']:>6}/{f['posts']:<6}{f['wall_s']:>8.1f}"
                f"{f['throughput_per_s']:>7.0f}{lat['p50']:>8.1f}{lat['p90']:>8.1f}{lat['p99']:>8.1f}"
                f"{lat['max']:>8.0f}{f['server_cpu_ms_per_post']:>12.2f}"
                f"{f['server_cpu_fraction']:>8.2f}{f['client_cpu_s']:>10.1f}"
                f"  {f['load_before'][0]:.2f}/{f['load_after'][0]:.2f}"
            )
            if "late_ms" in f:
                lines.append(
                    f"{'':<20}paced: sent late p99 {f['late_ms']['p99']:.1f} ms (max "
                    f"{f['late_ms']['max']:.0f}); latency from due time p99 "
                    f"{f['latency_from_due_ms_p99']:.1f} ms"
                )
        lines.append(
            f"{run['db']:<11}lost: {run['lost']} of {run['acknowledged']} acknowledged "
            f"(readings in the database: {run['readings_in_db']})"
        )
    return "\n".join(lines) + "\n"


def record(runs: list[dict[str, Any]], text: str) -> None:
    here = Path(__file__).resolve().parent
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip()  # fmt: skip
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "vpp"], capture_output=True,
                                text=True, cwd=ROOT).stdout.strip())  # fmt: skip
    machine = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "platform": host.platform(),
        "python": host.python_version(),
        "commit": commit,
        "vpp_modified": dirty,
    }
    path = here / "results.json"
    data = json.loads(path.read_text()) if path.is_file() else {}
    data["platform_load"] = {"machine": machine, "runs": runs}
    path.write_text(json.dumps(data, indent=2) + "\n")
    txt = here / "results.txt"
    old = txt.read_text() if txt.is_file() else ""
    if MARK_BEGIN in old and MARK_END in old:
        old = old[: old.index(MARK_BEGIN)] + old[old.index(MARK_END) + len(MARK_END) :]
    state = " (vpp modified)" if dirty else ""
    section = f"{MARK_BEGIN}{machine['date']} at {commit}{state}\n{text}{MARK_END}"
    txt.write_text(old.rstrip("\n") + "\n\n" + section)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--rate", type=float, default=200.0, help="paced posts per second")
    parser.add_argument("--concurrency", type=int, default=16, help="client workers")
    parser.add_argument("--modes", default="paced,unpaced")
    parser.add_argument("--record", action="store_true", help="write results.json/.txt")
    args = parser.parse_args(argv)
    if not 1 <= args.sites <= 1000 or not 1 <= args.concurrency <= 256 or args.rate <= 0:
        parser.error("--sites 1..1000, --concurrency 1..256, --rate > 0")
    runs = []
    with tempfile.TemporaryDirectory(prefix="vpp-load-") as tmp:
        folder = Path(tmp)
        for kind in args.db.split(","):
            if kind == "sqlite":
                runs.append(bench_db(kind, f"sqlite:///{folder / 'platform.sqlite'}", args, folder))
            elif kind == "postgresql":
                with throwaway_cluster() as cluster:
                    runs.append(bench_db(kind, new_database(cluster), args, folder))
            else:
                parser.error(f"unknown --db {kind!r}: sqlite or postgresql")
    text = table(runs, args)
    print(text, end="")
    if args.record:
        record(runs, text)
    bad = [r["db"] for r in runs if r["lost"]]
    if bad:
        print(f"LOST readings on {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
