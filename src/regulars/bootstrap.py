"""The composition root: the one place that decides which real (or fake) parts are used.

The CLI, the web app and the scheduler each call ``build`` once; tests call it with an
in-memory or PostgreSQL URL. Nothing below this module reads settings or creates engines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from regulars.config import Settings, get_settings
from regulars.store.db import make_engine
from regulars.store.migrate import upgrade
from regulars.store.uow import UnitOfWork


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
