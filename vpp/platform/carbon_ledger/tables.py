"""The carbon-asset ledger's table (revision ``0012``), on the platform's declarative base.

=====================  ==================================================================
table                  holds
=====================  ==================================================================
``carbon_entries``     one ledger entry of a site: a green-power settlement, certificates
                       bought or retired, allowances allocated, bought, sold or
                       surrendered, or the verified emissions of a compliance year
=====================  ==================================================================

An entry is never changed or deleted: a correction is a new entry whose
``supersedes_id`` names the entry it replaces (at most one correction per entry, a
unique constraint). Times are naive UTC, as in :mod:`vpp.platform.models`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vpp.platform.models import Base

__all__ = ["CarbonEntry"]


class CarbonEntry(Base):
    """A carbon-asset ledger entry (:data:`vpp.platform.carbon_ledger.kinds.KINDS`).

    ``quantity`` is in ``unit``: MWh (green-power delivered), certificates (GEC, one
    per MWh) or t (tCO2: allowances and verified emissions). ``period`` is ``YYYY-MM``
    for a green-power settlement, else the year ``YYYY`` the entry counts for (the
    certificates' consumption year, the allowances' compliance year). ``price_cny`` is
    per unit [CNY/MWh, CNY/certificate, CNY/t], optional.
    """

    __tablename__ = "carbon_entries"
    __table_args__ = (Index("ix_carbon_entries_site_kind", "site_id", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    quantity: Mapped[float] = mapped_column(Float(precision=53))
    unit: Mapped[str] = mapped_column(String(16))
    contract: Mapped[str | None] = mapped_column(String(200), nullable=True)
    batch: Mapped[str | None] = mapped_column(String(200), nullable=True)
    vintage: Mapped[str | None] = mapped_column(String(7), nullable=True)
    price_cny: Mapped[float | None] = mapped_column(Float(precision=53), nullable=True)
    reference: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("carbon_entries.id", ondelete="CASCADE"), nullable=True, unique=True
    )
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
