"""Unsubscribe links the review found broken: a link from before a merge must still work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from regulars.domain.access import CLI
from regulars.domain.delivery import make_unsubscribe_token
from regulars.services.customers import merge_customers
from regulars.services.send_guard import check_send
from regulars.services.unsubscribe import describe_unsubscribe, unsubscribe
from regulars.store.tables import consents
from regulars.store.uow import UnitOfWork
from tests import factories

SECRET = "test-secret"
CONSENTS = [{"channel": "email", "granted": True, "at": "2026-01-01T10:00:00+00:00"}]


def _email_consent(engine: Engine, customer_id: int) -> bool | None:
    with engine.connect() as conn:
        return conn.scalar(
            select(consents.c.granted).where(
                consents.c.customer_id == customer_id, consents.c.channel == "email"
            )
        )


def test_a_link_from_before_a_merge_unsubscribes_the_kept_profile(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    kept = factories.customer(
        engine, now, email="ana@example.com", home_location="CAFE-LIS", consents=CONSENTS
    )
    duplicate = factories.customer(
        engine, now, email="ana.silva@example.com", home_location="CAFE-LIS", consents=CONSENTS
    )
    old_link = make_unsubscribe_token(SECRET, duplicate, "email")  # in last week's e-mail
    merge_customers(UnitOfWork(engine), CLI, kept, duplicate, now=now)

    assert describe_unsubscribe(UnitOfWork(engine), old_link, secret=SECRET).subscribed is True
    done = unsubscribe(UnitOfWork(engine), old_link, secret=SECRET, now=now)

    assert (done.customer_id, done.subscribed) == (kept, False)
    assert _email_consent(engine, kept) is False
    with engine.connect() as conn:
        verdict = check_send(conn, customer_id=kept, moment="birthday", channel="email", now=now)
    assert verdict.action == "suppress" and "consent" in verdict.reason
    again = describe_unsubscribe(UnitOfWork(engine), old_link, secret=SECRET)
    assert again.subscribed is False
