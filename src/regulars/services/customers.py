"""Customers: enrol, update, households, assets, preferences, consent, merge.

One function per command. Each validates its input (``InvalidInput`` names the field),
checks access, writes in one transaction with an audit entry, and returns plain data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from regulars.domain.access import Actor
from regulars.domain.business import LocationIn, StaffIn
from regulars.domain.customers import (
    AssetIn,
    ConsentIn,
    CustomerIn,
    CustomerPatch,
    HouseholdMemberIn,
    PreferenceIn,
    Role,
    birthday_key,
    derived_columns,
)
from regulars.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound, validate
from regulars.domain.events import ConsentChanged, Merged
from regulars.services.access import (
    access_customer,
    require,
    require_location,
    require_manager,
    require_role,
    unreachable_customers,
)
from regulars.services.ingest import append_events
from regulars.services.loyalty import merge_memberships
from regulars.store import audit, lookups
from regulars.store.ids import insert_one
from regulars.store.outbox_tables import outbox
from regulars.store.planner_tables import plan_decisions, staff_tasks
from regulars.store.tables import (
    assets,
    consents,
    customer_refs,
    customers,
    events,
    household_members,
    households,
    locations,
    preferences,
    staff,
    staff_locations,
)
from regulars.store.uow import UnitOfWork


def create_customer(uow: UnitOfWork, actor: Actor, data: Any, *, now: datetime) -> int:
    """Enrol a customer; a taken card number or external ref is a conflict, nothing written."""
    require(actor, "customers:write")
    new = validate(CustomerIn, data)
    with uow:
        conn = uow.conn
        location_id = _location_id(conn, new.home_location)
        require_location(actor, location_id)
        _check_owner(conn, new.owner_staff_id)
        _check_unique_card(conn, new.card_number, None)
        values = new.model_dump(
            exclude={"consents", "external_refs", "quiet_hours", "home_location"}
        )
        values.update(
            derived_columns(values),
            home_location_id=location_id,
            quiet_start=new.quiet_hours.start if new.quiet_hours else None,
            quiet_end=new.quiet_hours.end if new.quiet_hours else None,
            created_at=now,
            updated_at=now,
        )
        with _card_taken_meanwhile():
            customer_id = insert_one(conn, customers, values)
        for source, external_id in new.external_refs.items():
            _add_ref(conn, customer_id, source, external_id)
        for consent in new.consents:
            _write_consent(conn, customer_id, consent, actor, now)
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="customer.create",
            entity="customer",
            entity_id=customer_id,
            after=values,
        )
        uow.commit()
    return customer_id


def update_customer(
    uow: UnitOfWork, actor: Actor, customer_id: int, data: Any, *, now: datetime
) -> None:
    """Change only the fields sent; the audit log keeps before and after."""
    require(actor, "customers:write")
    patch = validate(CustomerPatch, data)
    changes = patch.changes()
    with uow:
        conn = uow.conn
        access_customer(conn, actor, customer_id)
        before = _row(conn, customer_id)
        if before["status"] in ("erased", "merged"):
            raise Conflict(f"this customer is {before['status']} and can no longer change")
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "quiet_hours":
                values["quiet_start"] = value["start"] if value else None
                values["quiet_end"] = value["end"] if value else None
            elif key == "home_location":
                location_id = _location_id(conn, value)
                require_location(actor, location_id)
                values["home_location_id"] = location_id
            elif key == "first_name" and value is None:
                raise InvalidInput([FieldProblem("first_name", "cannot be cleared")])
            else:
                values[key] = value
        if "card_number" in values:
            _check_unique_card(conn, values["card_number"], customer_id)
        if "owner_staff_id" in values:
            _check_owner(conn, values["owner_staff_id"])
        for key in ("language", "last_name", "city", "status"):
            if key in values and values[key] is None:
                raise InvalidInput([FieldProblem(key, "cannot be cleared")])
        _check_reachable(before | values)
        if not values:
            return
        with _card_taken_meanwhile():
            conn.execute(
                update(customers)
                .where(customers.c.id == customer_id)
                .values(**values, **derived_columns(values), updated_at=now)
            )
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="customer.update",
            entity="customer",
            entity_id=customer_id,
            before={k: before.get(k) for k in values},
            after=values,
        )
        uow.commit()


def set_consent(
    uow: UnitOfWork, actor: Actor, customer_id: int, data: Any, *, now: datetime
) -> None:
    """Record consent given or withdrawn on one channel; the timeline keeps the history."""
    require(actor, "customers:write")
    consent = validate(ConsentIn, data)
    with uow:
        access_customer(uow.conn, actor, customer_id)
        _write_consent(uow.conn, customer_id, consent, actor, now)
        uow.commit()


def add_household_member(
    uow: UnitOfWork, actor: Actor, customer_id: int, data: Any, *, now: datetime
) -> int:
    """Add a spouse, child or parent; the customer's household is created on first use."""
    require(actor, "customers:write")
    member = validate(HouseholdMemberIn, data)
    with uow:
        conn = uow.conn
        access_customer(conn, actor, customer_id)
        household_id = _household_of(conn, customer_id)
        if member.customer_id is not None:
            access_customer(conn, actor, member.customer_id)
        values = member.model_dump() | {
            "household_id": household_id,
            "birthday_key": birthday_key(member.birthday) if member.birthday else None,
        }
        member_id = insert_one(conn, household_members, values)
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="household.add_member",
            entity="customer",
            entity_id=customer_id,
            after=values,
        )
        uow.commit()
    return member_id


