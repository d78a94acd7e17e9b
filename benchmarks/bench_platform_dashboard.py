"""Time the dashboard's park page with a month of data for many sites (issue 17: < 1 s).

A park of ``--sites`` sites (copies of the four demo sites, scenarios/park/sites/) is
registered on a fresh SQLite database; each site gets a month of 15-minute readings
of ``import_kw``, ``export_kw`` and ``load_kw`` (July 2026, inserted in bulk, not
through the API) and the platform's clock stands at 2026-07-31 23:50 local. The park
page (``GET /dashboard/parks/{park}``, logged in with an operator key) is then
rendered:

- ``cold``: the first render after start (every site's month read and computed; the
  month's tariff series built once per distinct tariff);
- ``warm``: again, nothing new (each site's result kept: one cheap query per site);
- ``one site new``: after one new reading at one site (that site recomputed).

Run from the repository root::

    python benchmarks/bench_platform_dashboard.py [--sites 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import insert

from vpp.platform import Platform, create_app
from vpp.platform.keys import create_key
from vpp.platform.models import Reading
from vpp.platform.parks import list_sites, register_park

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ("electronics", "biomedicine", "logistics", "rnd-offices")
NOW = dt.datetime(2026, 7, 31, 15, 50, tzinfo=dt.UTC)  # 23:50 in Shanghai
MONTH_START_UTC = dt.datetime(2026, 6, 30, 16, 0)  # 2026-07-01 00:00 local, naive UTC
STEPS = 31 * 96 - 1  # every step that has ended by NOW


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
        "name": "bench-park",
        "timezone": "Asia/Shanghai",
        "horizon": {"start": "2026-07-15", "days": 1, "step": "15min"},
        "sites": entries,
    }
    path = folder / "bench-park.yaml"
    path.write_text(yaml.safe_dump(park, sort_keys=False))
    return path


def fill(platform: Platform) -> int:
    """A month of readings for every site, inserted in bulk; returns the count."""
    rng = np.random.default_rng(1)
    stamps = [MONTH_START_UTC + dt.timedelta(minutes=15 * k) for k in range(STEPS)]
    hours = (np.arange(STEPS) % 96) / 4.0
    shape = 0.6 + 0.4 * np.clip(np.sin((hours - 6.0) / 12.0 * np.pi), 0.0, None)
    count = 0
    received = NOW.replace(tzinfo=None)
    with platform.engine.begin() as connection:
        for ref in list_sites(platform.sessions, "bench-park"):
            load = 1000.0 * shape * rng.uniform(0.9, 1.1, STEPS)
            rows = []
            for channel, values in (
                ("load_kw", load),
                ("import_kw", load * 0.9),
                ("export_kw", np.zeros(STEPS)),
            ):
                rows += [
                    {"site_id": ref.site_id, "channel": channel, "timestamp_utc": t,
                     "value": float(v), "received_at": received}
                    for t, v in zip(stamps, values, strict=True)
                ]  # fmt: skip
            connection.execute(insert(Reading), rows)
            count += len(rows)
    return count


def render(client: TestClient) -> float:
    start = time.perf_counter()
    answer = client.get("/dashboard/parks/bench-park")
    elapsed = time.perf_counter() - start
    assert answer.status_code == 200, answer.text[:500]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        park_path = make_park(folder / "park", args.sites)
        platform = Platform.open(f"sqlite:///{folder / 'bench.sqlite'}")
        platform.clock = lambda: NOW
        register_park(platform.sessions, park_path)
        start = time.perf_counter()
        n = fill(platform)
        print(f"{args.sites} sites, {n:,} readings inserted in {time.perf_counter() - start:.1f} s")
        _, key = create_key(platform.sessions, "operator")
        client = TestClient(create_app(platform), follow_redirects=False)
        assert client.post("/login", data={"key": key}).status_code == 303
        cold = render(client)
        warm = [render(client) for _ in range(args.repeat)]
        fresh = []
        site = list_sites(platform.sessions, "bench-park")[0]
        for k in range(args.repeat):
            stamp = dt.datetime(2026, 7, 31, 23, 45, tzinfo=dt.timezone(dt.timedelta(hours=8)))
            stamp -= dt.timedelta(minutes=15 * k)
            platform.store_readings(
                "bench-park",
                site.site,
                [{"channel": "heat_gj", "timestamp": stamp.isoformat(), "value": 1.0 + k}],
            )
            fresh.append(render(client))
        print(f"park page, {args.sites} sites x a month (15 min), SQLite:")
        print(f"  cold (first render):        {cold:8.3f} s")
        print(f"  warm (median of {args.repeat}):        {statistics.median(warm):8.3f} s")
        print(f"  one site new (median of {args.repeat}): {statistics.median(fresh):8.3f} s")
        platform.close()


if __name__ == "__main__":
    main()
