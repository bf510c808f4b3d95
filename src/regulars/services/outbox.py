"""The outbox: send decisions become rows under their key; the worker sends each key once.

Why it is shaped like this:

* ``enqueue_message`` runs inside the planner's transaction, so a plan that rolls back
  leaves no message behind, and a re-plan of the same day finds the key taken (returns
  False) instead of queueing a second birthday e-mail.
* ``deliver_outbox`` claims a few rows at a time and commits the claim (status ``sending``
  with a lease) *before* talking to any channel. Claims use ``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL, so several workers share the queue without waiting on each other; on SQLite
  every writing transaction holds the database lock from ``BEGIN IMMEDIATE``. A worker that
  dies leaves its rows ``sending`` until the lease runs out; then any worker takes them again.
* Right before a send the planner's guards run again (``check_send``): a check-in at 09:40
  suppresses the 10:00 birthday e-mail, quiet hours defer it.
* After the channel answers, the row's new status and a ``message`` event on the customer's
  timeline are written in one transaction.

The one window no outbox can close is between "the server accepted the message" and "we
recorded that it did": a worker killed exactly there sends that message again when the lease
expires (at-least-once). Every attempt of one row therefore carries the same Message-ID /
Idempotency-Key, so the receiving side can drop the repeat; see docs/delivery.md.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from jinja2 import TemplateError
from sqlalchemy import Connection, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from regulars.channels.base import (
    CHANNEL_NAMES,
    Channel,
    Message,
    SendResult,
    idempotency_key_for,
)
from regulars.channels.templating import PROFILE_FIELDS, render, template_fields, template_problems
from regulars.domain.access import Actor
from regulars.domain.delivery import make_unsubscribe_token, retry_delay
from regulars.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound
from regulars.services.access import (
    access_customer,
    customers_in_scope,
    require,
    require_manager,
)
from regulars.services.ingest import append_events
from regulars.services.send_guard import check_send
from regulars.store import audit
from regulars.store.ids import insert_one
from regulars.store.outbox_tables import OUTBOX_STATUSES, outbox, outbox_attempts
from regulars.store.tables import customers, locations
from regulars.store.uow import UnitOfWork

#: Where the timeline says a message event came from.
EVENT_SOURCE = "outbox"


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard the worker tries; the composition root builds it from the settings."""

    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = "change-me-in-production-regulars-demo-secret"  # noqa: S105 - Settings' demo default
    max_attempts: int = 6
    backoff_base_s: float = 60.0
    backoff_cap_s: float = 6 * 3600.0
    lease_s: float = 300.0
    claim_size: int = 10
    defer_fallback_s: float = 900.0


