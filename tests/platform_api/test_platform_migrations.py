"""Migrations: a database made at the first revision is upgraded with its data, the
downgrade and upgrade round trip keeps it, and the models match the migrations."""

from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from vpp.platform import migrate
from vpp.platform.db import make_engine
from vpp.platform.models import Base


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_a_first_revision_database_upgrades_with_its_data(db_url):
    engine = make_engine(db_url)
    migrate.upgrade(engine, "0001")
    assert migrate.current_revision(engine) == "0001"
    assert _tables(engine) == {"parks", "sites", "api_keys", "readings"}
    when = dt.datetime(2026, 7, 15, 6, 45)
    with engine.begin() as conn:  # written as the first schema's code would
        conn.execute(
            text(
                "INSERT INTO parks (id, name, file, timezone, registered_at) "
                "VALUES (1, 'p', 'p.yaml', 'Asia/Shanghai', :t)"
            ),
            {"t": when},
        )
        conn.execute(
            text(
                "INSERT INTO sites (id, park_id, name, channels) VALUES (1, 1, 's', 'load_kw:kW:+')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO readings (site_id, channel, timestamp_utc, value, received_at) "
                "VALUES (1, 'load_kw', :t, 812.5, :t)"
            ),
            {"t": when},
        )
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision() == "0012"
    assert _tables(engine) == {"parks", "sites", "api_keys", "readings", "runs", "schedules"} | {
        "job_runs",
        "run_requests",
        "mqtt_users",
        "targets",  # 0010 (vpp.platform.alerts)
        "alerts",
        "alert_deliveries",
        "carbon_entries",  # 0012 (vpp.platform.carbon_ledger)
    }
    read = "SELECT channel, timestamp_utc, value FROM readings"
    with engine.connect() as conn:
        rows = conn.execute(text(read)).all()
    assert [(c, str(t)[:19], v) for c, t, v in rows] == [("load_kw", "2026-07-15 06:45:00", 812.5)]
    migrate.downgrade(engine, "0001")
    assert _tables(engine) == {"parks", "sites", "api_keys", "readings"}
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert len(conn.execute(text(read)).all()) == 1
    with engine.connect() as conn:  # the models say what the migrations built
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    migrate.downgrade(engine, "base")
    assert _tables(engine) == set()
    engine.dispose()
