"""The ledger in the database: an entry recorded (checked, never overwritten) and the
entries of many sites read in one query.

A correction is a new entry naming the entry it replaces (``supersedes``); the entry
replaced stays, shown as superseded. The certificates of a batch may not be retired
beyond those bought: after each new entry, for every batch of the site,
:math:`\\sum retired \\le \\sum bought` over the entries in force, and a retirement's
vintage is that of a purchase of its batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update

from vpp.platform.carbon_ledger.kinds import KINDS, EntryIn, quantity_of
from vpp.platform.carbon_ledger.tables import CarbonEntry
from vpp.platform.models import Site
from vpp.platform.refusals import PlatformRefusal

__all__ = ["LedgerRefused", "entry_json", "in_force", "load_entries", "record_entry"]


class LedgerRefused(PlatformRefusal):
    """An entry that fails a check of the ledger: answered 422 with its problems."""

    status = 422


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def entry_json(row: CarbonEntry, superseded_by: int | None = None) -> dict[str, Any]:
    """An entry as plain JSON; ``superseded_by`` is the correction's id (None: in force)."""
    return {
        "id": row.id,
        "kind": row.kind,
        "period": row.period,
        "quantity": row.quantity,
        "unit": row.unit,
        "contract": row.contract,
        "batch": row.batch,
        "vintage": row.vintage,
        "price_cny_per_unit": row.price_cny,
        "reference": row.reference,
        "note": row.note,
        "supersedes": row.supersedes_id,
        "superseded_by": superseded_by,
        "recorded_by": row.recorded_by,
        "recorded_at": row.recorded_at.replace(tzinfo=dt.UTC).isoformat(),
    }


def _rows_json(rows: Iterable[CarbonEntry]) -> list[dict[str, Any]]:
    rows = list(rows)
    successor = {r.supersedes_id: r.id for r in rows if r.supersedes_id is not None}
    return [entry_json(r, successor.get(r.id)) for r in rows]