def add_asset(uow: UnitOfWork, actor: Actor, customer_id: int, data: Any, *, now: datetime) -> int:
    """Record something the household owns; ``member_name`` ties it to a household member."""
    require(actor, "customers:write")
    asset = validate(AssetIn, data)
    with uow:
        conn = uow.conn
        access_customer(conn, actor, customer_id)
        member_id: int | None = None
        if asset.member_name:
            household_id = _household_of(conn, customer_id)
            member_id = conn.scalar(
                select(household_members.c.id).where(
                    household_members.c.household_id == household_id,
                    household_members.c.name == asset.member_name,
                )
            )
            if member_id is None:
                raise InvalidInput([FieldProblem("member_name", "no such household member")])
        values = asset.model_dump(exclude={"member_name"}) | {
            "customer_id": customer_id,
            "member_id": member_id,
        }
        asset_id = insert_one(conn, assets, values)
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="asset.add",
            entity="customer",
            entity_id=customer_id,
            after=values,
        )
        uow.commit()
    return asset_id


def set_preference(
    uow: UnitOfWork, actor: Actor, customer_id: int, data: Any, *, now: datetime
) -> None:
    """Save (or replace) a preference such as the usual order."""
    require(actor, "customers:write")
    pref = validate(PreferenceIn, data)
    with uow:
        conn = uow.conn
        access_customer(conn, actor, customer_id)
        before = conn.scalar(
            select(preferences.c.value).where(
                preferences.c.customer_id == customer_id, preferences.c.label == pref.label
            )
        )
        conn.execute(
            delete(preferences).where(
                preferences.c.customer_id == customer_id, preferences.c.label == pref.label
            )
        )
        conn.execute(
            insert(preferences).values(
                customer_id=customer_id, label=pref.label, value=pref.value, updated_at=now
            )
        )
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="preference.set",
            entity="customer",
            entity_id=customer_id,
            before={pref.label: before} if before else None,
            after={pref.label: pref.value},
        )
        uow.commit()


