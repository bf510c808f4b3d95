"""Signing in: staff passwords, console sessions, login throttling and API keys.

Passwords are hashed with argon2. Session cookies and API keys are long random secrets, so
they are stored as SHA-256 digests: strong enough against a stolen database, and cheap
enough to check on every request at a busy counter (argon2 per request would not be).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, delete, func, insert, select, text, update

from regulars.domain.access import Actor
from regulars.domain.customers import Role, normalise_email
from regulars.domain.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from regulars.domain.errors import validate as validate_input
from regulars.services.access import (
    PERMISSIONS,
    require,
    require_manager,
    staff_actor,
    staff_location_ids,
)
from regulars.services.customers import create_staff
from regulars.store import audit
from regulars.store.access_tables import api_keys, login_attempts, staff_sessions
from regulars.store.ids import insert_one
from regulars.store.tables import locations, staff, staff_locations
from regulars.store.uow import UnitOfWork

SESSION_LIFETIME = timedelta(hours=12)
SESSION_IDLE = timedelta(hours=2)
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 20
MIN_PASSWORD_LENGTH = 10
#: Sign-in attempts (e-mail and address) are kept this long for a look back after an attack;
#: only the last ``THROTTLE_WINDOW`` counts for throttling.
KEEP_ATTEMPTS = timedelta(days=30)

_hasher = PasswordHasher()


class TooManyAttempts(Forbidden):
    """Too many wrong passwords lately; the message says how long to wait."""

    code = "too_many_attempts"
    http_status = 429


class BadCredentials(Forbidden):
    """Wrong e-mail or password; deliberately vague about which."""

    code = "bad_credentials"
    http_status = 401


# -- passwords -------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """An argon2id hash of a new password; too-short passwords are refused."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            [FieldProblem("password", f"use at least {MIN_PASSWORD_LENGTH} characters")]
        )
    return _hasher.hash(password)


def _password_matches(stored: str | None, password: str) -> bool:
    if not stored:
        # Spend the same time as a real check so that unknown accounts do not answer faster.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def set_password(
    uow: UnitOfWork, actor: Actor, email: str, password: str, *, now: datetime
) -> None:
    """Give a member of staff a new password; their open sessions end."""
    digest = hash_password(password)
    with uow:
        conn = uow.conn
        staff_id = _staff_id_by_email(conn, email)
        if actor.kind not in ("system", "cli") and not (
            actor.kind == "staff" and actor.id == staff_id
        ):
            _require_authority_over(conn, actor, staff_id)
        conn.execute(update(staff).where(staff.c.id == staff_id).values(password_hash=digest))
        conn.execute(delete(staff_sessions).where(staff_sessions.c.staff_id == staff_id))
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="staff.set_password",
            entity="staff",
            entity_id=staff_id,
        )
        uow.commit()


# -- sessions --------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffSession:
    """A signed-in member of staff, as the console sees them on each request."""

    actor: Actor
    name: str
    email: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class NewSession:
    """What a successful login hands back: the cookie value (shown once) and the session."""

    token: str
    session: StaffSession


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def log_in(uow: UnitOfWork, email: str, password: str, *, ip: str, now: datetime) -> NewSession:
    """Check the password (throttled per account and per address) and open a session.

    A NUL byte in the e-mail (PostgreSQL refuses it in text) becomes U+FFFD: no account has
    it, so the attempt is a wrong login like any other and counts against the address.
    """
    email_key = email.strip().lower().replace("\x00", "\ufffd")[:254]
    ip = ip[:64]
    with uow:
        conn = uow.conn
        _queue_attempts(conn, email_key, ip)
        _throttle(conn, email_key, ip, now)
        row = conn.execute(
            select(staff.c.id, staff.c.password_hash, staff.c.active).where(
                func.lower(staff.c.email) == email_key
            )
        ).first()
        ok = _password_matches(row.password_hash if row else None, password)
        if row is not None and ok and not row.active:
            ok = False
        conn.execute(insert(login_attempts).values(at=now, email=email_key, ip=ip, succeeded=ok))
        if not ok or row is None:
            uow.commit()  # the failed attempt must count even though we refuse
            raise BadCredentials("wrong e-mail or password", field="password")
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        conn.execute(
            insert(staff_sessions).values(
                id=_digest(token),
                staff_id=row.id,
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
                expires_at=now + SESSION_LIFETIME,
                ip=ip,
            )
        )
        conn.execute(delete(staff_sessions).where(staff_sessions.c.expires_at < now))
        conn.execute(delete(login_attempts).where(login_attempts.c.at < now - KEEP_ATTEMPTS))
        audit.record(
            conn,
            at=now,
            actor=f"staff:{row.id}",
            action="staff.log_in",
            entity="staff",
            entity_id=row.id,
            after={"ip": ip},
        )
        found = _load_session(conn, _digest(token), now)
        uow.commit()
    if found is None:  # pragma: no cover - the row was written a moment ago
        raise BadCredentials("wrong e-mail or password")
    return NewSession(token, found[0])


