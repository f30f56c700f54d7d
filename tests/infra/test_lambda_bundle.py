"""infra/lambda, the functions' CodeUri: the package by link, and its runtime requirements."""

from __future__ import annotations

import importlib
import importlib.util
import re
import tomllib

import pytest

from tests.infra.cfn import INFRA, REPO

#: pyproject.toml dependencies that stay out of the Lambda bundle: the CLI and its HTTP client,
#: the local server and /metrics exposition.
NOT_ON_LAMBDA = {"typer", "rich", "uvicorn", "prometheus-client", "httpx"}

BUNDLE = INFRA / "lambda"


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _requirements() -> dict[str, str]:
    lines = (BUNDLE / "requirements.txt").read_text(encoding="utf-8").splitlines()
    entries = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return {_name(entry): entry for entry in entries}


def _runtime_dependencies() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_name(d): d for d in project["dependencies"]}


def test_bundle_links_to_the_package():
    link = BUNDLE / "graphql_api"
    assert link.is_symlink()
    assert link.resolve() == (REPO / "graphql_api").resolve()


def test_bundle_requirements_are_the_runtime_dependencies():
    runtime = _runtime_dependencies()
    expected = {name: spec for name, spec in runtime.items() if name not in NOT_ON_LAMBDA}
    # Same names and the same version bounds (extras aside) as pyproject.toml.
    strip_extras = re.compile(r"\[[^]]*\]")
    assert {n: strip_extras.sub("", s) for n, s in _requirements().items()} == {
        n: strip_extras.sub("", s) for n, s in expected.items()
    }


@pytest.mark.parametrize(
    "handler",
    [
        "graphql_api.handler.handler",
        "graphql_api.jobs.handlers.prepare",
        "graphql_api.jobs.handlers.process_part",
        "graphql_api.jobs.handlers.finalize",
    ],
)
def test_every_handler_the_template_names_is_importable(handler):
    module_name, _, attribute = handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), attribute))