@dataclass
class DeliveryReport:
    """What one run of the worker did, by outcome."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dead: int = 0
    suppressed: int = 0
    deferred: int = 0
    recovered: int = 0
    keys_sent: list[str] = field(default_factory=list)

    COUNTS: ClassVar[tuple[str, ...]] = (
        "claimed",
        "sent",
        "retrying",
        "failed",
        "dead",
        "suppressed",
        "deferred",
        "recovered",
    )

    def add(self, other: DeliveryReport) -> None:
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.keys_sent.extend(other.keys_sent)

    def as_dict(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in self.COUNTS}


# --------------------------------------------------------------------------- enqueue


def known_template(name: str, channel: str) -> list[str]:
    """Problems with a template for a channel (missing, broken, unknown fields); [] when fine.

    The planner calls this when it loads a playbook, so a template that reads a field nobody
    provides is reported at load time, not discovered by a failed send at 10:00.
    """
    return template_problems(name, channel)


def needed_context(name: str, channel: str) -> set[str]:
    """The fields a caller must put in ``context`` (the profile supplies the rest)."""
    return template_fields(name, channel) - PROFILE_FIELDS


def enqueue_message(
    conn: Connection,
    *,
    key: str,
    customer_id: int,
    channel: str,
    moment: str,
    template: str,
    context: dict[str, object],
    send_after: datetime,
    decision_id: int | None,
) -> bool:
    """Queue one message in the caller's transaction; False when the key is already queued.

    Raises ``InvalidInput`` naming the field for an empty key, an unknown channel or
    template, context the template needs but was not given, or an unknown customer.
    """
    problems: list[FieldProblem] = []
    if not key or len(key) > 200:
        problems.append(FieldProblem("key", "must be 1 to 200 characters"))
    if channel not in CHANNEL_NAMES:
        problems.append(
            FieldProblem("channel", f"unknown channel {channel!r}; expected email, sms or webhook")
        )
    if not moment or len(moment) > 60:
        problems.append(FieldProblem("moment", "must be 1 to 60 characters"))
    if send_after.tzinfo is None:
        problems.append(FieldProblem("send_after", "needs a time zone"))
    plain: dict[str, Any] = {}
    if channel in CHANNEL_NAMES:
        template_trouble = known_template(template, channel)
        problems.extend(FieldProblem("template", p) for p in template_trouble)
        if not template_trouble:
            for name in sorted(needed_context(template, channel) - set(context)):
                problems.append(FieldProblem(f"context.{name}", f"template {template!r} needs it"))
    for name, value in context.items():
        converted = _plain(value)
        if converted is _NOT_PLAIN:
            problems.append(FieldProblem(f"context.{name}", "must be text, a number or a date"))
        plain[name] = converted
    if problems:
        raise InvalidInput(problems)
    exists = conn.scalar(select(customers.c.id).where(customers.c.id == customer_id))
    if exists is None:
        raise InvalidInput([FieldProblem("customer_id", "no such customer")])
    values = {
        "key": key,
        "customer_id": customer_id,
        "channel": channel,
        "moment": moment,
        "template": template,
        "context": plain,
        "decision_id": decision_id,
        "status": "queued",
        "attempts": 0,
        "send_after": send_after,
        "next_attempt_at": send_after,
        "created_at": send_after,
        "updated_at": send_after,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(outbox)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(outbox.c.id)
    )
    return conn.execute(statement).first() is not None


_NOT_PLAIN = object()


def _plain(value: object) -> object:
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, float):
        return _NOT_PLAIN  # money and points are integers; a float here is a bug upstream
    if isinstance(value, datetime | date):
        return value.isoformat()
    return _NOT_PLAIN


# --------------------------------------------------------------------------- deliver


class _Clock:
    """``now`` as given, moving on with real elapsed time while the batch runs.

    Leases and timeline entries must reflect time passing during a slow batch; a replay
    with ``--now`` still starts at the moment it was told.
    """

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.began = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)


@dataclass(frozen=True)
class _Worker:
    """One run of the worker: its name for the send log, and a claim no other run shares.

    Rows are claimed under ``claim``, not the name: two processes started with the same
    ``--worker-id`` (replicas of one deployment) must still tell their claims apart, or one
    would send a row the other took over after its lease ran out.
    """

    name: str
    claim: str

    @classmethod
    def start(cls, name: str) -> _Worker:
        return cls(name, f"{name[:100]}/{uuid.uuid4().hex[:12]}")


def deliver_outbox(
    uow: UnitOfWork,
    channels: Mapping[str, Channel],
    *,
    now: datetime,
    worker_id: str,
    limit: int = 100,
    policy: DeliveryPolicy | None = None,
) -> DeliveryReport:
    """Send up to ``limit`` due messages; each row is claimed, guarded, sent and recorded."""
    policy = policy or DeliveryPolicy()
    clock = _Clock(now)
    worker = _Worker.start(worker_id)
    report = DeliveryReport()
    try:
        while report.claimed < limit:
            size = min(policy.claim_size, limit - report.claimed)
            batch = _claim(uow, clock, worker, size, policy.lease_s)
            if not batch:
                break
            report.claimed += len(batch)
            for row, recovered in batch:
                if recovered:
                    report.recovered += 1
                _deliver_one(uow, channels, row, clock, worker, policy, report)
    finally:
        for channel in channels.values():
            channel.close()
    return report


def _claim(
    uow: UnitOfWork, clock: _Clock, worker: _Worker, size: int, lease_s: float
) -> list[tuple[dict[str, Any], bool]]:
    """Take up to ``size`` due rows (or rows whose worker's lease ran out) and commit the claim."""
    o = outbox.c
    with uow:
        at = clock.now()
        due = or_(
            and_(o.status.in_(("queued", "deferred")), o.next_attempt_at <= at),
            and_(o.status == "sending", o.claimed_until < at),
        )
        picked = uow.conn.execute(
            select(o.id, o.status, o.attempts, o.claimed_by)
            .where(due)
            .order_by(o.next_attempt_at, o.id)
            .limit(size)
            .with_for_update(skip_locked=True)
        ).all()
        if not picked:
            return []
        ids = [r.id for r in picked]
        uow.conn.execute(
            update(outbox)
            .where(o.id.in_(ids))
            .values(
                status="sending",
                claimed_by=worker.claim,
                claimed_until=at + timedelta(seconds=lease_s),
                updated_at=at,
            )
        )
        recovered = {r.id for r in picked if r.status == "sending"}
        for r in picked:
            if r.id in recovered:
                _log(
                    uow.conn,
                    r.id,
                    r.attempts,
                    at,
                    worker.name,
                    "lease_expired",
                    f"worker {r.claimed_by} stopped before recording an answer; taken over",
                )
        rows = uow.conn.execute(select(outbox).where(o.id.in_(ids)).order_by(o.id)).mappings()
        claimed = [(dict(row), row["id"] in recovered) for row in rows]
        uow.commit()
    return claimed


def _deliver_one(
    uow: UnitOfWork,
    channels: Mapping[str, Channel],
    row: dict[str, Any],
    clock: _Clock,
    worker: _Worker,
    policy: DeliveryPolicy,
    report: DeliveryReport,
) -> None:
    """Guard, render, send and record one claimed row."""
    prepared = _prepare(uow, channels, row, clock, worker, policy, report)
    if prepared is None:
        return
    message, attempt = prepared
    channel = channels[row["channel"]]
    try:
        result = channel.send(message)
    except Exception as error:  # a channel bug must not lose the row: retry it
        result = SendResult.transient(f"channel error: {type(error).__name__}: {error}")
    _record(uow, row, message, attempt, result, clock, worker, policy, report)


def _prepare(
    uow: UnitOfWork,
    channels: Mapping[str, Channel],
    row: dict[str, Any],
    clock: _Clock,
    worker: _Worker,
    policy: DeliveryPolicy,
    report: DeliveryReport,
) -> tuple[Message, int] | None:
    """In one transaction: re-run the guards, build the message, count the attempt."""
    o = outbox.c
    with uow:
        conn = uow.conn
        at = clock.now()
        mine = and_(o.id == row["id"], o.status == "sending", o.claimed_by == worker.claim)
        try:
            verdict = check_send(
                conn,
                customer_id=row["customer_id"],
                moment=row["moment"],
                channel=row["channel"],
                now=at,
            )
        except Exception as error:  # a guard that cannot decide must not lose or send the row
            uow.rollback()
            detail = f"the send guards could not decide: {type(error).__name__}: {error}"
            _transient(
                uow.conn,
                row,
                int(row["attempts"]) + 1,
                at,
                worker,
                policy,
                report,
                detail,
                subject="",
            )
            uow.commit()
            return None
        if verdict.action != "send":
            # Deferred rows wait for the guard's time (quiet hours end); suppressed ones stop.
            values: dict[str, Any] = {"status": "suppressed"}
            if verdict.action == "defer":
                until = verdict.until
                if until is None or until <= at:
                    until = at + timedelta(seconds=policy.defer_fallback_s)
                values = {"status": "deferred", "next_attempt_at": until}
            reason = verdict.reason or verdict.action
            conn.execute(
                update(outbox)
                .where(mine)
                .values(
                    **values,
                    reason=reason[:500],
                    claimed_by=None,
                    claimed_until=None,
                    updated_at=at,
                )
            )
            _log(conn, row["id"], row["attempts"], at, worker.name, values["status"], reason)
            uow.commit()
            if values["status"] == "deferred":
                report.deferred += 1
            else:
                report.suppressed += 1
            return None
        attempt = int(row["attempts"]) + 1
        channel = channels.get(row["channel"])
        built = _build_message(conn, row, channel, policy)
        if isinstance(built, str):
            _finish(conn, row, attempt, at, worker, "failed", built, subject="")
            uow.commit()
            report.failed += 1
            return None
        still_mine = conn.execute(
            update(outbox)
            .where(mine)
            .values(
                attempts=attempt,
                claimed_until=at + timedelta(seconds=policy.lease_s),
                updated_at=at,
            )
        ).rowcount
        if still_mine != 1:
            # Our lease ran out while earlier rows of the batch were slow, and another worker
            # took this one over: it is theirs to send now, not ours.
            uow.rollback()
            return None
        uow.commit()
    return built, attempt


def _build_message(
    conn: Connection, row: dict[str, Any], channel: Channel | None, policy: DeliveryPolicy
) -> Message | str:
    """The rendered message, or why it cannot be sent at all (a permanent failure)."""
    if channel is None:
        return f"no {row['channel']} channel is configured"
    c, loc = customers.c, locations.c
    profile = conn.execute(
        select(
            c.first_name,
            c.last_name,
            c.email,
            c.phone,
            c.city,
            c.language,
            c.card_number,
            loc.name.label("location"),
            loc.brand,
            loc.city.label("location_city"),
        )
        .select_from(customers.outerjoin(locations, locations.c.id == c.home_location_id))
        .where(c.id == row["customer_id"])
    ).first()
    if profile is None:
        return "the customer no longer exists"
    kind = row["channel"]
    address = {"email": profile.email, "sms": profile.phone, "webhook": ""}[kind]
    problem = channel.address_problem(address)
    if problem is not None:
        return problem
    # Each message's link stops its own channel: "Stop" in an app message stops app messages.
    token = make_unsubscribe_token(policy.secret_key, row["customer_id"], kind)
    unsubscribe_url = f"{policy.base_url.rstrip('/')}/u/{token}"
    series = _resend_series(conn, row["id"])
    location = profile.location or profile.brand or "us"
    variables: dict[str, Any] = {
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "full_name": f"{profile.first_name} {profile.last_name}".strip(),
        "city": profile.city,
        "language": profile.language,
        "location": location,
        "location_city": profile.location_city or "",
        "brand": profile.brand or location,
        "unsubscribe_url": unsubscribe_url,
    }
    context = row["context"] if isinstance(row["context"], dict) else json.loads(row["context"])
    variables.update(context)
    try:
        rendered = render(row["template"], kind, variables, language=profile.language)
    except TemplateError as error:
        return f"template {row['template']!r} cannot be rendered: {error}"
    headers: dict[str, str] = {}
    if kind == "email":
        headers = {
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    payload: dict[str, Any] = {}
    if kind == "webhook":
        payload = {
            "type": "message",
            "key": row["key"],
            "idempotency_key": idempotency_key_for(row["key"], series),
            "moment": row["moment"],
            "template": row["template"],
            "text": rendered.text,
            "context": context,
            "customer": {
                "id": row["customer_id"],
                "card_number": profile.card_number,
                "first_name": profile.first_name,
                "last_name": profile.last_name,
                "email": profile.email,
                "phone": profile.phone,
            },
        }
    return Message(
        key=row["key"],
        channel=kind,
        to=address or "",
        customer_id=row["customer_id"],
        moment=row["moment"],
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        headers=headers,
        payload=payload,
        series=series,
    )


def _resend_series(conn: Connection, outbox_id: int) -> int:
    """How many times a person sent this message again (``requeued`` lines in its send log)."""
    a = outbox_attempts.c
    count = conn.scalar(
        select(func.count()).where(a.outbox_id == outbox_id, a.outcome == RESENT_OUTCOME)
    )
    return int(count or 0)


def _record(
    uow: UnitOfWork,
    row: dict[str, Any],
    message: Message,
    attempt: int,
    result: SendResult,
    clock: _Clock,
    worker: _Worker,
    policy: DeliveryPolicy,
    report: DeliveryReport,
) -> None:
    """The channel answered: write the row's new status and the timeline event together."""
    with uow:
        conn = uow.conn
        at = clock.now()
        if result.outcome == "sent":
            _finish(
                conn,
                row,
                attempt,
                at,
                worker,
                "sent",
                result.detail,
                message.subject,
                provider_id=result.provider_id,
            )
            report.sent += 1
            report.keys_sent.append(row["key"])
        elif result.outcome == "permanent":
            _finish(conn, row, attempt, at, worker, "failed", result.detail, message.subject)
            report.failed += 1
        else:
            _transient(
                conn, row, attempt, at, worker, policy, report, result.detail, message.subject
            )
        uow.commit()


def _transient(
    conn: Connection,
    row: dict[str, Any],
    attempt: int,
    at: datetime,
    worker: _Worker,
    policy: DeliveryPolicy,
    report: DeliveryReport,
    detail: str,
    subject: str,
) -> None:
    """A failure worth retrying: back off, or give up (dead letter) after the last attempt."""
    if attempt >= policy.max_attempts:
        last = f"gave up after {attempt} attempts; last error: {detail}"
        _finish(conn, row, attempt, at, worker, "dead", last, subject)
        report.dead += 1
        return
    retry_at = at + retry_delay(
        row["key"], attempt, base_s=policy.backoff_base_s, cap_s=policy.backoff_cap_s
    )
    conn.execute(
        update(outbox)
        .where(outbox.c.id == row["id"], outbox.c.status == "sending")
        .values(
            status="queued",
            attempts=attempt,
            next_attempt_at=retry_at,
            last_error=detail[:1000],
            claimed_by=None,
            claimed_until=None,
            updated_at=at,
        )
    )
    logged = _log(conn, row["id"], attempt, at, worker.name, "transient", detail)
    when = retry_at.isoformat(timespec="seconds")
    _timeline(conn, row, attempt, logged, at, "failed", subject, f"{detail} (retry at {when})")
    report.retrying += 1


def _finish(
    conn: Connection,
    row: dict[str, Any],
    attempt: int,
    at: datetime,
    worker: _Worker,
    status: str,
    detail: str,
    subject: str,
    *,
    provider_id: str = "",
) -> None:
    """Close a row for good (sent, failed or dead) and put the outcome on the timeline."""
    values: dict[str, Any] = {
        "status": status,
        "attempts": max(attempt, int(row["attempts"])),
        "claimed_by": None,
        "claimed_until": None,
        "updated_at": at,
    }
    if status == "sent":
        values.update(sent_at=at, provider_id=provider_id[:300], last_error="")
    else:
        values.update(last_error=detail[:1000])
    updated = conn.execute(
        update(outbox)
        .where(
            outbox.c.id == row["id"],
            outbox.c.status == "sending",
            outbox.c.claimed_by == worker.claim,
        )
        .values(**values)
    ).rowcount
    if updated == 0:
        detail = f"{detail} (the lease had run out; another worker may repeat this)".strip()
        conn.execute(
            update(outbox)
            .where(outbox.c.id == row["id"], outbox.c.status.in_(("sending", "queued")))
            .values(**values)
        )
    logged = _log(
        conn,
        row["id"],
        attempt,
        at,
        worker.name,
        "permanent" if status == "failed" else status,
        detail,
    )
    _timeline(conn, row, attempt, logged, at, status, subject, "" if status == "sent" else detail)


def _timeline(
    conn: Connection,
    row: dict[str, Any],
    attempt: int,
    logged: int,
    at: datetime,
    status: str,
    subject: str,
    error: str,
) -> None:
    """A ``message`` event: one per send and per failure, never repeated for an attempt.

    The id carries the attempt log row's id (``logged``, written in the same transaction):
    attempt numbers start again at 1 when a person sends a message again
    (``requeue_message``), and a failure then must not look like an earlier one.
    """
    event = {
        "type": "message",
        "source": EVENT_SOURCE,
        "external_id": f"{idempotency_key_for(row['key'])}:{attempt}:{status}:{logged}",
        "occurred_at": at.isoformat(),
        "customer_id": row["customer_id"],
        "channel": row["channel"],
        "status": status,
        "moment": row["moment"][:60],
        "subject": subject[:300],
        "error": error[:1000],
    }
    append_events(conn, [event], now=at)


def _log(
    conn: Connection,
    outbox_id: int,
    attempt: int,
    at: datetime,
    worker_id: str,
    outcome: str,
    detail: str,
) -> int:
    """Write one line of the message's attempt log; returns its id."""
    return insert_one(
        conn,
        outbox_attempts,
        {
            "outbox_id": outbox_id,
            "attempt": attempt,
            "at": at,
            "worker_id": worker_id[:120],
            "outcome": outcome,
            "detail": detail[:1000],
        },
    )


# --------------------------------------------------------------------------- operations

#: Statuses a person may send again once the cause is fixed (a typo in an address, a
#: provider outage that outlasted every retry). Suppressed messages stay suppressed: a
#: guard said no for a reason, and the next plan decides afresh.
REQUEUEABLE = ("failed", "dead")

#: The send-log outcome of a manual "send again"; each one starts a new idempotency series.
RESENT_OUTCOME = "requeued"


def outbox_counts(uow: UnitOfWork, actor: Actor) -> dict[str, int]:
    """How many messages (to customers the actor may see) are in each status."""
    require(actor, "customers:read")
    query = (
        select(outbox.c.status, func.count())
        .join(customers, customers.c.id == outbox.c.customer_id)
        .where(customers_in_scope(actor))
        .group_by(outbox.c.status)
    )
    with uow:
        rows = uow.conn.execute(query).all()
    return {status: int(n) for status, n in rows}


def list_messages(
    uow: UnitOfWork, actor: Actor, *, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest messages (of one status), for the operator's eye; newest first."""
    require(actor, "customers:read")
    if status is not None and status not in OUTBOX_STATUSES:
        allowed = ", ".join(OUTBOX_STATUSES)
        raise InvalidInput([FieldProblem("status", f"unknown status {status!r}; one of {allowed}")])
    o = outbox.c
    query = (
        select(
            o.key,
            o.customer_id,
            o.channel,
            o.moment,
            o.status,
            o.attempts,
            o.next_attempt_at,
            o.last_error,
            o.reason,
            o.updated_at,
        )
        .join(customers, customers.c.id == o.customer_id)
        .where(customers_in_scope(actor))
        .order_by(o.updated_at.desc(), o.id.desc())
        .limit(max(1, min(limit, 1000)))
    )
    if status is not None:
        query = query.where(o.status == status)
    with uow:
        return [dict(r) for r in uow.conn.execute(query).mappings()]


def message_history(uow: UnitOfWork, actor: Actor, key: str) -> dict[str, Any]:
    """One message and its send log: every claim, guard verdict, try and answer, in order."""
    require(actor, "customers:read")
    o, a = outbox.c, outbox_attempts.c
    with uow:
        conn = uow.conn
        found = (
            conn.execute(
                select(
                    o.id,
                    o.key,
                    o.customer_id,
                    o.channel,
                    o.moment,
                    o.template,
                    o.status,
                    o.attempts,
                    o.send_after,
                    o.next_attempt_at,
                    o.sent_at,
                    o.last_error,
                    o.reason,
                    o.provider_id,
                    o.updated_at,
                ).where(o.key == key)
            )
            .mappings()
            .first()
        )
        if found is None:
            raise NotFound(f"no message with key {key!r}", field="key")
        access_customer(conn, actor, found["customer_id"])
        log = conn.execute(
            select(a.attempt, a.at, a.worker_id, a.outcome, a.detail)
            .where(a.outbox_id == found["id"])
            .order_by(a.id)
        ).mappings()
        history = {k: v for k, v in found.items() if k != "id"}
        history["log"] = [dict(entry) for entry in log]
    return history


def requeue_message(uow: UnitOfWork, actor: Actor, key: str, *, now: datetime) -> None:
    """Send a failed or dead message again, from a fresh first attempt; managers only, audited."""
    require(actor, "customers:write")
    require_manager(actor)
    o = outbox.c
    with uow:
        conn = uow.conn
        # Locked while we decide: a second "send again" pressed at the same moment waits,
        # then sees the message queued (or already claimed by a worker) and is refused,
        # instead of resetting a row that is being sent into a second send.
        found = conn.execute(
            select(o.id, o.customer_id, o.status, o.attempts, o.last_error)
            .where(o.key == key)
            .with_for_update()
        ).first()
        if found is None:
            raise NotFound(f"no message with key {key!r}", field="key")
        access_customer(conn, actor, found.customer_id)
        if found.status not in REQUEUEABLE:
            raise Conflict(
                f"the message is {found.status}; only failed or dead messages can be sent again",
                field="key",
            )
        conn.execute(
            update(outbox)
            .where(o.id == found.id)
            .values(
                status="queued",
                attempts=0,
                next_attempt_at=now,
                last_error="",
                claimed_by=None,
                claimed_until=None,
                updated_at=now,
            )
        )
        _log(
            conn,
            found.id,
            found.attempts,
            now,
            actor.label,
            RESENT_OUTCOME,
            f"sent again by {actor.label} after it was {found.status}",
        )
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="outbox.requeue",
            entity="customer",
            entity_id=found.customer_id,
            before={
                "key": key,
                "status": found.status,
                "attempts": found.attempts,
                "last_error": found.last_error,
            },
            after={"key": key, "status": "queued"},
        )
        uow.commit()


__all__ = [
    "REQUEUEABLE",
    "DeliveryPolicy",
    "DeliveryReport",
    "deliver_outbox",
    "enqueue_message",
    "known_template",
    "list_messages",
    "message_history",
    "needed_context",
    "outbox_counts",
    "requeue_message",
]
