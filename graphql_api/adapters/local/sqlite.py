"""Opening the embedded SQLite stores: one connection per store, WAL, a busy timeout."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

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


class SqliteDatabase:
    """One store's connection: opened on first use, shared by worker threads one at a time."""

    def __init__(self, path: Path | None, schema: str) -> None:
        self.path = path
        self._schema = schema
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    @property
    def opened(self) -> bool:
        return self._connection is not None

    def call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the connection, holding it for no one else meanwhile."""
        with self._lock:
            if self._connection is None:
                self._connection = open_database(self.path, self._schema)
            return work(self._connection)

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`call` in a worker thread, off the event loop."""
        return await asyncio.to_thread(self.call, work)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
