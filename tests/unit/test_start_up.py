"""What start-up leaves behind: a heap the collector no longer walks, no module loaded that
a request does not need, and the tools that measure the Lambda bundle."""

from __future__ import annotations

import gc
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bench.bundle_size import distribution, unzipped_bytes
from graphql_api.app import create_served_app
from graphql_api.observability import _api_gateway_request_id

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def unfrozen() -> object:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test session keeps a collector that sees everything


def test_a_served_app_freezes_its_start_up_heap(monkeypatch, tmp_path, unfrozen):
    monkeypatch.setenv("AURASTREAM_DATA_DIR", str(tmp_path))

    app = create_served_app()

    assert app.state.container.settings.data_dir == tmp_path
    assert gc.get_freeze_count() > 10_000


def test_the_model_engine_module_loads_without_numpy():
    # numpy (~40 ms) is imported when the model first runs, not by building the engine.
    code = (
        "import sys; import graphql_api.adapters.local.model_engine as m; "
        "m.OnnxSentimentEngine(); print('numpy' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )

    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"requestContext": {"requestId": "JKJaXmPLvHcESHA="}}, "JKJaXmPLvHcESHA="),
        ({"requestContext": {"requestId": 7}}, None),
        ({"requestContext": "odd"}, None),
        ({"Records": []}, None),
        ([1, 2], None),
        (None, None),
    ],
)
def test_the_correlation_id_is_the_api_gateway_request_id_or_none(event, expected):
    assert _api_gateway_request_id(event) == expected


def test_a_wheel_is_measured_by_its_unpacked_files(tmp_path):
    wheel = tmp_path / "aws_lambda_powertools-3.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.py", "x" * 1000)
        archive.writestr("b/c.so", b"\0" * 5000)

    assert unzipped_bytes(wheel) == 6000
    assert distribution(wheel) == "aws-lambda-powertools"
