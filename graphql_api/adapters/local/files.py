"""Job inputs and outputs as files under the data directory."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from graphql_api.domain.errors import SourceUnreadable, StorageUnavailable


class FileBlobStore:
    """Objects are files under `root`; a tenant's sources are files under `inbox/<tenant>/`."""

    def __init__(self, root: Path, inbox: Path) -> None:
        self.root = root
        self.inbox = inbox

    def _path(self, key: str) -> Path:
        return self.root / key

    async def put(self, key: str, data: bytes) -> None:
        try:
            await asyncio.to_thread(_write_atomically, self._path(key), data)
        except OSError as error:  # a full disk, a read-only directory
            raise StorageUnavailable(f"Could not store {key}: {error.strerror}.") from error

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError:
            raise KeyError(key) from None

    async def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def _source_path(self, tenant_id: str, uri: str) -> Path:
        """The file a source names, only if it lies in the tenant's inbox (after following
        links); a relative name is taken from the inbox."""
        try:
            inbox = (self.inbox / tenant_id).resolve()
            named = Path(uri.removeprefix("file://"))
            path = (named if named.is_absolute() else inbox / named).resolve()
            if path.is_relative_to(inbox) and path.is_file() and os.access(path, os.R_OK):
                return path
        except (OSError, ValueError, RuntimeError):
            pass  # NUL bytes, names too long, link loops: unreadable like anything else
        raise SourceUnreadable()

    async def check_source(self, tenant_id: str, uri: str) -> None:
        await asyncio.to_thread(self._source_path, tenant_id, uri)

    async def read_source(self, tenant_id: str, uri: str) -> bytes:
        path = await asyncio.to_thread(self._source_path, tenant_id, uri)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except OSError:
            raise SourceUnreadable() from None

    async def link(self, key: str) -> str:
        return str(self._path(key).resolve())


def _write_atomically(path: Path, data: bytes) -> None:
    """A crash mid-write never leaves a half-written part behind: write, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