def merge_customers(
    uow: UnitOfWork, actor: Actor, keep_id: int, duplicate_id: int, *, now: datetime
) -> None:
    """Fold a duplicate profile into the one to keep; both timelines become one.

    Events, refs, assets, preferences, consents, loyalty memberships and the touches planned,
    queued or sent (``_merge_touches``) move over; profile
    fields the kept customer lacks are filled from the duplicate; the duplicate stays as a
    ``merged`` pointer so that old card numbers and ids still resolve. When both belong to
    households, the duplicate's household joins the kept one (see ``_merge_households``).
    """
    require(actor, "customers:write")
    if keep_id == duplicate_id:
        raise InvalidInput([FieldProblem("duplicate_id", "a customer cannot merge with itself")])
    with uow:
        conn = uow.conn
        _lock_for_merge(conn, keep_id, duplicate_id)
        access_customer(conn, actor, keep_id)
        access_customer(conn, actor, duplicate_id)
        keep, dup = _row(conn, keep_id), _row(conn, duplicate_id)
        for row, name in ((keep, "keep_id"), (dup, "duplicate_id")):
            if row["status"] in ("merged", "erased"):
                raise Conflict(f"customer {row['id']} is {row['status']}", field=name)
        conn.execute(
            update(events).where(events.c.customer_id == duplicate_id).values(customer_id=keep_id)
        )
        merge_memberships(conn, keep_id, duplicate_id)
        conn.execute(
            update(customer_refs)
            .where(customer_refs.c.customer_id == duplicate_id)
            .values(customer_id=keep_id)
        )
        conn.execute(
            update(assets).where(assets.c.customer_id == duplicate_id).values(customer_id=keep_id)
        )
        kept_labels = set(
            conn.scalars(select(preferences.c.label).where(preferences.c.customer_id == keep_id))
        )
        conn.execute(
            delete(preferences).where(
                preferences.c.customer_id == duplicate_id, preferences.c.label.in_(kept_labels)
            )
        )
        conn.execute(
            update(preferences)
            .where(preferences.c.customer_id == duplicate_id)
            .values(customer_id=keep_id)
        )
        _merge_consents(conn, keep_id, duplicate_id)
        _merge_touches(conn, keep_id, duplicate_id)
        households_joined = _merge_households(conn, actor, keep, dup, now)
        fill = {
            k: dup[k]
            for k in (
                "email",
                "phone",
                "birthday",
                "birthday_key",
                "city",
                "owner_staff_id",
                "home_location_id",
                "household_id",
                "preferred_channel",
            )
            if keep.get(k) in (None, "") and dup.get(k) not in (None, "")
        }
        fill |= _merged_facts(keep, dup)
        card = dup["card_number"]
        conn.execute(
            update(customers)
            .where(customers.c.id == duplicate_id)
            .values(status="merged", merged_into_id=keep_id, card_number=None, updated_at=now)
        )
        if card is not None:
            _add_ref(conn, keep_id, "card", card)
        conn.execute(
            update(customers).where(customers.c.id == keep_id).values(**fill, updated_at=now)
        )
        marker = Merged(
            source="regulars",
            external_id=f"merge:{keep_id}:{duplicate_id}",
            occurred_at=now,
            customer_id=keep_id,
            merged_customer_id=duplicate_id,
        )
        append_events(conn, [marker.model_dump(mode="json") | {"type": "merged"}], now=now)
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="customer.merge",
            entity="customer",
            entity_id=keep_id,
            before={"duplicate": duplicate_id},
            after=fill | households_joined,
        )
        uow.commit()


def create_location(
    uow: UnitOfWork, actor: Actor, data: Mapping[str, Any], *, now: datetime
) -> int:
    """Open a location (its IANA time zone drives quiet hours and the daily plan); owners only."""
    require_role(actor, Role.owner)
    loc = validate(LocationIn, data)
    with uow:
        if uow.conn.scalar(select(locations.c.id).where(locations.c.code == loc.code)):
            raise Conflict(f"location code {loc.code!r} is taken", field="code")
        location_id = insert_one(uow.conn, locations, loc.model_dump())
        audit.record(
            uow.conn,
            at=now,
            actor=actor.label,
            action="location.create",
            entity="location",
            entity_id=location_id,
            after=loc.model_dump(),
        )
        uow.commit()
    return location_id


def create_staff(
    uow: UnitOfWork,
    actor: Actor,
    data: Mapping[str, Any],
    *,
    now: datetime,
    password_hash: str | None = None,
) -> int:
    """Add a member of staff at one or more locations (by code).

    Who may add whom at which location is ``accounts.add_staff``'s question; this checks
    only that the actor manages at all, so that no caller can skip the check by mistake.
    """
    require_manager(actor)
    person = validate(StaffIn, data)
    with uow:
        conn = uow.conn
        if conn.scalar(select(staff.c.id).where(staff.c.email == person.email)):
            raise Conflict("a member of staff already has this e-mail", field="email")
        ids = [_location_id(conn, code) for code in person.locations]
        values = person.model_dump(exclude={"locations"}) | {
            "working_days": ",".join(person.working_days),
            "password_hash": password_hash,
            "created_at": now,
        }
        staff_id = insert_one(conn, staff, values)
        conn.execute(
            insert(staff_locations), [{"staff_id": staff_id, "location_id": lid} for lid in ids]
        )
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="staff.create",
            entity="staff",
            entity_id=staff_id,
            after=values | {"locations": person.locations, "password_hash": None},
        )
        uow.commit()
    return staff_id


# -- helpers ---------------------------------------------------------------------------


