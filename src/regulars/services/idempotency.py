"""Idempotency keys: a retried POST that creates value gets the first answer, not a twin.

A client sends ``Idempotency-Key``; the first request claims the key (in its own short
transaction, so a concurrent twin sees it at once), runs, and stores its answer. A repeat
with the same body gets the stored answer; a repeat with a different body is a conflict and
writes nothing. An answer that was a server fault is not kept, so the client may retry.

Answers are kept for ``KEEP_ANSWERS`` (a day, as payment APIs do): long enough for any
retry, and no longer. Each claim clears the expired ones, an index range. An answer about one
customer (a profile, a check-in: its ``customer_id`` or ``profile.id``) is stored with that
customer's id, so that erasure blanks it like any other record about them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from regulars.domain.errors import Conflict, FieldProblem, InvalidInput
from regulars.store.tables import idempotency_keys
from regulars.store.uow import UnitOfWork

PENDING = 0  # status_code of a claimed key whose request is still running
#: A claim older than this whose request never finished (the process died) may be retaken.
STALE_CLAIM = timedelta(minutes=5)
MAX_KEY_LENGTH = 200
KEEP_ANSWERS = timedelta(days=1)


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: Any


def request_hash(body: Any) -> str:
    """A stable digest of a request body (key order does not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(
    uow: UnitOfWork, key: str, scope: str, digest: str, *, now: datetime
) -> StoredAnswer | None:
    """Claim a key for this request, or return the answer a previous identical one got."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            [FieldProblem("Idempotency-Key", f"give 1 to {MAX_KEY_LENGTH} characters")]
        )
    scope = scope[:60]
    with uow:
        uow.conn.execute(
            delete(idempotency_keys).where(idempotency_keys.c.created_at < now - KEEP_ANSWERS)
        )
        try:
            uow.conn.execute(
                insert(idempotency_keys).values(
                    key=key,
                    scope=scope,
                    request_hash=digest,
                    response={},
                    status_code=PENDING,
                    created_at=now,
                )
            )
            uow.commit()
            return None
        except IntegrityError:
            uow.rollback()
        row = uow.conn.execute(
            select(
                idempotency_keys.c.request_hash,
                idempotency_keys.c.status_code,
                idempotency_keys.c.response,
                idempotency_keys.c.created_at,
            ).where(idempotency_keys.c.key == key, idempotency_keys.c.scope == scope)
        ).first()
        if (
            row is not None
            and row.status_code == PENDING
            and row.request_hash == digest
            and now - row.created_at > STALE_CLAIM
        ):
            if _retake(uow, key, scope, now):
                uow.commit()
                return None
            uow.rollback()
            row = None  # another retry retook it first: read what it left
    if row is None:  # the claim was released or retaken meanwhile: try once more
        return claim(uow, key, scope, digest, now=now)
    if row.request_hash != digest:
        raise Conflict(
            "this Idempotency-Key was used with a different request", field="Idempotency-Key"
        )
    if row.status_code == PENDING:
        raise Conflict(
            "a request with this Idempotency-Key is still running", field="Idempotency-Key"
        )
    return StoredAnswer(int(row.status_code), row.response)


def _retake(uow: UnitOfWork, key: str, scope: str, now: datetime) -> bool:
    """Take over a stale pending claim, unless a concurrent retry already has.

    The update repeats the staleness test, so of several retries of a dead request arriving
    together on PostgreSQL only the first takes the claim (the others wait on its row lock
    and then find it fresh); each retaking retry would run the request again.
    """
    c = idempotency_keys.c
    taken = uow.conn.execute(
        update(idempotency_keys)
        .where(
            c.key == key,
            c.scope == scope,
            c.status_code == PENDING,
            c.created_at < now - STALE_CLAIM,
        )
        .values(created_at=now)
    )
    return taken.rowcount == 1


def remember(uow: UnitOfWork, key: str, scope: str, answer: StoredAnswer) -> None:
    """Keep the answer for repeats (called once the request's own transaction committed)."""
    with uow:
        uow.conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.key == key, idempotency_keys.c.scope == scope[:60])
            .values(
                status_code=answer.status_code,
                response=answer.body,
                customer_id=customer_of(answer.body),
            )
        )
        uow.commit()


def customer_of(body: Any) -> int | None:
    """The customer an answer is about: its ``customer_id``, or its profile's ``id``."""
    if not isinstance(body, dict):
        return None
    found = body.get("customer_id")
    if found is None and isinstance(body.get("profile"), dict):
        found = body["profile"].get("id")
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def release(uow: UnitOfWork, key: str, scope: str) -> None:
    """Give the key back after a server fault, so that a retry runs afresh."""
    with uow:
        uow.conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.key == key, idempotency_keys.c.scope == scope[:60]
            )
        )
        uow.commit()


__all__ = ["StoredAnswer", "claim", "customer_of", "release", "remember", "request_hash"]
