"""SQLite checkpoints in the background, off the path of the transaction that commits.

In WAL mode a commit appends pages to the write-ahead log; a checkpoint copies them back
into the database file and syncs it to disk. SQLite's automatic checkpoint runs inside
whichever commit finds the log past 1 000 pages: at a busy counter that commit (and every
check-in queued behind its write lock) waited 7–10 ms for the sync, the tail of
bench/checkin_load.py, and bulk ingest paid it on most batch commits.

Here one daemon thread checkpoints each live SQLite engine twice a second in PASSIVE mode,
which never waits for readers or writers and never blocks them; SQLite's own automatic
checkpoint stays as a safety net, at a size the background thread keeps the log well
under. The thread works through the engine's pool with the connection in autocommit (a
checkpoint cannot run inside a transaction) and forgets an engine once it is disposed.
"""

from __future__ import annotations

import threading
import time
import weakref

from sqlalchemy import Engine, event

#: How often the thread checkpoints, in seconds.
INTERVAL_S = 0.5
#: SQLite's own automatic checkpoint, in pages (about 80 MB): a safety net only.
SAFETY_NET_PAGES = 20_000

_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
_guard = threading.Lock()
_thread: threading.Thread | None = None


def checkpoint_in_background(engine: Engine) -> None:
    """Have this (file-backed SQLite) engine's log checkpointed by the background thread."""
    global _thread
    event.listen(engine, "engine_disposed", _forget)
    with _guard:
        _engines.add(engine)
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="sqlite-checkpoints", daemon=True)
            _thread.start()


def checkpoint(engine: Engine) -> None:
    """One PASSIVE checkpoint now: copies what it can, waits for nobody."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        if driver is not None:  # None only once the connection is closed
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        raw.close()


def _forget(engine: Engine) -> None:
    with _guard:
        _engines.discard(engine)


def _run() -> None:
    while True:
        time.sleep(INTERVAL_S)
        with _guard:
            engines = list(_engines)
        for engine in engines:
            try:
                checkpoint(engine)
            except Exception:  # a database gone or busy: the next round tries again
                _note_failure(engine)
            else:
                _failures.pop(engine, None)
        del engines


#: Failures in a row per engine; an engine whose database keeps failing (its file was
#: removed) is dropped after three, while one busy moment now and then is forgiven.
_failures: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()


def _note_failure(engine: Engine) -> None:
    _failures[engine] = _failures.get(engine, 0) + 1
    if _failures[engine] >= 3:
        _failures.pop(engine, None)
        _forget(engine)


__all__ = ["INTERVAL_S", "SAFETY_NET_PAGES", "checkpoint", "checkpoint_in_background"]
