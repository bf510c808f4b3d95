"""All tables on one metadata: importing this module registers every table module.

Add a new table module to the import list below; migrations are generated from here.
"""

from __future__ import annotations

from regulars.store import access_tables, loyalty_tables, outbox_tables, planner_tables, tables
from regulars.store.tables import metadata

__all__ = [
    "access_tables",
    "loyalty_tables",
    "metadata",
    "outbox_tables",
    "planner_tables",
    "tables",
]
