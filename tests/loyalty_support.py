"""Shared helpers for the loyalty tests: load a program, ingest, read balances and the ledger."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI
from regulars.services import loyalty
from regulars.services.ingest import IngestReport, ingest_events
from regulars.store.loyalty_tables import loyalty_ledger, loyalty_members
from regulars.store.uow import UnitOfWork
from tests import factories

PROGRAMS = Path(__file__).parent.parent / "src" / "regulars" / "demo" / "programs"
LIS = "CAFE-LIS"
IMMEDIATE = {"  pending_days: 7": "  pending_days: 0", "  welcome_bonus: 25": "  welcome_bonus: 0"}


def program_text(name: str = "cafe", **changes: str) -> str:
    """A demo program's YAML, with whole lines replaced (``"  pending_days: 7": "…"``)."""
    text = (PROGRAMS / f"{name}.yaml").read_text()
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def load(engine: Engine, now: datetime, text: str) -> None:
    loyalty.load_program_file(UnitOfWork(engine), CLI, text, now=now)


def open_cafe(engine: Engine, now: datetime, *, immediate: bool = True, **changes: str) -> None:
    """The café location CAFE-LIS and the café program on it.

    ``immediate``: points usable at once and no welcome bonus (IMMEDIATE); ``changes`` as for
    program_text, on top.
    """
    factories.location(engine, now, LIS)
    load(engine, now, program_text("cafe", **((IMMEDIATE if immediate else {}) | changes)))


def cafe_member(
    engine: Engine,
    now: datetime,
    cents: int,
    *,
    external_id: str = "p1",
    sku: str = "cake",
    category: str = "food",
    at: str | None = None,
    **fields: Any,
) -> int:
    """A customer (``fields`` as for factories.customer) who bought one ``sku`` at ``cents``
    at CAFE-LIS, which must be open (open_cafe)."""
    cid = factories.customer(engine, now, **fields)
    when = {"at": at} if at else {}
    line = {"sku": sku, "category": category, "unit_price": cents}
    ingest(
        engine,
        now,
        factories.purchase(external_id, customer_id=cid, location=LIS, lines=[line], **when),
    )
    return cid


def cakes(external_id: str, customer_id: int, at: datetime, units: int) -> dict[str, object]:
    """A purchase at CAFE-LIS of ``units`` cakes at 10.00 EUR each (10 points a cake)."""
    return factories.purchase(
        external_id,
        customer_id=customer_id,
        location=LIS,
        at=at.isoformat(),
        lines=[{"sku": "cake", "category": "food", "unit_price": 1000, "quantity": units}],
    )


def ingest(engine: Engine, now: datetime, *items: dict[str, Any]) -> IngestReport:
    return ingest_events(UnitOfWork(engine), list(items), now=now)


def balance(engine: Engine, customer_id: int, program: str = "cafe") -> tuple[int, int]:
    """(available, pending) from the cached balance row; (0, 0) for a non-member."""
    with engine.connect() as conn:
        row = conn.execute(
            select(loyalty_members.c.available, loyalty_members.c.pending).where(
                loyalty_members.c.customer_id == customer_id,
                loyalty_members.c.program == program,
            )
        ).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def ledger_sums_match(engine: Engine) -> bool:
    """Every member's cached balance equals the sum of their ledger, and the lots agree."""
    c = loyalty_ledger.c
    m = loyalty_members.c
    with engine.connect() as conn:
        sums = {
            mid: (int(a or 0), int(p or 0))
            for mid, a, p in conn.execute(
                select(
                    c.member_id, func.sum(c.available_delta), func.sum(c.pending_delta)
                ).group_by(c.member_id)
            )
        }
        lots = {
            (mid, bool(matured)): int(total or 0)
            for mid, matured, total in conn.execute(
                select(c.member_id, c.matured, func.sum(c.lot_remaining))
                .where(c.lot_remaining.is_not(None))
                .group_by(c.member_id, c.matured)
            )
        }
        for mid, available, pending in conn.execute(select(m.id, m.available, m.pending)):
            if sums.get(mid, (0, 0)) != (available, pending):
                return False
            if lots.get((mid, True), 0) != available or lots.get((mid, False), 0) != pending:
                return False
            if available < 0 or pending < 0:
                return False
    return True


def entries(engine: Engine, kind: str | None = None) -> list[Any]:
    with engine.connect() as conn:
        query = select(loyalty_ledger).order_by(loyalty_ledger.c.id)
        if kind is not None:
            query = query.where(loyalty_ledger.c.kind == kind)
        return list(conn.execute(query).mappings())
