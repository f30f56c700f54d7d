"""infra/statemachine/analyze_job.asl.json: retries, and no part or job failure goes unrecorded."""

from __future__ import annotations

from typing import Any

import pytest

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
TRANSIENT_LAMBDA_ERRORS = {
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "States.Timeout",
}


def _states(asl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state by name, the Map's iteration states included."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in asl["States"].items():
        found[name] = state
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            found |= _states(processor)
    return found


def _tasks(asl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in _states(asl).items() if s["Type"] == "Task"}


def test_uses_jsonpath_and_starts_by_preparing_the_job(asl):
    assert asl.get("QueryLanguage", "JSONPath") == "JSONPath"
    assert asl["StartAt"] == "PrepareJob"


@pytest.mark.parametrize(
    ("task", "function"),
    [
        ("PrepareJob", "${PrepareJobFunctionArn}"),
        ("ProcessPart", "${ProcessPartFunctionArn}"),
        ("FinalizeJob", "${FinalizeJobFunctionArn}"),
        ("MarkJobFailed", "${FinalizeJobFunctionArn}"),
    ],
)
def test_tasks_invoke_their_worker(asl, task, function):
    state = _tasks(asl)[task]
    assert state["Resource"] == LAMBDA_INVOKE
    assert state["Parameters"]["FunctionName"] == function


def test_every_task_retries_transient_lambda_errors_with_jittered_backoff(asl):
    for name, task in _tasks(asl).items():
        (retry,) = task["Retry"]
        assert set(retry["ErrorEquals"]) == TRANSIENT_LAMBDA_ERRORS, name
        assert retry["IntervalSeconds"] == 1, name
        assert retry["BackoffRate"] == 2, name
        assert retry["MaxAttempts"] == 4, name
        assert retry["JitterStrategy"] == "FULL", name
        assert retry["MaxDelaySeconds"] >= retry["IntervalSeconds"], name
        # States.Timeout is retried only where a task can time out.
        assert task["TimeoutSeconds"] > 0, name


def test_prepare_passes_the_execution_input_and_returns_the_payload(asl):
    prepare = asl["States"]["PrepareJob"]
    assert prepare["Parameters"]["Payload.$"] == "$"
    assert prepare["OutputPath"] == "$.Payload"


def test_parts_fan_out_with_the_configured_concurrency(asl):
    configure = asl["States"]["ConfigureFanOut"]
    assert asl["States"]["PrepareJob"]["Next"] == "ConfigureFanOut"
    assert configure["Type"] == "Pass"
    assert configure["Parameters"] == {
        "maxConcurrency.$": "States.StringToJson('${JobMaxConcurrency}')"
    }
    assert configure["ResultPath"] == "$.fanOut"
    fan_out = asl["States"][configure["Next"]]
    assert fan_out["Type"] == "Map"
    assert fan_out["ItemsPath"] == "$.parts"
    assert fan_out["MaxConcurrencyPath"] == "$.fanOut.maxConcurrency"
    assert fan_out["ResultPath"] == "$.partResults"
    assert fan_out["Next"] == "FinalizeJob"


def test_a_failing_part_is_recorded_as_failed_not_dropped(asl):
    iteration = asl["States"]["ProcessParts"]["ItemProcessor"]
    assert iteration["StartAt"] == "ProcessPart"
    process = iteration["States"]["ProcessPart"]
    assert process["Parameters"]["Payload.$"] == "$"
    assert process["OutputPath"] == "$.Payload"
    assert process["End"] is True
    (catch,) = process["Catch"]
    assert catch == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "PartFailed"}
    failed = iteration["States"]["PartFailed"]
    assert failed["Type"] == "Pass"
    assert failed["Parameters"] == {
        "partIndex.$": "$.partIndex",
        "failed": True,
        "error.$": "$.error",
    }
    assert failed["End"] is True


def test_finalize_gets_the_job_and_every_part_result(asl):
    finalize = asl["States"]["FinalizeJob"]
    assert finalize["Parameters"]["Payload"] == {
        "jobId.$": "$.jobId",
        "partResults.$": "$.partResults",
    }
    assert finalize["OutputPath"] == "$.Payload"
    assert finalize["End"] is True


@pytest.mark.parametrize("state", ["PrepareJob", "ProcessParts", "FinalizeJob"])
def test_a_failing_job_is_marked_failed(asl, state):
    (catch,) = asl["States"][state]["Catch"]
    assert catch == {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.error",
        "Next": "MarkJobFailed",
    }


def test_marking_a_job_failed_ends_the_execution_in_failure(asl):
    mark = asl["States"]["MarkJobFailed"]
    assert mark["Parameters"]["Payload"] == {
        "jobId.$": "$.jobId",
        "failed": True,
        "error.$": "$.error",
    }
    assert "Catch" not in mark
    end = asl["States"][mark["Next"]]
    assert end["Type"] == "Fail"


def test_every_transition_leads_to_a_state(asl):
    def check(machine: dict[str, Any]) -> None:
        names = set(machine["States"])
        assert machine["StartAt"] in names
        for state in machine["States"].values():
            targets = [state.get("Next"), *(c["Next"] for c in state.get("Catch", []))]
            assert {t for t in targets if t} <= names
            if "ItemProcessor" in state:
                check(state["ItemProcessor"])

    check(asl)
