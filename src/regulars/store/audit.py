"""The audit log: every change made by a person or an integration, with before and after."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from regulars.store.tables import audit_log


def record(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry in the caller's transaction (so it commits with the change)."""
    conn.execute(
        audit_log.insert().values(
            at=at,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=_jsonable(before),
            after=_jsonable(after),
        )
    )


def record_many(conn: Connection, entries: Sequence[dict[str, Any]]) -> None:
    """Append many audit entries at once (``record``'s fields, one dict each): a bulk
    command done by a person is audited per customer without a statement per row."""
    if not entries:
        return
    conn.execute(
        audit_log.insert(),
        [
            {
                "at": e["at"],
                "actor": e["actor"],
                "action": e["action"],
                "entity": e["entity"],
                "entity_id": str(e["entity_id"]),
                "before": _jsonable(e.get("before")),
                "after": _jsonable(e.get("after")),
            }
            for e in entries
        ],
    )


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {key: _plain(value) for key, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
