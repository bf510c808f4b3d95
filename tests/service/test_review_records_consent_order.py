"""A consent statement older than the one on record does not overturn it."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI
from regulars.domain.errors import Conflict
from regulars.services.customers import set_consent
from regulars.store.tables import consents, events
from regulars.store.uow import UnitOfWork
from tests import factories


def _state(engine: Engine, customer: int) -> tuple[bool, int]:
    with engine.connect() as conn:
        granted = conn.scalar(
            select(consents.c.granted).where(
                consents.c.customer_id == customer, consents.c.channel == "email"
            )
        )
        history = conn.scalar(
            select(func.count()).select_from(events).where(events.c.type == "consent")
        )
    return bool(granted), int(history or 0)


def _ines_who_said(engine: Engine, now: datetime, *statements: tuple[bool, str]) -> int:
    """Inês, with her e-mail consent statements (granted, dated) recorded in this order."""
    customer = factories.customer(engine, now, email="ines@example.com")
    for granted, at in statements:
        set_consent(
            UnitOfWork(engine),
            CLI,
            customer,
            {"channel": "email", "granted": granted, "at": at},
            now=now,
        )
    return customer


def test_a_paper_form_from_before_an_unsubscribe_does_not_switch_e_mail_back_on(
    engine: Engine, now: datetime
) -> None:
    customer = _ines_who_said(engine, now, (False, "2026-04-20T09:00:00+00:00"))

    with pytest.raises(Conflict) as refused:
        set_consent(
            UnitOfWork(engine),
            CLI,
            customer,
            {"channel": "email", "granted": True, "at": "2026-04-01T09:00:00+00:00"},
            now=now,
        )

    assert refused.value.field == "at"
    assert _state(engine, customer) == (False, 1)  # still withdrawn, nothing written


def test_a_newer_statement_replaces_the_one_on_record(engine: Engine, now: datetime) -> None:
    customer = _ines_who_said(
        engine, now, (False, "2026-04-01T09:00:00+00:00"), (True, "2026-04-20T09:00:00+00:00")
    )

    assert _state(engine, customer) == (True, 2)


def test_a_withdrawal_applies_whatever_its_date(engine: Engine, now: datetime) -> None:
    customer = _ines_who_said(
        engine, now, (True, "2026-04-20T09:00:00+00:00"), (False, "2026-04-01T09:00:00+00:00")
    )

    assert _state(engine, customer) == (False, 2)
