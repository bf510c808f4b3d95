"""The composition root: the one place that decides which real (or fake) parts are used.

The CLI, the web app and the scheduler each call ``build`` once; tests call it with an
in-memory or PostgreSQL URL. Nothing below this module reads settings or creates engines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from regulars.channels.base import Channel
from regulars.channels.sms_http import SmsHttpChannel, SmsSettings
from regulars.channels.smtp import SmtpChannel, SmtpSettings
from regulars.channels.webhooks import WebhookChannel, WebhookSettings
from regulars.config import Settings, get_settings
from regulars.store.db import make_engine
from regulars.store.migrate import upgrade
from regulars.store.uow import UnitOfWork

if TYPE_CHECKING:  # imported where used, so that building a runtime does not load the planner
    from regulars.services.outbox import DeliveryPolicy


class SystemClock:
    """The real clock: aware UTC now. Services never call it themselves; adapters do."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that says what it is told: for ``--now`` replays and for tests."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a fixed clock needs an aware datetime")
        self.at = at

    def now(self) -> datetime:
        return self.at


@dataclass
class Runtime:
    """Everything a command needs from the outside world."""

    settings: Settings
    engine: Engine
    clock: SystemClock | FixedClock

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, readonly=readonly)

    def now(self) -> datetime:
        return self.clock.now()


def build(
    settings: Settings | None = None,
    *,
    now: datetime | None = None,
    migrate: bool = True,
) -> Runtime:
    """Wire the runtime; migrate the database to the newest schema unless told not to."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    clock: SystemClock | FixedClock = FixedClock(now) if now is not None else SystemClock()
    return Runtime(settings=settings, engine=engine, clock=clock)


def channels(settings: Settings) -> dict[str, Channel]:
    """The real delivery channels, configured from the settings (SMTP, SMS over HTTP, webhooks)."""
    s = settings
    return {
        "email": SmtpChannel(
            SmtpSettings(
                host=s.smtp_host,
                port=s.smtp_port,
                starttls=s.smtp_starttls,
                ssl=s.smtp_ssl,
                username=s.smtp_username,
                password=s.smtp_password,
                sender=s.smtp_sender,
                timeout_s=s.smtp_timeout_s,
            )
        ),
        "sms": SmsHttpChannel(
            SmsSettings(endpoint=s.sms_endpoint, api_key=s.sms_api_key, timeout_s=s.sms_timeout_s)
        ),
        "webhook": WebhookChannel(
            WebhookSettings(
                url=s.webhook_url, secret=s.webhook_secret, timeout_s=s.webhook_timeout_s
            )
        ),
    }


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    """How the outbox worker retries, leases and signs unsubscribe links."""
    from regulars.services.outbox import DeliveryPolicy

    return DeliveryPolicy(
        base_url=settings.base_url,
        secret_key=settings.secret_key,
        max_attempts=settings.outbox_max_attempts,
        backoff_base_s=settings.outbox_backoff_base_s,
        backoff_cap_s=settings.outbox_backoff_cap_s,
        lease_s=settings.outbox_lease_s,
    )
