import pytest

from graphql_api.app import create_app
from graphql_api.bootstrap import Container, bootstrap
from graphql_api.settings import Settings
from tests.fakes import RecordingCache, RecordingEngine
from tests.support import AsgiTransport, LambdaTransport, Transport

TRANSPORTS = ["asgi", "lambda-v2", "lambda-v1", "lambda-v2-base64"]


def make_transport(name: str, container: Container) -> Transport:
    app = create_app(container=container)
    if name == "asgi":
        return AsgiTransport(app)
    version = name.split("-")[1]
    return LambdaTransport(app, version, base64_body=name.endswith("base64"))


@pytest.fixture
def engine() -> RecordingEngine:
    return RecordingEngine()


@pytest.fixture
def cache() -> RecordingCache:
    return RecordingCache()


@pytest.fixture
def recorded_container(settings: Settings, engine: RecordingEngine, cache: RecordingCache):
    return bootstrap(settings, engine=engine, cache=cache)


@pytest.fixture(params=TRANSPORTS)
def client(request, recorded_container: Container) -> Transport:
    """The API over each transport, with recording fakes behind the ports."""
    return make_transport(request.param, recorded_container)


@pytest.fixture(params=TRANSPORTS)
def local_client(request, local_container: Container) -> Transport:
    """The API over each transport, on the real embedded defaults."""
    return make_transport(request.param, local_container)
