"""Bulk writes straight to the database driver, for the few paths where volume is the point.

SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself when a
batch has thousands of rows. Ingest and the ledger therefore hand the driver rows that are
already in its own form (``db_time``, ``db_json``) through one ``executemany``. Everything
else uses ordinary SQLAlchemy Core.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table

from regulars.store.types import Json


def db_time(dialect: str, moment: datetime | None) -> Any:
    """An aware datetime as the driver stores it (UTC text on SQLite, as ``UtcDateTime``)."""
    if moment is None:
        return None
    if dialect == "sqlite":
        return utc_text(moment)
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the database")
    return moment


def utc_text(moment: datetime) -> str:
    """An aware instant as ``UtcDateTime`` stores it on SQLite (``YYYY-MM-DD HH:MM:SS.ffffff``).

    The offset is taken off the wall clock and the text cut before the offset ``isoformat``
    appends: the same text as ``astimezone(UTC)`` then ``replace(tzinfo=None)``, in half the
    time (ingest formats one or two per event).
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("naive datetime given to the database")
    if offset:
        moment = moment - offset
    return moment.isoformat(" ", "microseconds")[:26]


def db_json(value: Any) -> str:
    """A JSON document as text; strings are taken to be JSON already."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def insert_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """INSERT many rows of driver-ready values (times via ``db_time``, JSON via ``db_json``)."""
    if not rows:
        return
    conn.exec_driver_sql(_insert_sql(conn.dialect.name, table, columns), list(rows))


def update_rows(
    conn: Connection, sql_by_dialect: dict[str, str], rows: Sequence[Sequence[Any]]
) -> None:
    """Run one UPDATE statement per row of driver-ready values, written per dialect."""
    if rows:
        conn.exec_driver_sql(sql_by_dialect[conn.dialect.name], list(rows))


def _insert_sql(dialect: str, table: Table, columns: Sequence[str]) -> str:
    marks = []
    for name in columns:
        is_json = isinstance(table.c[name].type, Json)
        if dialect == "postgresql":
            marks.append("CAST(%s AS jsonb)" if is_json else "%s")
        else:
            marks.append("?")
    names = ", ".join(columns)
    return f"INSERT INTO {table.name} ({names}) VALUES ({', '.join(marks)})"  # noqa: S608 - names come from our own Table objects, values are bound
