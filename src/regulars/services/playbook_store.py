"""Which playbooks the planner uses: the file a manager loaded, else the demo's.

Kept in the database so that every planner process (and the console) reads the same rules;
each load is validated first (templates included) and audited.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from importlib import resources

from sqlalchemy import Connection, delete, insert, select

from regulars.domain.access import Actor
from regulars.domain.playbooks import PlaybookBook, load_playbooks
from regulars.services.access import require, require_manager
from regulars.services.outbox import known_template
from regulars.store import audit
from regulars.store.planner_tables import playbook_files
from regulars.store.uow import UnitOfWork

ACTIVE = "active"


def demo_text() -> str:
    return resources.files("regulars.demo").joinpath("playbooks.yaml").read_text(encoding="utf-8")


@lru_cache(maxsize=8)
def check_playbooks(text: str) -> PlaybookBook:
    """Validate a playbook file, templates included; InvalidInput names line and field.

    Cached by text: every plan (one per location and day) reads the same file, and a
    validated book is immutable.
    """
    return load_playbooks(text, check_template=known_template)


def active_playbooks(conn: Connection) -> PlaybookBook:
    text = conn.scalar(select(playbook_files.c.text).where(playbook_files.c.name == ACTIVE))
    return check_playbooks(str(text) if text is not None else demo_text())


def save_playbooks(uow: UnitOfWork, actor: Actor, text: str, *, now: datetime) -> PlaybookBook:
    """Make a playbook file the one the planner uses; nothing changes if it is invalid."""
    require(actor, "planner:write")
    require_manager(actor)
    book = check_playbooks(text)
    with uow:
        conn = uow.conn
        before = conn.scalar(select(playbook_files.c.text).where(playbook_files.c.name == ACTIVE))
        conn.execute(delete(playbook_files).where(playbook_files.c.name == ACTIVE))
        conn.execute(insert(playbook_files).values(name=ACTIVE, text=text, updated_at=now))
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="playbooks.load",
            entity="playbooks",
            entity_id=ACTIVE,
            before={"playbooks": "demo" if before is None else "custom"},
            after={"playbooks": sorted(book.playbooks)},
        )
        uow.commit()
    return book
