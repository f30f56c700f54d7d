"""Opening the embedded SQLite stores: one connection per store, a busy timeout, and
whichever journal the directory allows.

WAL needs to create and map `-wal` and `-shm` files next to the database; on a read-only
or immutable directory that ends in errors at best and SIGBUS at worst, so writability is
checked before opening: writable directories get WAL, others a read-only connection that
never touches those files. Any error drops the connection, so the next call reopens it and
sees the directory as it is now (writable again, say). Failures leave as StorageUnavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from graphql_api.domain.errors import StorageUnavailable

T = TypeVar("T")
logger = logging.getLogger(__name__)

#: How long a writer waits for another process's write lock before giving up.
BUSY_SECONDS = 5.0
#: A read-only connection looks again this often whether the directory became writable.
READ_ONLY_RECHECK_SECONDS = 1.0


def directory_writable(directory: Path) -> bool:
    """Whether files can be created in `directory` now (created if missing). Tried for
    real: permission bits say nothing about read-only mounts, immutable flags or root."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory, prefix=".aurastream-probe-"):
            return True
    except OSError:
        return False


def open_database(path: Path | None, schema: str) -> sqlite3.Connection:
    """A connection in autocommit mode (callers open their own transactions), usable from
    worker threads (callers serialise with a lock), with `schema` applied: in WAL mode when
    the directory is writable, read-only otherwise. `None` opens an in-memory database."""
    if path is None:
        connection = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        connection.executescript(schema)
        return connection
    if not directory_writable(path.parent) or (path.exists() and not os.access(path, os.W_OK)):
        if not path.exists():
            raise StorageUnavailable(f"{path.parent} is read-only and holds no {path.name}.")
        logger.warning("%s is read-only: opening %s read-only", path.parent, path.name)
        # immutable: no -wal/-shm and no locks, which a read-only directory cannot hold.
        return sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro&immutable=1",
            uri=True,
            check_same_thread=False,
            isolation_level=None,
        )
    connection = sqlite3.connect(
        str(path), timeout=BUSY_SECONDS, check_same_thread=False, isolation_level=None
    )
    try:
        _use_wal(connection)
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(schema)
    except BaseException:
        connection.close()
        raise
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


def _read_only(connection: sqlite3.Connection) -> bool:
    """Whether `open_database` fell back to a read-only connection (no WAL then)."""
    return str(connection.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal"


class SqliteDatabase:
    """One store's connection: opened on first use, used by one worker thread of its own
    (so SQLite waits never hold threads other dependencies need), reopened after errors."""

    def __init__(self, path: Path | None, schema: str) -> None:
        self.path = path
        self._schema = schema
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._read_only_checked_at: float | None = None  # set while the connection is read-only

    @property
    def opened(self) -> bool:
        return self._connection is not None

    def call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the connection, holding it for no one else meanwhile. Storage
        failures (SQLite errors other than constraint violations, OSError) close the
        connection and raise StorageUnavailable; other exceptions pass through."""
        with self._lock:
            try:
                self._reopen_if_writable_again()
                if self._connection is None:
                    self._connection = open_database(self.path, self._schema)
                    if self.path is not None and _read_only(self._connection):
                        self._read_only_checked_at = time.monotonic()
                return work(self._connection)
            except sqlite3.IntegrityError:
                raise
            except (sqlite3.Error, OSError) as error:
                self._drop()
                name = self.path.name if self.path else "in-memory database"
                raise StorageUnavailable(f"Storage unavailable ({name}: {error}).") from error
            except StorageUnavailable:
                self._drop()
                raise

    def _reopen_if_writable_again(self) -> None:
        checked = self._read_only_checked_at
        if checked is None or self.path is None:
            return
        if time.monotonic() - checked < READ_ONLY_RECHECK_SECONDS:
            return
        self._read_only_checked_at = time.monotonic()
        if directory_writable(self.path.parent):
            logger.warning("%s is writable again: reopening %s", self.path.parent, self.path.name)
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(sqlite3.Error):
                self._connection.close()
            self._connection = None
            self._read_only_checked_at = None

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`call` on this database's worker thread, off the event loop."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="aurastream-sqlite")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.call, work)

    def close(self) -> None:
        with self._lock:
            self._drop()
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