def _lock_for_merge(conn: Connection, keep_id: int, duplicate_id: int) -> None:
    """Lock both profiles exclusively (PostgreSQL; SQLite has one writer anyway).

    An ingest locks the customers it books events for (``ingest._Batch``) from resolving
    them until it commits: the merge waits for purchases already being booked and then
    moves them along, and a purchase arriving meanwhile waits and lands on the kept profile.
    """
    conn.execute(
        select(customers.c.id)
        .where(customers.c.id.in_([keep_id, duplicate_id]))
        .order_by(customers.c.id)
        .with_for_update()
    )


def _row(conn: Connection, customer_id: int) -> dict[str, Any]:
    row = conn.execute(select(customers).where(customers.c.id == customer_id)).mappings().first()
    if row is None:
        raise NotFound("no such customer", field="customer_id")
    return dict(row)


def _location_id(conn: Connection, code: str | None) -> int | None:
    if code is None:
        return None
    location_id = conn.scalar(select(locations.c.id).where(locations.c.code == code))
    if location_id is None:
        raise InvalidInput([FieldProblem("home_location", f"unknown location {code!r}")])
    return int(location_id)


def _check_owner(conn: Connection, staff_id: int | None) -> None:
    if (
        staff_id is not None
        and conn.scalar(select(staff.c.id).where(staff.c.id == staff_id)) is None
    ):
        raise InvalidInput([FieldProblem("owner_staff_id", "no such member of staff")])


def _check_reachable(profile: Mapping[str, Any]) -> None:
    """The rule ``CustomerIn`` applies on enrolment, for the profile as a change leaves it."""
    for channel, contact in (("email", "email"), ("sms", "phone")):
        if profile.get("preferred_channel") == channel and not profile.get(contact):
            raise InvalidInput(
                [FieldProblem("preferred_channel", f"is {channel} but no {contact} is kept")]
            )


def _check_unique_card(conn: Connection, card: str | None, customer_id: int | None) -> None:
    if card is None:
        return
    # A merged duplicate's old card still belongs to the customer it was merged into.
    holder = lookups.customers_by_card(conn, [card]).get(card)
    if holder is not None and holder.id != customer_id:
        raise Conflict("another customer has this card number", field="card_number")


@contextmanager
def _card_taken_meanwhile() -> Iterator[None]:
    """A card number checked as free but taken by a concurrent writer is a conflict, not a 500."""
    try:
        yield
    except IntegrityError as error:
        if "card_number" not in str(error.orig):
            raise
        raise Conflict("another customer has this card number", field="card_number") from None


def _add_ref(conn: Connection, customer_id: int, source: str, external_id: str) -> None:
    holder = conn.scalar(
        select(customer_refs.c.customer_id).where(
            customer_refs.c.source == source, customer_refs.c.external_id == external_id
        )
    )
    if holder is not None and holder != customer_id:
        raise Conflict(
            f"{source} id {external_id!r} belongs to another customer", field="external_refs"
        )
    if holder is None:
        try:
            conn.execute(
                insert(customer_refs).values(
                    customer_id=customer_id, source=source, external_id=external_id
                )
            )
        except IntegrityError:  # a concurrent enrolment took it first
            raise Conflict(f"{source} id {external_id!r} is taken", field="external_refs") from None


def _write_consent(
    conn: Connection, customer_id: int, consent: ConsentIn, actor: Actor, now: datetime
) -> None:
    """Record a statement; a grant older than the statement on record cannot overturn it.

    A paper form signed on the 1st, typed in after the customer unsubscribed on the 20th,
    would otherwise switch e-mail back on; the newer statement stands (as in a merge), and
    the clerk is told so instead of being silently ignored. A withdrawal always applies,
    whatever its date: an unsubscribe is never refused.
    """
    on_record = conn.scalar(
        select(consents.c.at).where(
            consents.c.customer_id == customer_id, consents.c.channel == consent.channel.value
        )
    )
    if consent.granted and on_record is not None and on_record > consent.at:
        raise Conflict(
            f"a newer {consent.channel.value} consent statement ({on_record.isoformat()}) "
            "is on record; a statement the customer gives again is recorded with today's time",
            field="at",
        )
    conn.execute(
        delete(consents).where(
            consents.c.customer_id == customer_id, consents.c.channel == consent.channel.value
        )
    )
    conn.execute(
        insert(consents).values(
            customer_id=customer_id,
            channel=consent.channel.value,
            granted=consent.granted,
            at=consent.at,
            source=consent.source,
        )
    )
    marker = ConsentChanged(
        source="regulars",
        external_id=f"consent:{customer_id}:{consent.channel.value}:{consent.at.isoformat()}",
        occurred_at=consent.at,
        customer_id=customer_id,
        channel=consent.channel,
        granted=consent.granted,
        how=consent.source,
    )
    append_events(conn, [marker.model_dump(mode="json") | {"type": "consent"}], now=now)
    audit.record(
        conn,
        at=now,
        actor=actor.label,
        action="consent.set",
        entity="customer",
        entity_id=customer_id,
        after=consent.model_dump(mode="json"),
    )


