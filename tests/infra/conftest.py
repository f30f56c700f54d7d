import json
from typing import Any

import pytest

from tests.infra.cfn import STATE_MACHINE, Template, load_template


@pytest.fixture(scope="session")
def template() -> Template:
    return load_template()


@pytest.fixture(scope="session")
def asl() -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(STATE_MACHINE.read_text(encoding="utf-8"))
    return definition
