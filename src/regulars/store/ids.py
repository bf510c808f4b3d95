"""Id allocation for set-based inserts that need the new ids before writing.

Bulk inserts (executemany) do not return ids, yet ledger entries and API answers must point
at the events just written. So ids are reserved first: from the sequence on PostgreSQL,
and on SQLite above the current maximum, which is safe because every writing transaction
there holds the database's write lock from BEGIN IMMEDIATE.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, insert, text


def allocate_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """Reserve ``count`` fresh primary keys for ``table`` (column ``id``)."""
    if count == 0:
        return []
    if conn.dialect.name == "postgresql":
        sequence = f"{table.name}_id_seq"
        rows = conn.execute(
            text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)"),
            {"seq": sequence, "n": count},
        )
        return [int(value) for (value,) in rows]
    # Straight through the driver: every check-in and every ingest batch asks this once.
    start = conn.exec_driver_sql(_MAX_ID.format(table=table.name)).scalar() or 0
    return list(range(int(start) + 1, int(start) + 1 + count))


#: Formatted with our own table names only, never with input.
_MAX_ID = "SELECT coalesce(max(id), 0) FROM {table}"


def insert_one(conn: Connection, table: Table, values: dict[str, Any]) -> int:
    """Insert one row and return its new id."""
    new_id = conn.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()
    return int(new_id)
