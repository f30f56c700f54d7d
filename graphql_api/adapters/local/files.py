"""Job inputs and outputs as files under the data directory."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from graphql_api.domain.errors import SourceUnreadable, StorageUnavailable


class FileBlobStore:
    """Objects are files under `root`; sources are files under the data directory only."""

    def __init__(self, root: Path, data_dir: Path) -> None:
        self.root = root
        self.data_dir = data_dir

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

    def _source_path(self, uri: str) -> Path:
        path = Path(uri.removeprefix("file://"))
        resolved = (path if path.is_absolute() else self.data_dir / path).resolve()
        if not resolved.is_relative_to(self.data_dir.resolve()):
            raise SourceUnreadable(
                f"Sources must be files under the data directory {self.data_dir}."
            )
        return resolved

    async def check_source(self, uri: str) -> None:
        path = self._source_path(uri)
        if not path.is_file() or not os.access(path, os.R_OK):
            raise SourceUnreadable(f"No readable file '{uri}' in the data directory.")

    async def read_source(self, uri: str) -> bytes:
        await self.check_source(uri)
        try:
            return await asyncio.to_thread(self._source_path(uri).read_bytes)
        except OSError as error:
            raise SourceUnreadable(f"'{uri}' could not be read: {error.strerror}.") from None

    async def link(self, key: str) -> str:
        return str(self._path(key).resolve())


def _write_atomically(path: Path, data: bytes) -> None:
    """A crash mid-write never leaves a half-written part behind: write, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
