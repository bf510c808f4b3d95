"""The planner's messages, queued in the outbox set-based.

``enqueue_message`` (services/outbox.py) queues one message at a time, with a customer
lookup and a statement per row: right for a single send decision, too slow for the few
thousand a daily plan over a million customers queues. This writes the same rows (same
key, the template checked by ``known_template``, the context the planner filled from
``needed_context``, the same "a key already queued is left alone" rule) in one statement
per batch.

Before writing, each message is checked against its customer's profile: a message to an
address the customer has not given, or whose template prints a profile field the customer
lacks ("Dear ," for want of a first name), is not queued. It would only fail, or read badly,
at send time; instead the caller learns why (``Queued.refused``), and the planner records
the decision as suppressed with that reason, as it does for the guards.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import nodes
from sqlalchemy import Connection, select

from regulars.channels.templating import environment
from regulars.domain.errors import FieldProblem, InvalidInput
from regulars.domain.guards import CHANNEL_WORDS
from regulars.services.outbox import known_template
from regulars.store.bulk import db_json, db_time
from regulars.store.outbox_tables import outbox
from regulars.store.tables import customers

#: Profile fields a template may print that a customer can lack, in a manager's words.
PERSONAL_FIELDS = {
    "first_name": "a first name",
    "last_name": "a last name",
    "full_name": "a name",
    "city": "a city",
}
#: The profile column each channel sends to, and what the plan says when it is empty.
ADDRESSES = {"email": ("email", "no e-mail address"), "sms": ("phone", "no mobile number")}


@dataclass(frozen=True)
class PlannedMessage:
    key: str
    customer_id: int
    channel: str
    moment: str
    template: str
    context: dict[str, str | int | None]
    send_after: datetime
    decision_id: int


@dataclass(frozen=True)
class Queued:
    """What ``queue_planned_messages`` did: how many it wrote (keys already in the outbox are
    not counted again), and which it refused and why."""

    count: int
    refused: dict[str, str] = field(default_factory=dict)  # message key → reason


def queue_planned_messages(conn: Connection, messages: Sequence[PlannedMessage]) -> Queued:
    """Insert the messages the customers' profiles can carry; keys already in the outbox stay
    as they are. A broken template is an error; a customer who lacks what the template or
    the channel needs is a refusal, reported per key with the reason (nothing is written)."""
    if not messages:
        return Queued(0)
    checked: dict[tuple[str, str], list[str]] = {}
    for message in messages:
        pair = (message.template, message.channel)
        if pair not in checked:
            checked[pair] = known_template(*pair)
        if checked[pair] or message.send_after.tzinfo is None:
            reason = "; ".join(checked[pair]) or "send_after needs a time zone"
            raise InvalidInput([FieldProblem("template", reason)])
    refused = unfit_messages(conn, messages)
    messages = [m for m in messages if m.key not in refused]
    dialect = conn.dialect.name
    rows = [
        (
            m.key,
            m.customer_id,
            m.channel,
            m.moment,
            m.template,
            db_json(m.context),
            m.decision_id,
            "queued",
            0,
            db_time(dialect, m.send_after),
            db_time(dialect, m.send_after),
            db_time(dialect, m.send_after),
            db_time(dialect, m.send_after),
        )
        for m in messages
    ]
    mark = "%s" if dialect == "postgresql" else "?"
    marks = [
        f"CAST({mark} AS jsonb)" if name == "context" and dialect == "postgresql" else mark
        for name in COLUMNS
    ]
    sql = (
        f"INSERT INTO {outbox.name} ({', '.join(COLUMNS)}) VALUES ({', '.join(marks)}) "  # noqa: S608 - our own table and column names; values are bound
        "ON CONFLICT (key) DO NOTHING"
    )
    written = 0
    for start in range(0, len(rows), 2000):
        # Both drivers sum an executemany's row counts; a key already queued counts 0.
        written += conn.exec_driver_sql(sql, rows[start : start + 2000]).rowcount
    return Queued(written, refused)


def unfit_messages(conn: Connection, messages: Sequence[PlannedMessage]) -> dict[str, str]:
    """Message key → why the customer's profile cannot carry it, for those that cannot.

    The profiles are read in one statement per 2 000 customers. The reason starts with the
    channel, as the guards' do ("e-mail: no e-mail address").
    """
    profiles = _profiles(conn, sorted({m.customer_id for m in messages}))
    refused: dict[str, str] = {}
    for message in messages:
        profile = profiles.get(message.customer_id)
        reason = (
            "the customer no longer exists"
            if profile is None
            else _lacking(message.template, message.channel, profile)
        )
        if reason is not None:
            word = CHANNEL_WORDS.get(message.channel, message.channel)
            refused[message.key] = f"{word}: {reason}"
    return refused


def _profiles(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    c = customers.c
    out: dict[int, dict[str, str]] = {}
    for start in range(0, len(ids), 2000):
        rows = conn.execute(
            select(c.id, c.first_name, c.last_name, c.city, c.email, c.phone).where(
                c.id.in_(ids[start : start + 2000])
            )
        )
        for cid, first, last, city, email, phone in rows:
            out[int(cid)] = {
                "first_name": (first or "").strip(),
                "last_name": (last or "").strip(),
                "full_name": f"{first or ''} {last or ''}".strip(),
                "city": (city or "").strip(),
                "email": (email or "").strip(),
                "phone": (phone or "").strip(),
            }
    return out


def _lacking(template: str, channel: str, profile: Mapping[str, str]) -> str | None:
    address = ADDRESSES.get(channel)
    if address is not None and not profile[address[0]]:
        return address[1]
    for name in sorted(printed_profile_fields(template, channel)):
        if not profile[name]:
            return f"template {template!r} needs {PERSONAL_FIELDS[name]}, and the profile has none"
    return None


@lru_cache(maxsize=256)
def printed_profile_fields(template: str, channel: str) -> frozenset[str]:
    """The personal profile fields the template (any language variant) prints unguarded.

    ``{{ first_name }}`` needs a first name; ``{{ city or "the neighbourhood" }}``,
    ``{{ city | default("here", true) }}`` and a field printed inside ``{% if city %}``
    do not need one.
    """
    env = environment()
    kind = "sms" if channel == "webhook" else channel
    own = re.compile(rf"{re.escape(template)}(\.[a-z]{{2}}(-[A-Z]{{2}})?)?\.{kind}\.j2")
    printed: set[str] = set()
    for file in env.list_templates(filter_func=lambda name: own.fullmatch(name) is not None):
        source, _, _ = env.loader.get_source(env, file)  # type: ignore[union-attr]
        printed |= set(_bare_outputs(env.parse(source), frozenset()))
    return frozenset(printed & PERSONAL_FIELDS.keys())


def _bare_outputs(node: nodes.Node, guarded: frozenset[str]) -> Iterator[str]:
    """Names printed as they are (or through filters other than ``default``), outside an
    ``if`` that tests them."""
    if isinstance(node, nodes.Output):
        for child in node.nodes:
            name = _printed_name(child)
            if name is not None and name not in guarded:
                yield name
            elif name is None:
                yield from _bare_outputs(child, guarded)
        return
    if isinstance(node, nodes.If):
        names: list[nodes.Node] = [node.test, *node.test.find_all(nodes.Name)]  # not only inside
        tested = guarded | {n.name for n in names if isinstance(n, nodes.Name)}
        branches: list[nodes.Node] = [*node.body, *node.elif_, *node.else_]
        for branch in branches:
            yield from _bare_outputs(branch, tested)
        return
    for inner in node.iter_child_nodes():
        yield from _bare_outputs(inner, guarded)


def _printed_name(expr: Any) -> str | None:
    node: Any = expr
    while isinstance(node, nodes.Filter):
        if node.name == "default":
            return None
        node = node.node
    return node.name if isinstance(node, nodes.Name) else None


COLUMNS = (
    "key",
    "customer_id",
    "channel",
    "moment",
    "template",
    "context",
    "decision_id",
    "status",
    "attempts",
    "send_after",
    "next_attempt_at",
    "created_at",
    "updated_at",
)
