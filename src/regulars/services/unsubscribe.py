"""Unsubscribe links: a signed token in every e-mail (and SMS) that withdraws consent.

Opening the link (GET) only shows who and what; mail scanners open links on their own, so
nothing is written until the customer confirms, or their mail program sends the RFC 8058
one-click POST. The withdrawal goes through ``set_consent`` like a change at the counter:
the consents table, a ``consent`` event on the timeline and an audit entry naming the
customer. Doing it twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from regulars.domain.access import Actor
from regulars.domain.delivery import read_unsubscribe_token
from regulars.domain.errors import NotFound
from regulars.services.customers import set_consent
from regulars.store.lookups import customers_by_id
from regulars.store.tables import consents, customers
from regulars.store.uow import UnitOfWork

CHANNEL_WORDS = {"email": "e-mails", "sms": "text messages", "webhook": "app messages"}


@dataclass(frozen=True)
class Subscription:
    """Whom a link is for, as the confirmation page shows it."""

    customer_id: int
    first_name: str
    channel: str
    subscribed: bool

    @property
    def channel_words(self) -> str:
        return CHANNEL_WORDS.get(self.channel, self.channel)


def _read(uow: UnitOfWork, token: str, secret: str) -> Subscription:
    found = read_unsubscribe_token(secret, token)
    if found is None:
        raise NotFound("this unsubscribe link is not valid", field="token")
    linked_id, channel = found
    conn = uow.conn
    # A link in an e-mail sent before a merge names the duplicate; the messages now go to
    # the customer it was merged into, so that is whose consent the link must withdraw.
    resolved = customers_by_id(conn, [linked_id]).get(linked_id)
    customer_id = resolved.id if resolved is not None else linked_id
    person = conn.execute(
        select(customers.c.first_name, customers.c.status).where(customers.c.id == customer_id)
    ).first()
    if person is None or person.status == "erased":
        raise NotFound("this unsubscribe link is not valid", field="token")
    granted = conn.scalar(
        select(consents.c.granted).where(
            consents.c.customer_id == customer_id, consents.c.channel == channel
        )
    )
    return Subscription(customer_id, person.first_name, channel, granted is not False)


def describe_unsubscribe(uow: UnitOfWork, token: str, *, secret: str) -> Subscription:
    """What the link would do; writes nothing (a link preview must not unsubscribe anyone)."""
    with uow:
        return _read(uow, token, secret)


def unsubscribe(
    uow: UnitOfWork, token: str, *, secret: str, now: datetime, how: str = "unsubscribe link"
) -> Subscription:
    """Withdraw consent for the link's channel; a second click is a no-op."""
    with uow:
        current = _read(uow, token, secret)
    if not current.subscribed:
        return current
    actor = Actor(
        kind="customer",
        id=current.customer_id,
        permissions=frozenset({"customers:write"}),
        name=current.first_name,
    )
    set_consent(
        uow,
        actor,
        current.customer_id,
        {"channel": current.channel, "granted": False, "at": now, "source": how},
        now=now,
    )
    return Subscription(current.customer_id, current.first_name, current.channel, False)


__all__ = ["Subscription", "describe_unsubscribe", "unsubscribe"]