def _merge_consents(conn: Connection, keep_id: int, duplicate_id: int) -> None:
    """The newer statement per channel wins: a withdrawal on either profile is honoured."""
    kept = {
        r.channel: r
        for r in conn.execute(select(consents).where(consents.c.customer_id == keep_id))
    }
    for row in conn.execute(select(consents).where(consents.c.customer_id == duplicate_id)).all():
        mine = kept.get(row.channel)
        if mine is None or row.at > mine.at:
            conn.execute(
                delete(consents).where(
                    consents.c.customer_id == keep_id, consents.c.channel == row.channel
                )
            )
            conn.execute(
                insert(consents).values(
                    customer_id=keep_id,
                    channel=row.channel,
                    granted=row.granted,
                    at=row.at,
                    source=row.source,
                )
            )
    conn.execute(delete(consents).where(consents.c.customer_id == duplicate_id))


#: Outbox states a message never leaves (``store.outbox_tables``): history, not work.
FINAL_STATUSES = ("sent", "failed", "dead", "suppressed")


def _merge_touches(conn: Connection, keep_id: int, duplicate_id: int) -> None:
    """The duplicate's plan decisions, staff tasks and sent messages become the kept
    customer's, so the planner sees what was already decided and sent for the person (no
    second birthday call, contact pressure counted once) and the rep's call task opens the
    profile that holds the timeline. A decision for an occasion the kept customer already
    has one for stays on the duplicate, with its task: the kept one stands. Messages still
    waiting stay too, where the send guard suppresses them (a merged profile is sent
    nothing), so the person never gets the same greeting from both profiles.
    """
    d = plan_decisions.c
    kept = {
        (str(moment), str(occasion))
        for moment, occasion in conn.execute(
            select(d.moment, d.occasion).where(d.customer_id == keep_id)
        )
    }
    clashes = [
        int(row.id)
        for row in conn.execute(
            select(d.id, d.moment, d.occasion).where(d.customer_id == duplicate_id)
        )
        if (row.moment, row.occasion) in kept
    ]
    conn.execute(
        update(plan_decisions)
        .where(d.customer_id == duplicate_id, d.id.notin_(clashes))
        .values(customer_id=keep_id)
    )
    # A task of a clashing decision stays with it on the duplicate (out of every queue): the
    # kept customer's task for that occasion stands, and he gets one birthday call, not two.
    t = staff_tasks.c
    conn.execute(
        update(staff_tasks)
        .where(
            t.customer_id == duplicate_id,
            or_(t.decision_id.is_(None), t.decision_id.notin_(clashes)),
        )
        .values(customer_id=keep_id)
    )
    conn.execute(
        update(outbox)
        .where(outbox.c.customer_id == duplicate_id, outbox.c.status.in_(FINAL_STATUSES))
        .values(customer_id=keep_id)
    )


