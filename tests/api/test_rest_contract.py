"""The REST façade against its own OpenAPI document, with Schemathesis: requests generated
from the schema (valid and invalid) never get a 5xx, and every answer matches the document."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from graphql_api.access import Limits, Scope
from graphql_api.app import create_app
from graphql_api.bootstrap import bootstrap
from graphql_api.settings import Settings
from tests.fakes import RecordingCache, RecordingEngine
from tests.support import run

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
UNLIMITED = Limits(rate_per_second=1e6, burst=1_000_000, daily_document_quota=10**9)

# Schemathesis reads the schema when the module is collected, so the app exists by then.
_container = bootstrap(
    Settings(data_dir=Path(tempfile.mkdtemp(prefix="rest-contract-")), auth="required"),
    engine=RecordingEngine(),
    cache=RecordingCache(),
)
KEY = run(_container.access.create_key("acme", set(Scope), limits=UNLIMITED)).key
schema = schemathesis.openapi.from_asgi("/v1/openapi.json", create_app(container=_container))


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_rest_facade_keeps_its_openapi_contract(case):
    # Every check but "schema-valid data is accepted": a schema-valid request can still be
    # refused for what it means (a source that is not in the inbox, 101 documents), with 400.
    case.call_and_validate(
        headers={"X-API-Key": KEY}, excluded_checks=[checks.positive_data_acceptance]
    )
