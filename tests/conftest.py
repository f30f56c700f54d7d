import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before any AuraStream import: nothing a test runs may touch the per-user data directory.
os.environ["AURASTREAM_DATA_DIR"] = tempfile.mkdtemp(prefix="aurastream-tests-")

from graphql_api.bootstrap import Container, bootstrap
from graphql_api.settings import Settings
from tests.support import chattr

pytest_plugins = ["tests.aws_fixtures"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def local_container(settings: Settings) -> Iterator[Container]:
    """The real embedded defaults: lexicon engine and the SQLite-backed cache."""
    container = bootstrap(settings)
    yield container
    container.close()


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[Path]:
    """A data directory that can be made immutable (read-only even to root), and is made
    writable again before the temporary directory is cleaned up."""
    data = tmp_path / "data"
    data.mkdir()
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    try:
        chattr("+i", data)
        chattr("-i", data)
    except subprocess.CalledProcessError:
        pytest.skip("this file system has no immutable flag")
    yield data
    chattr("-i", data)