#: Advisory lock classes (the first key of PostgreSQL's two-key lock), so that an address
#: and an e-mail never share a lock by accident.
_LOCK_ADDRESS = 0x4C_41  # "LA"
_LOCK_EMAIL = 0x4C_45  # "LE"


def _queue_attempts(conn: Connection, email: str, ip: str) -> None:
    """Make attempts from one address, and attempts on one e-mail, wait for each other.

    Each attempt must count the failures before it, or parallel guesses all pass the check
    at once: ten at one e-mail from many addresses, or thirty at many e-mails from one
    address. SQLite's single writer already queues them; PostgreSQL queues them here on
    transaction locks, always the address first and then the e-mail, so two attempts never
    wait for each other in a circle.
    """
    if conn.dialect.name != "postgresql":
        return
    for kind, value in ((_LOCK_ADDRESS, ip), (_LOCK_EMAIL, email)):
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:kind, :key)"),
            {"kind": kind, "key": zlib.crc32(value.encode()) - 2**31},
        )


def _throttle(conn: Connection, email: str, ip: str, now: datetime) -> None:
    since = now - THROTTLE_WINDOW
    failures = conn.execute(
        select(func.count(), func.min(login_attempts.c.at)).where(
            login_attempts.c.email == email,
            login_attempts.c.at >= since,
            login_attempts.c.succeeded.is_(False),
        )
    ).one()
    if failures[0] >= MAX_FAILURES_PER_ACCOUNT:
        wait = _minutes_left(failures[1], now)
        raise TooManyAttempts(
            f"too many wrong passwords for this account; try again in {wait} minutes",
            field="email",
        )
    by_ip = conn.scalar(
        select(func.count()).where(
            login_attempts.c.ip == ip,
            login_attempts.c.at >= since,
            login_attempts.c.succeeded.is_(False),
        )
    )
    if (by_ip or 0) >= MAX_FAILURES_PER_IP:
        raise TooManyAttempts("too many wrong passwords from this address; try again in 15 minutes")


