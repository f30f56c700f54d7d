import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before any AuraStream import: nothing a test runs may touch the per-user data directory.
os.environ["AURASTREAM_DATA_DIR"] = tempfile.mkdtemp(prefix="aurastream-tests-")

from graphql_api.bootstrap import Container, bootstrap
from graphql_api.settings import Settings

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