def _merge_households(
    conn: Connection, actor: Actor, keep: dict[str, Any], dup: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The duplicate's household joins the kept customer's; what changed, for the audit.

    Members move over, except someone both households list (same name and relation, in any
    case), who stays once: the kept row gains the birthday or customer link it lacked, and
    assets tied to the other row follow it. Customers sharing the duplicate's household (a
    spouse with a profile of her own) move too, a member row naming the duplicate names the
    kept customer (once per household, see ``_one_row_per_person``), and the emptied
    household is deleted. With only one household between them, nothing moves here: the
    kept customer takes the duplicate's as a missing field.
    Moving a housemate changes their profile too, so the actor must be able to see every
    one of them (a Lisbon manager cannot rearrange a London customer's household), and the
    audit entry names them.
    """
    m = household_members.c
    into, gone = keep["household_id"], dup["household_id"]
    housemates: list[int] = []
    if into is not None and gone is not None and into != gone:
        housemates = sorted(
            int(cid)
            for cid in conn.scalars(
                select(customers.c.id).where(
                    customers.c.household_id == gone, customers.c.id != dup["id"]
                )
            )
        )
        if unreachable_customers(conn, actor, housemates):
            raise Conflict(
                "the duplicate shares a household with customers of locations you do not "
                "manage; ask someone who manages those locations to merge",
                field="duplicate_id",
            )
    conn.execute(
        update(household_members).where(m.customer_id == dup["id"]).values(customer_id=keep["id"])
    )
    if into is None or gone is None or into == gone:
        _one_row_per_person(conn, keep["id"])
        return {}
    present = {
        (_person(r.name), r.relation): r
        for r in conn.execute(select(household_members).where(m.household_id == into))
    }
    moved: list[int] = []
    for row in conn.execute(select(household_members).where(m.household_id == gone)).all():
        same = present.get((_person(row.name), row.relation))
        if same is None:
            conn.execute(update(household_members).where(m.id == row.id).values(household_id=into))
            moved.append(int(row.id))
            continue
        _fold_member(conn, same, row)
    conn.execute(
        update(customers)
        .where(customers.c.household_id == gone)
        .values(household_id=into, updated_at=now)
    )
    names = dict(
        conn.execute(
            select(households.c.id, households.c.name).where(households.c.id.in_((into, gone)))
        ).all()
    )
    if not names.get(into) and names.get(gone):
        conn.execute(update(households).where(households.c.id == into).values(name=names[gone]))
    conn.execute(delete(households).where(households.c.id == gone))
    _one_row_per_person(conn, keep["id"])
    return {
        "household_id": into,
        "household_merged": gone,
        "household_members_moved": moved,
        "customers_moved": housemates,
    }


def _fold_member(conn: Connection, kept: Row[Any], other: Row[Any]) -> None:
    """Two member rows for one person become ``kept``: it gains the birthday or customer
    link it lacked, assets tied to ``other`` follow it, and ``other`` is deleted."""
    m = household_members.c
    gaps = {
        k: other._mapping[k]
        for k in ("birthday", "birthday_key", "customer_id")
        if kept._mapping[k] is None and other._mapping[k] is not None
    }
    if gaps:
        conn.execute(update(household_members).where(m.id == kept.id).values(**gaps))
    conn.execute(update(assets).where(assets.c.member_id == other.id).values(member_id=kept.id))
    conn.execute(delete(household_members).where(m.id == other.id))


def _one_row_per_person(conn: Connection, customer_id: int) -> None:
    """Keep one member row per household naming the customer.

    After a merge both profiles' rows name the kept customer; where one household listed
    both (the same man as "Dan" and as "Daniel"), the earlier row stays, completed from the
    other, so briefs and birthdays do not count him twice.
    """
    m = household_members.c
    first: dict[int, Row[Any]] = {}
    rows = conn.execute(
        select(household_members).where(m.customer_id == customer_id).order_by(m.id)
    ).all()
    for row in rows:
        kept = first.setdefault(row.household_id, row)
        if kept is not row:
            _fold_member(conn, kept, row)
            first[row.household_id] = conn.execute(
                select(household_members).where(m.id == kept.id)
            ).one()


def _person(name: str) -> str:
    return " ".join(name.casefold().split())


def _merged_facts(keep: dict[str, Any], dup: dict[str, Any]) -> dict[str, Any]:
    def later(a: datetime | None, b: datetime | None) -> datetime | None:
        if a is None or b is None:
            return a or b
        return max(a, b)

    return {
        "purchase_count": keep["purchase_count"] + dup["purchase_count"],
        "lifetime_spend": keep["lifetime_spend"] + dup["lifetime_spend"],
        "last_visit_at": later(keep["last_visit_at"], dup["last_visit_at"]),
        "last_purchase_at": later(keep["last_purchase_at"], dup["last_purchase_at"]),
        "created_at": min(keep["created_at"], dup["created_at"]),
    }


def _household_of(conn: Connection, customer_id: int) -> int:
    household_id = conn.scalar(
        select(customers.c.household_id).where(customers.c.id == customer_id)
    )
    if household_id is None:
        row = conn.execute(select(customers.c.last_name).where(customers.c.id == customer_id)).one()
        household_id = insert_one(conn, households, {"name": row.last_name or ""})
        conn.execute(
            update(customers).where(customers.c.id == customer_id).values(household_id=household_id)
        )
    return int(household_id)