def _minutes_left(first_failure: datetime | None, now: datetime) -> int:
    if first_failure is None:
        return int(THROTTLE_WINDOW.total_seconds() // 60)
    left = first_failure + THROTTLE_WINDOW - now
    return max(1, int(left.total_seconds() // 60) + 1)


def session_for_token(uow: UnitOfWork, token: str, *, now: datetime) -> StaffSession | None:
    """The live session behind a cookie value, or None when it is unknown or expired.

    Read in a read-only transaction with two small queries (no write lock on SQLite at a
    busy counter); the last-seen time is written at most once a minute, for the idle timeout.
    """
    if not token or len(token) > 200:
        return None
    key = _digest(token)
    with UnitOfWork(uow.engine, readonly=True) as reader:
        found = _load_session(reader.conn, key, now)
    if found is None:
        return None
    session, seen = found
    if now - seen > timedelta(minutes=1):
        with uow:
            uow.conn.execute(
                update(staff_sessions).where(staff_sessions.c.id == key).values(last_seen_at=now)
            )
            uow.commit()
    return session


def _load_session(
    conn: Connection, key: str, now: datetime
) -> tuple[StaffSession, datetime] | None:
    """The session and when it was last seen, if it is still alive."""
    row = conn.execute(
        select(
            staff_sessions.c.staff_id,
            staff_sessions.c.csrf_token,
            staff_sessions.c.expires_at,
            staff_sessions.c.last_seen_at,
            staff.c.name,
            staff.c.email,
            staff.c.role,
            staff.c.active,
        )
        .join(staff, staff.c.id == staff_sessions.c.staff_id)
        .where(staff_sessions.c.id == key)
    ).first()
    if row is None or not row.active:
        return None
    if row.expires_at <= now or now - row.last_seen_at > SESSION_IDLE:
        return None
    actor = staff_actor(conn, int(row.staff_id), Role(row.role), row.name)
    session = StaffSession(actor, row.name, row.email, row.csrf_token, row.expires_at)
    return session, row.last_seen_at


def log_out(uow: UnitOfWork, token: str, *, now: datetime) -> None:
    """End a session; unknown tokens are ignored, since the effect is the same."""
    with uow:
        row = uow.conn.execute(
            select(staff_sessions.c.staff_id).where(staff_sessions.c.id == _digest(token))
        ).first()
        if row is None:
            return
        uow.conn.execute(delete(staff_sessions).where(staff_sessions.c.id == _digest(token)))
        audit.record(
            uow.conn,
            at=now,
            actor=f"staff:{row.staff_id}",
            action="staff.log_out",
            entity="staff",
            entity_id=row.staff_id,
        )
        uow.commit()


# -- staff -----------------------------------------------------------------------------


def add_staff(
    uow: UnitOfWork,
    actor: Actor,
    data: Mapping[str, Any],
    *,
    password: str | None,
    now: datetime,
) -> int:
    """Add a member of staff who can sign in (managers add people at their own locations)."""
    require_manager(actor)
    if (
        actor.kind not in ("system", "cli")
        and actor.role != Role.owner
        and data.get("role") == "owner"
    ):
        raise Forbidden("only an owner may add another owner", field="role")
    if actor.locations is not None:
        with uow:
            mine = set(
                uow.conn.scalars(
                    select(locations.c.code).where(locations.c.id.in_(sorted(actor.locations)))
                )
            )
        wanted = data.get("locations") or []
        if not isinstance(wanted, list) or not set(wanted) <= mine:
            raise Forbidden("you may add staff at your own locations only", field="locations")
    digest = hash_password(password) if password is not None else None
    return create_staff(uow, actor, data, now=now, password_hash=digest)


@dataclass(frozen=True)
class StaffSummary:
    id: int
    email: str
    name: str
    role: str
    locations: tuple[str, ...]
    active: bool
    has_password: bool


def list_staff(uow: UnitOfWork, actor: Actor) -> list[StaffSummary]:
    """Everyone on staff the actor may see (managers see their own locations' people).

    Names and e-mails of colleagues are personal data: a key limited to, say, sending
    events needs ``staff:read`` to list them."""
    require(actor, "staff:read")
    with uow:
        conn = uow.conn
        codes: dict[int, list[str]] = {}
        rows = conn.execute(
            select(staff.c.id, locations.c.id.label("lid"), locations.c.code)
            .select_from(staff)
            .join(staff_locations, staff_locations.c.staff_id == staff.c.id)
            .join(locations, locations.c.id == staff_locations.c.location_id)
        ).all()
        ids_at: dict[int, set[int]] = {}
        for sid, lid, code in rows:
            codes.setdefault(sid, []).append(code)
            ids_at.setdefault(sid, set()).add(lid)
        out = []
        for row in conn.execute(select(staff).order_by(staff.c.name, staff.c.id)).mappings():
            if actor.locations is not None and not (ids_at.get(row["id"], set()) & actor.locations):
                continue
            out.append(
                StaffSummary(
                    row["id"],
                    row["email"],
                    row["name"],
                    row["role"],
                    tuple(sorted(codes.get(row["id"], []))),
                    bool(row["active"]),
                    bool(row["password_hash"]),
                )
            )
    return out


def _require_authority_over(conn: Connection, actor: Actor, staff_id: int) -> None:
    """Managers look after people at their own locations; only an owner after an owner."""
    require_manager(actor)
    role = conn.scalar(select(staff.c.role).where(staff.c.id == staff_id))
    if role == Role.owner.value and actor.role != Role.owner:
        raise Forbidden("only an owner may change an owner's account")
    if actor.locations is not None and not staff_location_ids(conn, staff_id) <= actor.locations:
        raise NotFound("no member of staff has this e-mail", field="email")


def _staff_id_by_email(conn: Connection, email: str) -> int:
    try:
        normalised = normalise_email(email)
    except ValueError:
        raise InvalidInput([FieldProblem("email", "not an e-mail address")]) from None
    staff_id = conn.scalar(
        select(staff.c.id).where(func.lower(staff.c.email) == normalised.lower())
    )
    if staff_id is None:
        raise NotFound("no member of staff has this e-mail", field="email")
    return int(staff_id)


# -- API keys --------------------------------------------------------------------------

KEY_PREFIX = "rk_"
_PREFIX_BYTES = 4


class ApiKeyIn(BaseModel):
    """A new key for an integration: which locations and what it may do."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=120)]
    role: Role = Role.staff
    locations: list[Annotated[str, Field(min_length=1, max_length=40)]] | None = Field(
        default=None, description="Location codes; omitted: the whole business (owners only)."
    )
    permissions: list[str] | None = Field(
        default=None, description="Permission names; omitted: everything the role allows."
    )


@dataclass(frozen=True)
class ApiKeySummary:
    id: int
    name: str
    prefix: str
    role: str
    locations: tuple[str, ...] | None
    permissions: tuple[str, ...] | None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class NewApiKey:
    """The key itself is in ``secret`` and is shown this once; only its digest is kept."""

    id: int
    secret: str
    summary: ApiKeySummary


def create_api_key(uow: UnitOfWork, actor: Actor, data: Any, *, now: datetime) -> NewApiKey:
    """Issue a key; nobody can hand out more reach than they have themselves."""
    require_manager(actor)
    new = validate_input(ApiKeyIn, data)
    unknown = sorted(set(new.permissions or ()) - PERMISSIONS)
    if unknown:
        raise InvalidInput(
            [
                FieldProblem(
                    "permissions",
                    f"unknown permission {unknown[0]!r}; "
                    f"expected some of {', '.join(sorted(PERMISSIONS))}",
                )
            ]
        )
    if new.role == Role.owner and actor.kind not in ("system", "cli") and actor.role != Role.owner:
        raise Forbidden("only an owner may create an owner key", field="role")
    if actor.permissions is not None:
        if new.permissions is None:
            raise Forbidden(
                "a key limited to some permissions may only issue keys limited to some of them; "
                "list the permissions",
                field="permissions",
            )
        beyond = sorted(set(new.permissions) - actor.permissions)
        if beyond:
            raise Forbidden(
                f"a key cannot hand out the {beyond[0]!r} permission, which it lacks",
                field="permissions",
            )
    with uow:
        conn = uow.conn
        location_ids: list[int] | None = None
        if new.locations is not None:
            places = {
                str(c): int(i) for c, i in conn.execute(select(locations.c.code, locations.c.id))
            }
            location_ids = []
            for code in new.locations:
                if code not in places:
                    raise InvalidInput([FieldProblem("locations", f"unknown location {code!r}")])
                location_ids.append(int(places[code]))
        if actor.locations is not None and (
            location_ids is None or not set(location_ids) <= actor.locations
        ):
            raise Forbidden("a key cannot reach locations that are not yours", field="locations")
        prefix = secrets.token_hex(_PREFIX_BYTES)
        secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        values = {
            "name": new.name,
            "prefix": prefix,
            "key_hash": _digest(secret),
            "role": new.role.value,
            "locations": sorted(set(location_ids)) if location_ids is not None else None,
            "permissions": sorted(set(new.permissions)) if new.permissions is not None else None,
            "created_at": now,
            "created_by": actor.label,
        }
        key_id = insert_one(conn, api_keys, values)
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="api_key.create",
            entity="api_key",
            entity_id=key_id,
            after={k: v for k, v in values.items() if k != "key_hash"},
        )
        summary = _summaries(conn, key_id)[0]
        uow.commit()
    return NewApiKey(key_id, secret, summary)


def list_api_keys(uow: UnitOfWork, actor: Actor) -> list[ApiKeySummary]:
    require_manager(actor)
    with uow:
        keys = _summaries(uow.conn, None)
    if actor.locations is None:
        return keys
    with uow:
        codes = {
            code
            for (lid, code) in uow.conn.execute(select(locations.c.id, locations.c.code))
            if lid in actor.locations
        }
    return [k for k in keys if k.locations is not None and set(k.locations) <= codes]


def revoke_api_key(uow: UnitOfWork, actor: Actor, key_id: int, *, now: datetime) -> None:
    """Stop a key at once; revoking twice is harmless."""
    require_manager(actor)
    with uow:
        conn = uow.conn
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
        if row is None:
            raise NotFound("no such API key", field="key_id")
        if actor.locations is not None and (
            row["locations"] is None or not set(row["locations"]) <= actor.locations
        ):
            raise NotFound("no such API key", field="key_id")
        if not _holds_all(actor, row["permissions"]):
            raise Forbidden(
                "a key limited to some permissions may only revoke keys limited to some of "
                "them; this key may do more",
                field="key_id",
            )
        if row["revoked_at"] is not None:
            return
        conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=now))
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="api_key.revoke",
            entity="api_key",
            entity_id=key_id,
            before={"revoked_at": None},
            after={"revoked_at": now},
        )
        uow.commit()


def _looks_like_prefix(prefix: str) -> bool:
    """Whether a presented prefix is one ``create_api_key`` could have minted (hex).

    Anything else is unknown without asking the database, which on PostgreSQL refuses a
    NUL byte outright: a garbled key must read as unknown (401), not as a bad value (422).
    """
    return len(prefix) == _PREFIX_BYTES * 2 and all(c in "0123456789abcdef" for c in prefix)


def _holds_all(actor: Actor, permissions: list[str] | None) -> bool:
    """Whether the actor holds every permission of a key (None: all its role allows).

    A key limited to reading may issue and revoke keys that read; revoking the till's
    writing key would stop the shop's sales from reaching their customers.
    """
    if actor.permissions is None:
        return True
    return permissions is not None and set(permissions) <= actor.permissions


def actor_for_api_key(uow: UnitOfWork, secret: str, *, now: datetime) -> Actor | None:
    """The actor behind a presented key, or None when unknown, malformed or revoked."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    prefix = secret[len(KEY_PREFIX) :].split("_", 1)[0]
    if not _looks_like_prefix(prefix):
        return None
    with UnitOfWork(uow.engine, readonly=True) as reader:
        row = (
            reader.conn.execute(select(api_keys).where(api_keys.c.prefix == prefix))
            .mappings()
            .first()
        )
    if row is None or row["revoked_at"] is not None:
        return None
    if not hmac.compare_digest(row["key_hash"], _digest(secret)):
        return None
    last = row["last_used_at"]
    if last is None or now - last > timedelta(minutes=1):
        with uow:
            uow.conn.execute(
                update(api_keys).where(api_keys.c.id == row["id"]).values(last_used_at=now)
            )
            uow.commit()
    return Actor(
        kind="api_key",
        id=int(row["id"]),
        role=Role(row["role"]),
        locations=frozenset(row["locations"]) if row["locations"] is not None else None,
        permissions=frozenset(row["permissions"]) if row["permissions"] is not None else None,
        name=row["name"],
    )


def _summaries(conn: Connection, key_id: int | None) -> list[ApiKeySummary]:
    codes = {
        int(lid): str(code) for lid, code in conn.execute(select(locations.c.id, locations.c.code))
    }
    query = select(api_keys).order_by(api_keys.c.id)
    if key_id is not None:
        query = query.where(api_keys.c.id == key_id)
    out = []
    for row in conn.execute(query).mappings():
        out.append(
            ApiKeySummary(
                id=row["id"],
                name=row["name"],
                prefix=row["prefix"],
                role=row["role"],
                locations=tuple(sorted(codes.get(i, str(i)) for i in row["locations"]))
                if row["locations"] is not None
                else None,
                permissions=tuple(row["permissions"]) if row["permissions"] is not None else None,
                created_at=row["created_at"],
                created_by=row["created_by"],
                revoked_at=row["revoked_at"],
                last_used_at=row["last_used_at"],
            )
        )
    return out


__all__ = [
    "ApiKeyIn",
    "ApiKeySummary",
    "BadCredentials",
    "NewApiKey",
    "NewSession",
    "StaffSession",
    "StaffSummary",
    "TooManyAttempts",
    "actor_for_api_key",
    "add_staff",
    "create_api_key",
    "hash_password",
    "list_api_keys",
    "list_staff",
    "log_in",
    "log_out",
    "revoke_api_key",
    "session_for_token",
    "set_password",
    "staff_location_ids",
]
