"""Column types that behave the same on SQLite and PostgreSQL, and cost little per row.

Ingest writes hundreds of thousands of rows a minute, so the per-value conversions here are
on the hot path: each type does its work in one function call per value.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

#: Big integer ids on PostgreSQL, but SQLite's rowid alias (INTEGER PRIMARY KEY) on SQLite,
#: which is the only way SQLite autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class RawJson(str):
    """A JSON document already encoded (by pydantic's fast serializer); stored as is."""

    __slots__ = ()


class Json(TypeDecorator[Any]):
    """A JSON document: JSONB on PostgreSQL (indexable, queryable), text on SQLite.

    Accepts a Python value or a ``RawJson`` string that is already encoded, so that ingest
    serialises each payload once, in pydantic's Rust serializer, instead of twice.
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return json.loads(value) if isinstance(value, RawJson) else value
        if isinstance(value, RawJson):
            return str(value)
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return json.loads(value)


class UtcDateTime(TypeDecorator[datetime]):
    """An instant, stored in UTC, always handed back time-zone aware.

    SQLite has no time zone type: there the value is text in one fixed-width UTC format
    (``YYYY-MM-DD HH:MM:SS.ffffff``, SQLAlchemy's own), so text order is time order. A naive
    timestamp is refused on the way in so that a local "09:40" can never be stored as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"a UtcDateTime column takes a datetime, not {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
