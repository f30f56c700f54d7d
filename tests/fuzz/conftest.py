"""Property-based fuzzing of every way in: GraphQL over HTTP and the Lambda handler.

The example budget comes from FUZZ_EXAMPLES (30 by default, so `make test` stays fast;
`make fuzz` runs 5,000). Runs are derandomized: the same examples every time, no database.
"""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings

from graphql_api.app import create_app
from graphql_api.bootstrap import Container, bootstrap
from graphql_api.settings import Settings
from tests.fakes import RecordingEngine, RecordingRunner
from tests.support import AsgiTransport, LambdaTransport

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))

settings.register_profile(
    "fuzz",
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,  # time is checked per answer against the corpus budget instead
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
FUZZ = settings.get_profile("fuzz")


class Slowest:
    """The slowest example seen per test, printed at the end of the session (make fuzz)."""

    cases: ClassVar[dict[str, tuple[float, str]]] = {}

    @classmethod
    def record(cls, test: str, seconds: float, example: Any) -> None:
        if seconds > cls.cases.get(test, (0.0, ""))[0]:
            cls.cases[test] = (seconds, repr(example)[:160])


_STARTED = time.perf_counter()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if Slowest.cases:
        elapsed = time.perf_counter() - _STARTED
        terminalreporter.write_line(f"fuzz: {EXAMPLES} examples per test, {elapsed:.1f} s")
        for test, (seconds, example) in sorted(Slowest.cases.items()):
            terminalreporter.write_line(f"  slowest {test}: {seconds * 1000:.0f} ms  {example}")


@pytest.fixture(scope="module")
def fuzz_container(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz") / "data"
    container = bootstrap(
        Settings(data_dir=data_dir, introspection=False),
        engine=RecordingEngine(),
        runner=RecordingRunner(),  # submitted jobs are recorded, not run across event loops
    )
    yield container
    container.close()


@pytest.fixture(scope="module")
def asgi(fuzz_container: Container) -> AsgiTransport:
    return AsgiTransport(create_app(container=fuzz_container))


@pytest.fixture(scope="module", params=["v1", "v2"])
def lambda_transport(request, fuzz_container: Container) -> LambdaTransport:
    return LambdaTransport(create_app(container=fuzz_container), request.param)
