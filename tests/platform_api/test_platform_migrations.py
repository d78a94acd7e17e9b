"""Migrations: every revision upgrades a database made by the schema before it, with its
data, to the head; the result is the schema a fresh database gets at the head; the
downgrade and upgrade round trip keeps the data; the models match the migrations.

The revisions are read from the package's scripts (:class:`alembic.script.ScriptDirectory`
on :data:`vpp.platform.migrate.MIGRATIONS`), so a new revision is tested without a
change here. The data are seeded generically from the reflected schema at the revision
before (:func:`_seed`): three rows in every table, each column filled by its SQL type
(text, numbers, times, booleans), foreign keys pointing at the parents' rows, values a
``CHECK ... IN (...)`` constraint allows, and the third row ``NULL`` wherever a column
may be. A column type the seeder does not know fails the test naming table, column and
type (teach :func:`_value` the type).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from vpp.platform import migrate
from vpp.platform.db import make_engine
from vpp.platform.models import Base

#: The package's revisions, oldest first.
CHAIN = list(reversed(list(ScriptDirectory(str(migrate.MIGRATIONS)).walk_revisions())))
#: Rows seeded per table; the last one NULL wherever a column may be [-].
ROWS = 3
#: Realistic values by column name, for columns the platform's code reads as such.
REALISTIC = {
    "timezone": "Asia/Shanghai",
    "channels": "load_kw:kW:+",
    "channel": "load_kw",
    "unit": "kWh",
}
T0 = dt.datetime(2026, 7, 15, 6, 45)


def _database_at(url: str, revision: str | None) -> sa.Engine:
    """A fresh database at ``revision`` (None: the empty database before the first)."""
    engine = make_engine(url)
    if revision is not None:
        migrate.upgrade(engine, revision)
    assert migrate.current_revision(engine) == revision
    return engine


def _allowed(inspector: Any, table: str) -> dict[str, list[str]]:
    """Per column, the values a ``CHECK (column IN ('a', 'b'))`` constraint allows (as
    SQLite keeps it, or PostgreSQL's ``column = ANY (ARRAY['a', 'b'])``)."""
    columns = {c["name"] for c in inspector.get_columns(table)}
    allowed = {}
    for check in inspector.get_check_constraints(table):
        sql = check["sqltext"]
        named = {w for w in re.findall(r"[A-Za-z_]\w*", sql) if w in columns}
        values = re.findall(r"'((?:[^']|'')*)'", sql)
        if len(named) != 1 or not values:
            raise AssertionError(
                f"{table}: CHECK {check.get('name')} ({sql}) is not 'column IN (...)': "
                "teach tests/platform_api/test_platform_migrations.py::_allowed to seed it"
            )
        allowed[named.pop()] = [v.replace("''", "'") for v in values]
    return allowed


def _value(table: str, column: dict[str, Any], row: int) -> Any:
    """The seed value of ``column`` in row ``row`` (1-based) by its SQL type."""
    name, kind = column["name"], column["type"]
    if isinstance(kind, sa.Boolean):
        return row % 2 == 0
    if isinstance(kind, sa.DateTime):
        return T0 + dt.timedelta(days=row, minutes=15 * row)
    if isinstance(kind, sa.Date):
        return T0.date() + dt.timedelta(days=row)
    if isinstance(kind, sa.BigInteger):
        return 2**40 + row  # beyond 32 bits
    if isinstance(kind, sa.Integer):
        return 2026 + row
    if isinstance(kind, sa.Float | sa.Numeric):
        return 812.5 + row / 8  # exact in binary
    if isinstance(kind, sa.String):  # String, Text, VARCHAR, ...
        length = getattr(kind, "length", None) or 1000
        if name in REALISTIC:
            text = REALISTIC[name]
        elif name == "date" or name.endswith("_date"):
            text = (T0.date() + dt.timedelta(days=row)).isoformat()
        elif name.endswith("_at"):
            text = (T0 + dt.timedelta(days=row)).isoformat()
        elif name in ("period", "vintage", "month"):
            text = f"2026-{row:02d}"
        elif name.endswith("_json"):
            text = f'{{"row": {row}}}'
        else:
            text = f"{row} {table}.{name}"
        return text[:length]
    raise AssertionError(
        f"{table}.{name}: the migration test does not know how to seed type {kind!r}: "
        "teach tests/platform_api/test_platform_migrations.py::_value"
    )


def _seed(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    """Put :data:`ROWS` rows in every table (module docstring); returns them by table."""
    inspector = inspect(engine)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    seeded: dict[str, list[dict[str, Any]]] = {}
    with engine.begin() as conn:
        for table in metadata.sorted_tables:  # parents before children
            if table.name == "alembic_version":
                continue
            columns = inspector.get_columns(table.name)
            keys = inspector.get_pk_constraint(table.name)["constrained_columns"]
            refers = {
                fk["constrained_columns"][0]: fk["referred_table"]
                for fk in inspector.get_foreign_keys(table.name)
                if len(fk["constrained_columns"]) == 1
            }
            allowed = _allowed(inspector, table.name)
            rows = []
            for row in range(1, ROWS + 1):
                values: dict[str, Any] = {}
                for column in columns:
                    name = column["name"]
                    if row == ROWS and column["nullable"] and name not in keys:
                        values[name] = None
                    elif name in refers:  # the parent's row of the same number
                        same = refers[name] == table.name
                        values[name] = (row - 1 or None) if same else row
                    elif keys == [name] and isinstance(column["type"], sa.Integer):
                        values[name] = row
                    elif name in allowed:
                        values[name] = allowed[name][(row - 1) % len(allowed[name])]
                    else:
                        values[name] = _value(table.name, column, row)
                rows.append(values)
            conn.execute(table.insert(), rows)
            seeded[table.name] = rows
    return seeded


def _assert_kept(engine: sa.Engine, seeded: dict[str, list[dict[str, Any]]], when: str) -> None:
    """Every seeded row is in ``engine`` with its values (tables and columns as seeded)."""
    metadata = sa.MetaData()
    metadata.reflect(engine, only=list(seeded))
    with engine.connect() as conn:
        for name, rows in seeded.items():
            table = metadata.tables[name]
            keys = [c for c in table.primary_key.columns] or list(table.columns)
            found = [dict(r._mapping) for r in conn.execute(table.select().order_by(*keys))]
            kept = [{k: r[k] for k in rows[0]} for r in found]
            assert kept == rows, (when, name, kept, rows)


def _schema(engine: sa.Engine) -> dict[str, Any]:
    """Tables with their columns, keys, indexes, unique and check constraints."""
    inspector = inspect(engine)
    schema: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        schema[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in inspector.get_columns(table)
            ],
            "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign keys": sorted(
                (
                    fk["constrained_columns"],
                    fk["referred_table"],
                    fk["referred_columns"],
                    sorted(fk.get("options", {}).items()),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (i["name"], i["column_names"], bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (u["name"], u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
            "checks": sorted(
                (c["name"], c["sqltext"]) for c in inspector.get_check_constraints(table)
            ),
        }
    return schema


def _assert_schema(engine: sa.Engine, want: dict[str, Any], when: str) -> None:
    """``engine``'s schema is ``want``, compared table by table (a readable difference)."""
    got = _schema(engine)
    assert sorted(got) == sorted(want), when
    for table in want:
        assert (table, got[table]) == (table, want[table]), when


@pytest.fixture(scope="module")
def head_schema(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Callable[[str], Any]:
    """The schema of a database made fresh at the head, by database (made once each)."""
    from vpp.platform.pg_cluster import new_database

    made: dict[str, Any] = {}

    def schema(url: str) -> Any:
        kind = url.split(":", 1)[0].split("+", 1)[0]
        if kind not in made:
            if kind == "sqlite":
                fresh = f"sqlite:///{Path(tmp_path_factory.mktemp('head')) / 'head.sqlite'}"
            else:
                fresh = new_database(request.getfixturevalue("pg_cluster"))
            engine = _database_at(fresh, migrate.head_revision())
            made[kind] = _schema(engine)
            engine.dispose()
        return made[kind]

    return schema


def test_the_chain_is_one_line_to_the_head():
    """One head, each revision on the one before (a branch must be re-chained)."""
    script = ScriptDirectory(str(migrate.MIGRATIONS))
    assert script.get_heads() == [migrate.head_revision()] == [CHAIN[-1].revision]
    assert CHAIN[0].down_revision is None
    for before, after in zip(CHAIN, CHAIN[1:], strict=False):
        assert after.down_revision == before.revision, (after.revision, after.down_revision)


@pytest.mark.parametrize("revision", [s.revision for s in CHAIN])
def test_each_revision_upgrades_the_schema_before_it_with_its_data(
    revision: str, db_url: str, head_schema: Callable[[str], Any]
) -> None:
    script = ScriptDirectory(str(migrate.MIGRATIONS)).get_revision(revision)
    before = script.down_revision
    engine = _database_at(db_url, before)
    seeded = _seed(engine)
    assert all(len(rows) == ROWS for rows in seeded.values())
    if before is not None:
        assert seeded, f"nothing to seed at {before}"
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    _assert_kept(engine, seeded, f"{before} -> head")
    _assert_schema(engine, head_schema(db_url), f"{before} -> head")
    if hasattr(script.module, "downgrade"):  # and back to the revision before, and up
        migrate.downgrade(engine, before or "base")
        assert migrate.current_revision(engine) == before
        _assert_kept(engine, seeded, f"head -> {before}")
        migrate.upgrade(engine)
        _assert_kept(engine, seeded, f"head -> {before} -> head")
        _assert_schema(engine, head_schema(db_url), f"head -> {before} -> head")
    else:
        print(f"revision {revision} defines no downgrade: no round trip")
    engine.dispose()


def test_the_models_match_the_migrations_and_base_is_empty(db_url):
    engine = _database_at(db_url, migrate.head_revision())
    with engine.connect() as conn:  # the models say what the migrations built
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) - {"alembic_version"} == set()
    engine.dispose()
