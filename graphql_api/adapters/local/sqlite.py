"""Opening the embedded SQLite stores: one connection per store, WAL, a busy timeout."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

#: How long a writer waits for another process's write lock before giving up.
BUSY_SECONDS = 5.0


def open_database(path: Path | None, schema: str) -> sqlite3.Connection:
    """A connection in autocommit mode (callers open their own transactions), usable from
    worker threads (callers serialise with a lock), in WAL mode, with `schema` applied.
    `None` opens an in-memory database."""
    target = ":memory:"
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        target = str(path)
    connection = sqlite3.connect(
        target, timeout=BUSY_SECONDS, check_same_thread=False, isolation_level=None
    )
    if path is not None:
        _use_wal(connection)
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.executescript(schema)
    return connection


def _use_wal(connection: sqlite3.Connection) -> None:
    """Switch the file to WAL. The switch needs the file to itself and SQLite does not wait
    for that (no busy handler), so processes opening a new file at once take turns here."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            if connection.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal":
                return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError(f"could not switch {connection} to WAL mode")
        time.sleep(0.005)
