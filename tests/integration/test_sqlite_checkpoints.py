"""SQLite's write-ahead log reaches the database file in the background, not in a commit."""

from __future__ import annotations

import shutil
import sqlite3
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from regulars.store import checkpoints
from regulars.store.db import make_engine
from regulars.store.schema import metadata
from tests import factories


def _customers_in_file_alone(path: Path, copy: Path) -> int:
    """Count customers in the database file without its log (as if the log were lost)."""
    shutil.copyfile(path, copy)
    with sqlite3.connect(copy) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM customers").fetchone()[0])
        except sqlite3.OperationalError:  # not even the table has reached the file yet
            return 0


def test_committed_customers_reach_the_database_file_shortly_after_in_the_background(
    tmp_path: Path, now: datetime
) -> None:
    path = tmp_path / "regulars.db"
    engine: Engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == (
            checkpoints.SAFETY_NET_PAGES
        )
    factories.location(engine, now)
    for n in range(5):
        factories.customer(engine, now, first_name=f"C{n}")

    deadline = time.monotonic() + 10 * checkpoints.INTERVAL_S
    while _customers_in_file_alone(path, tmp_path / "copy.db") < 5:
        assert time.monotonic() < deadline, "the background checkpoint never came"
        time.sleep(checkpoints.INTERVAL_S / 5)
    engine.dispose()


def test_a_disposed_engine_is_no_longer_checkpointed(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'regulars.db'}")
    metadata.create_all(engine)
    assert engine in checkpoints._engines

    engine.dispose()

    assert engine not in checkpoints._engines