def load_entries(sessions: Any, site_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Every entry of ``site_ids`` (superseded ones too, marked), in ONE query.

    Returns
    -------
    dict
        Site row id -> its entries (:func:`entry_json`), oldest first; a site without
        entries maps to an empty list.
    """
    ids = sorted(set(site_ids))
    out: dict[int, list[CarbonEntry]] = {i: [] for i in ids}
    if not ids:
        return {}
    with sessions() as session:
        rows = (
            session.execute(
                select(CarbonEntry)
                .where(CarbonEntry.site_id.in_(ids))
                .order_by(CarbonEntry.site_id, CarbonEntry.id)
            )
            .scalars()
            .all()
        )
    for row in rows:
        out[row.site_id].append(row)
    return {i: _rows_json(rows) for i, rows in out.items()}


def newest_entry_ids(sessions: Any, site_ids: Iterable[int]) -> dict[int, int]:
    """Each site's newest ledger row id (0 without entries), in one query: a site's
    carbon-assets view changes only when it does (an entry or a correction is a new row)."""
    ids = sorted(set(site_ids))
    if not ids:
        return {}
    with sessions() as session:
        rows = dict(
            session.execute(
                select(CarbonEntry.site_id, func.max(CarbonEntry.id))
                .where(CarbonEntry.site_id.in_(ids))
                .group_by(CarbonEntry.site_id)
            ).all()
        )
    return {i: int(rows.get(i) or 0) for i in ids}


def in_force(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries not superseded by a correction."""
    return [e for e in entries if e["superseded_by"] is None]


def _batch_problems(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    bought: dict[str, float] = {}
    retired: dict[str, float] = {}
    for e in entries:
        if e["kind"] == "certificate_purchase":
            bought[e["batch"]] = bought.get(e["batch"], 0.0) + e["quantity"]
        elif e["kind"] == "certificate_retirement":
            retired[e["batch"]] = retired.get(e["batch"], 0.0) + e["quantity"]
    problems = []
    for batch, count in sorted(retired.items()):
        have = bought.get(batch, 0.0)
        if count > have:
            problems.append(
                {
                    "field": "certificates",
                    "row": None,
                    "value": repr(batch),
                    "message": f"batch {batch[:200]!r} would have {count:g} certificates "
                    f"retired but {have:g} bought: retire at most the certificates bought "
                    "(record the purchase first, or correct the entry)",
                    "allowed": f"at most {have:g} retired in batch {batch[:200]!r}",
                    "bought": have,
                    "retired": count,
                }
            )
    return problems


def _vintage_problems(entries: list[dict[str, Any]], batch: str | None) -> list[dict[str, Any]]:
    """The retirements of ``batch`` (the new entry's; other batches are as they were)
    whose vintage is not that of a purchase of the batch in force."""
    if batch is None:
        return []
    mine = [e for e in entries if e["batch"] == batch]
    bought = sorted({e["vintage"] for e in mine if e["kind"] == "certificate_purchase"})
    if not bought:  # nothing bought: the count check refuses a retirement
        return []
    problems = []
    for e in mine:
        if e["kind"] == "certificate_retirement" and e["vintage"] not in bought:
            problems.append(
                {
                    "field": "vintage",
                    "row": None,
                    "value": repr(e["vintage"]),
                    "message": f"batch {batch[:200]!r} was bought with vintage "
                    f"{', '.join(bought)}, not {e['vintage']!r} (entry {e['id']}): a "
                    "retirement's vintage is its purchase's (correct the entry)",
                    "allowed": ", ".join(bought),
                }
            )
    return problems


def record_entry(
    sessions: Any, site_id: int, entry: EntryIn, key_id: str, now: dt.datetime
) -> dict[str, Any]:
    """Store ``entry`` (checked by :func:`~vpp.platform.carbon_ledger.kinds.check_entry`)
    for the site, in one transaction; refuse with :class:`LedgerRefused` (422) an unknown
    or already corrected ``supersedes``, one of another site, or certificates retired
    beyond those bought in their batch, or a retirement whose vintage is not that of its
    batch's purchase.

    The transaction starts with a write to the site's row (locking it on PostgreSQL,
    taking SQLite's write lock), so two entries of a site are checked one after the
    other, each against the other's committed result.
    """
    spec = KINDS[entry.kind]
    price = entry.price_cny_per_t if spec["unit"] == "t" else entry.price_cny_per_mwh
    with sessions() as session, session.begin():
        # a write first: the site's row lock on PostgreSQL, the write lock on SQLite
        # (waiting its busy timeout), so the reads below see every committed entry
        session.execute(update(Site).where(Site.id == site_id).values(name=Site.name))
        if entry.supersedes is not None:
            old = session.get(CarbonEntry, entry.supersedes)
            if old is None or old.site_id != site_id:
                raise LedgerRefused(
                    f"field supersedes: no entry {entry.supersedes} of this site",
                    [_supersedes(entry.supersedes, "no entry of this site with this id")],
                )
            later = session.execute(
                select(CarbonEntry.id).where(CarbonEntry.supersedes_id == old.id)
            ).first()
            if later is not None:
                raise LedgerRefused(
                    f"field supersedes: entry {old.id} is already corrected by entry {later[0]}",
                    [_supersedes(old.id, f"already corrected by entry {later[0]}; correct that")],
                )
        row = CarbonEntry(
            site_id=site_id,
            kind=entry.kind,
            period=entry.period,
            quantity=quantity_of(entry),
            unit=spec["unit"],
            contract=entry.contract,
            batch=entry.batch,
            vintage=entry.vintage,
            price_cny=price,
            reference=entry.reference,
            note=entry.note,
            supersedes_id=entry.supersedes,
            recorded_by=key_id,
            recorded_at=_utc(now),
        )
        session.add(row)
        session.flush()
        rows = session.execute(
            select(CarbonEntry).where(CarbonEntry.site_id == site_id).order_by(CarbonEntry.id)
        ).scalars()
        current = in_force(_rows_json(rows))
        problems = _batch_problems(current) + _vintage_problems(current, row.batch)
        if problems:
            first = problems[0]
            raise LedgerRefused(f"field {first['field']}: {first['message']}", problems)
        stored = entry_json(row)
    return stored


def _supersedes(value: int, message: str) -> dict[str, Any]:
    return {
        "field": "supersedes",
        "row": None,
        "value": repr(value),
        "message": message,
        "allowed": "the id of an entry of this site in force",
    }
