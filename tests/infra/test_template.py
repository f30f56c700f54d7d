"""infra/template.yaml: the names the runbook uses, data protection, least privilege, alarms."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from tests.infra.cfn import (
    INFRA,
    Template,
    as_list,
    created_resources,
    evaluate,
    function_environment,
    function_property,
    parameter_default,
    parameter_values,
    policy_statements,
    properties,
    resources,
    role_actions,
    sub_variables,
)

# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("resource", "name_property", "default"),
    [
        ("SyncHandler", "FunctionName", "SyncHandler"),
        ("CacheTable", "TableName", "AuraStream-SentimentCache"),
        ("JobsTable", "TableName", "AuraStream-Jobs"),
        ("KeysTable", "TableName", "AuraStream-ApiKeys"),
        ("HttpApi", "Name", "aurastream-api"),
        ("OperationsDashboard", "DashboardName", "AuraStream-Operations"),
        ("AnalyzeJobStateMachine", "Name", "AuraStream-AnalyzeJob"),
    ],
)
def test_runbook_names_are_parameter_defaults(template, resource, name_property, default):
    assert parameter_default(template, properties(template, resource)[name_property]) == default


def test_template_is_sam(template):
    assert template["Transform"] == "AWS::Serverless-2016-10-31"


# --------------------------------------------------------------------------- tables

TABLE_KEYS = {
    "CacheTable": [("text_hash", "HASH")],
    "JobsTable": [("pk", "HASH"), ("sk", "RANGE")],
    "KeysTable": [("pk", "HASH"), ("sk", "RANGE")],
}


def test_the_three_tables_exist(template):
    assert set(resources(template, "AWS::DynamoDB::Table")) == set(TABLE_KEYS)


@pytest.mark.parametrize("table", sorted(TABLE_KEYS))
def test_every_table_has_ttl_backups_and_encryption(template, table):
    props = properties(template, table)
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert template["Resources"][table]["DeletionPolicy"] == "Retain"
    assert template["Resources"][table]["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("table", sorted(TABLE_KEYS))
def test_table_keys_are_strings(template, table):
    props = properties(template, table)
    keys = [(key["AttributeName"], key["KeyType"]) for key in props["KeySchema"]]
    assert keys == TABLE_KEYS[table]
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert all(types[name] == "S" for name, _ in keys)


def test_jobs_table_lists_a_callers_jobs_by_creation_time(template):
    props = properties(template, "JobsTable")
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "owner-created-index"
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [
        ("owner", "HASH"),
        ("created_at", "RANGE"),
    ]
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert types["owner"] == types["created_at"] == "S"


# --------------------------------------------------------------------------- bucket


def test_bucket_blocks_public_access_is_versioned_and_encrypted(template):
    props = properties(template, "DocumentsBucket")
    block = props["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"]["Status"] == "Enabled"
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}


def test_bucket_denies_requests_without_tls(template):
    (policy,) = resources(template, "AWS::S3::BucketPolicy").values()
    assert policy["Properties"]["Bucket"] == {"Ref": "DocumentsBucket"}
    denials = [
        s
        for s in as_list(policy["Properties"]["PolicyDocument"]["Statement"])
        if s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)
    ]
    assert denials, "no statement denies aws:SecureTransport false"
    (deny,) = denials
    assert deny["Principal"] == "*"
    assert as_list(deny["Action"]) == ["s3:*"]
    assert {"Fn::GetAtt": ["DocumentsBucket", "Arn"]} in deny["Resource"]
    assert {"Fn::Sub": "${DocumentsBucket.Arn}/*"} in deny["Resource"]


def test_bucket_lifecycle_expires_jobs_old_versions_and_abandoned_uploads(template):
    rules = properties(template, "DocumentsBucket")["LifecycleConfiguration"]["Rules"]
    assert all(rule["Status"] == "Enabled" for rule in rules)
    jobs = [r for r in rules if r.get("Prefix") == "jobs/" and "ExpirationInDays" in r]
    assert [r["ExpirationInDays"] for r in jobs] == [30]
    noncurrent = [
        r["NoncurrentVersionExpiration"] for r in rules if "NoncurrentVersionExpiration" in r
    ]
    assert [n["NoncurrentDays"] for n in noncurrent] == [7]
    uploads = [
        r["AbortIncompleteMultipartUpload"] for r in rules if "AbortIncompleteMultipartUpload" in r
    ]
    assert [u["DaysAfterInitiation"] for u in uploads] == [1]


# --------------------------------------------------------------------------- functions

HANDLERS = {
    "SyncHandler": "graphql_api.handler.handler",
    "PrepareJobFunction": "graphql_api.jobs.handlers.prepare",
    "ProcessPartFunction": "graphql_api.jobs.handlers.process_part",
    "FinalizeJobFunction": "graphql_api.jobs.handlers.finalize",
    "HealthProbeFunction": "graphql_api.ops.probe.handler",
}


def test_functions_and_their_handlers(template):
    functions = resources(template, "AWS::Serverless::Function")
    assert {name: f["Properties"]["Handler"] for name, f in functions.items()} == HANDLERS
    assert all(re.fullmatch(r"graphql_api(\.[a-z_]+)+", handler) for handler in HANDLERS.values())


@pytest.mark.parametrize("function", sorted(HANDLERS))
def test_every_function_is_arm64_traced_on_a_current_python(template, function):
    assert function_property(template, function, "Architectures") == ["arm64"]
    assert function_property(template, function, "Tracing") == "Active"
    runtime = function_property(template, function, "Runtime")
    assert re.fullmatch(r"python3\.1[2-9]", runtime), runtime
    assert function_property(template, function, "CodeUri") == "lambda"


@pytest.mark.parametrize("function", sorted(HANDLERS))
def test_every_function_has_its_own_role_and_log_group(template, function):
    """An explicit role (no SAM-made role with managed policies) and a log group with retention."""
    props = properties(template, function)
    assert "Policies" not in props
    role = props["Role"]["Fn::GetAtt"][0]
    assert template["Resources"][role]["Type"] == "AWS::IAM::Role"
    assert "ManagedPolicyArns" not in properties(template, role)
    log_group = props["LoggingConfig"]["LogGroup"]["Ref"]
    assert "RetentionInDays" in properties(template, log_group)


def test_sync_handler_sizing_and_provisioned_concurrency(template):
    props = properties(template, "SyncHandler")
    assert function_property(template, "SyncHandler", "MemorySize") == 512
    assert function_property(template, "SyncHandler", "Timeout") == 30
    assert props["AutoPublishAlias"] == "live"
    assert template["Parameters"]["ProvisionedConcurrency"]["Default"] == 0
    condition, when_set, otherwise = props["ProvisionedConcurrencyConfig"]["Fn::If"]
    assert condition == "HasProvisionedConcurrency"
    assert when_set == {"ProvisionedConcurrentExecutions": {"Ref": "ProvisionedConcurrency"}}
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert template["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ProvisionedConcurrency"}, "0"]}]
    }


def test_sync_handler_serves_graphql_and_health_on_the_http_api(template):
    events = properties(template, "SyncHandler")["Events"].values()
    assert all(e["Type"] == "HttpApi" for e in events)
    assert all(e["Properties"]["ApiId"] == {"Ref": "HttpApi"} for e in events)
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events}
    assert routes == {
        ("POST", "/graphql"),
        ("GET", "/graphql"),
        ("GET", "/v1/health"),
        ("GET", "/v1/health/live"),
        ("GET", "/static/{proxy+}"),
    }


def test_http_api_cors_access_logs_and_throttling(template):
    props = properties(template, "HttpApi")
    headers = {h.lower() for h in props["CorsConfiguration"]["AllowHeaders"]}
    # The API key, and the headers that let a GET through the server's CSRF check.
    assert {"x-api-key", "content-type", "apollo-require-preflight"} <= headers
    assert props["AccessLogSettings"]["DestinationArn"] == {
        "Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]
    }
    json.loads(props["AccessLogSettings"]["Format"])
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(props["DefaultRouteSettings"])


# --------------------------------------------------------------------------- environment

REQUIRED_ON_AWS = {
    "AURASTREAM_BACKEND",
    "AURASTREAM_ENGINE",
    "AURASTREAM_CACHE_TABLE",
    "AURASTREAM_JOBS_TABLE",
    "AURASTREAM_KEYS_TABLE",
    "AURASTREAM_BUCKET",
    "AURASTREAM_STATE_MACHINE_ARN",
    "AURASTREAM_AUTH",
}
POWERTOOLS = {
    "POWERTOOLS_SERVICE_NAME": "aurastream",
    "POWERTOOLS_METRICS_NAMESPACE": "AuraStream",
}


def _settings_variables() -> set[str]:
    from graphql_api.settings import Settings

    return {"AURASTREAM_" + name.upper() for name in Settings.model_fields}


def test_sync_handler_gets_every_variable_the_app_needs_on_aws(template):
    env = function_environment(template, "SyncHandler")
    assert env.keys() >= REQUIRED_ON_AWS
    assert env["AURASTREAM_BACKEND"] == "aws"
    assert env["AURASTREAM_ENGINE"] == "comprehend"
    assert env["AURASTREAM_AUTH"] == "required"
    assert env["AURASTREAM_STATE_MACHINE_ARN"] == {"Ref": "AnalyzeJobStateMachine"}
    assert env.items() >= POWERTOOLS.items()
    assert env["LOG_LEVEL"] == env["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


@pytest.mark.parametrize("function", sorted(set(HANDLERS) - {"SyncHandler"}))
def test_workers_get_the_same_variables_but_the_state_machine(template, function):
    env = function_environment(template, function)
    assert env.keys() >= REQUIRED_ON_AWS - {"AURASTREAM_STATE_MACHINE_ARN"}
    assert "AURASTREAM_STATE_MACHINE_ARN" not in env
    assert env.items() >= POWERTOOLS.items()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AURASTREAM_CACHE_TABLE", {"Ref": "CacheTable"}),
        ("AURASTREAM_JOBS_TABLE", {"Ref": "JobsTable"}),
        ("AURASTREAM_KEYS_TABLE", {"Ref": "KeysTable"}),
        ("AURASTREAM_BUCKET", {"Ref": "DocumentsBucket"}),
    ],
)
def test_resource_names_reach_the_app(template, variable, value):
    assert function_environment(template, "SyncHandler")[variable] == value


def test_required_variables_are_spelled_like_settings_fields():
    """Settings ignores unknown AURASTREAM_* variables, so a misspelt one would go unnoticed."""
    assert _settings_variables() >= REQUIRED_ON_AWS


def test_template_variables_are_settings_fields(template):
    """Every AURASTREAM_* variable the template sets is a Settings field."""
    known = _settings_variables()
    for function in HANDLERS:
        names = {n for n in function_environment(template, function) if n.startswith("AURASTREAM_")}
        assert names <= known, f"{function}: {sorted(names - known)} are no Settings fields"


@pytest.mark.parametrize("function", sorted(HANDLERS))
def test_template_environment_is_accepted_by_settings(template, function, monkeypatch):
    from graphql_api.settings import Settings

    for name in [n for n in os.environ if n.startswith("AURASTREAM_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    env = function_environment(template, function)
    for name, value in env.items():
        if name.startswith("AURASTREAM_"):
            monkeypatch.setenv(
                name, value if isinstance(value, str) else f"deployed-{name.lower()}"
            )
    settings = Settings()
    assert settings.backend == "aws"
    fields = {"AURASTREAM_" + n.upper(): n for n in Settings.model_fields}
    for name, value in env.items():
        if name in fields and isinstance(value, str):
            assert str(getattr(settings, fields[name])) == value


# --------------------------------------------------------------------------- IAM

#: The only actions allowed on Resource "*": none of them has resource-level permissions.
ANY_RESOURCE_ACTIONS = {
    # Comprehend's real-time detect actions.
    "comprehend:BatchDetectSentiment",
    "comprehend:BatchDetectDominantLanguage",
    "comprehend:DetectSentiment",
    "comprehend:DetectDominantLanguage",
    "comprehend:DetectPiiEntities",
    # X-Ray: the functions send segments; the state machine also reads sampling rules.
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    # CloudWatch Logs delivery, which state machine logging sets up.
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def test_no_allowed_action_has_a_wildcard(template):
    for owner, statement in policy_statements(template):
        if statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{owner}: {action}"
        assert "NotAction" not in statement, owner


def test_any_resource_only_for_actions_without_resource_level_permissions(template):
    for owner, statement in policy_statements(template):
        if statement["Effect"] != "Allow" or "*" not in as_list(statement["Resource"]):
            continue
        actions = set(as_list(statement["Action"]))
        assert actions <= ANY_RESOURCE_ACTIONS, f"{owner}: {sorted(actions - ANY_RESOURCE_ACTIONS)}"


COMPREHEND = {a for a in ANY_RESOURCE_ACTIONS if a.startswith("comprehend:")}
CACHE = {
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:DescribeTable",
}
JOB_OBJECTS = {"s3:GetObject", "s3:PutObject", "s3:ListBucket"}
LAMBDA_BASICS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}


@pytest.mark.parametrize(
    ("role", "actions"),
    [
        (
            "SyncHandlerRole",
            LAMBDA_BASICS
            | COMPREHEND
            | CACHE
            | {"dynamodb:Scan"}  # clearCache
            | {"dynamodb:UpdateItem", "dynamodb:Query"}
            | JOB_OBJECTS
            | {"states:StartExecution", "states:DescribeExecution"},
        ),
        (
            "PrepareJobRole",
            LAMBDA_BASICS | JOB_OBJECTS | {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        ),
        (
            "ProcessPartRole",
            LAMBDA_BASICS | COMPREHEND | CACHE | JOB_OBJECTS | {"dynamodb:UpdateItem"},
        ),
        (
            "FinalizeJobRole",
            LAMBDA_BASICS
            | JOB_OBJECTS
            | {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
        ),
        ("HealthProbeRole", LAMBDA_BASICS | {"states:ListExecutions"}),
    ],
)
def test_each_function_is_allowed_only_what_it_uses(template, role, actions):
    assert role_actions(template, role) == actions


def _statements_of(template: Template, role: str) -> list[dict[str, Any]]:
    return [s for owner, s in policy_statements(template) if owner == role]


@pytest.mark.parametrize(
    "role", ["SyncHandlerRole", "PrepareJobRole", "ProcessPartRole", "FinalizeJobRole"]
)
def test_document_access_writes_only_under_jobs_and_reads_only_the_bucket(template, role):
    jobs = [{"Fn::Sub": "${DocumentsBucket.Arn}/jobs/*"}]
    for statement in _statements_of(template, role):
        actions = set(as_list(statement["Action"]))
        resources = as_list(statement["Resource"])
        if "s3:PutObject" in actions:
            assert resources == jobs
        elif actions == {"s3:GetObject"}:  # a job's source: any object of the bucket
            assert resources == [{"Fn::Sub": "${DocumentsBucket.Arn}/*"}]
            assert role in {"SyncHandlerRole", "PrepareJobRole"}
        elif "s3:ListBucket" in actions:
            assert resources == [{"Fn::GetAtt": ["DocumentsBucket", "Arn"]}]
            assert statement["Condition"] == {"StringLike": {"s3:prefix": "jobs/*"}}
        else:
            assert not any(a.startswith("s3:") for a in actions), actions


def test_sync_handler_table_and_state_machine_resources(template):
    by_sid = {s["Sid"]: s for s in _statements_of(template, "SyncHandlerRole")}
    assert by_sid["CacheTable"]["Resource"] == {"Fn::GetAtt": ["CacheTable", "Arn"]}
    assert by_sid["JobsTable"]["Resource"] == [
        {"Fn::GetAtt": ["JobsTable", "Arn"]},
        {"Fn::Sub": "${JobsTable.Arn}/index/*"},
    ]
    assert by_sid["KeysTable"]["Resource"] == {"Fn::GetAtt": ["KeysTable", "Arn"]}
    assert by_sid["StartJob"]["Resource"] == {"Ref": "AnalyzeJobStateMachine"}
    assert by_sid["DescribeJob"]["Resource"]["Fn::Sub"].endswith(":execution:${StateMachineName}:*")


def test_state_machine_invokes_only_its_workers(template):
    by_sid = {s["Sid"]: s for s in _statements_of(template, "StateMachineRole")}
    assert as_list(by_sid["InvokeWorkers"]["Action"]) == ["lambda:InvokeFunction"]
    workers = {r["Fn::GetAtt"][0] for r in by_sid["InvokeWorkers"]["Resource"] if "Fn::GetAtt" in r}
    assert workers == {"PrepareJobFunction", "ProcessPartFunction", "FinalizeJobFunction"}


def test_roles_need_only_capability_iam(template):
    """Unnamed roles: `--capabilities CAPABILITY_IAM` suffices, no CAPABILITY_NAMED_IAM."""
    for role in resources(template, "AWS::IAM::Role").values():
        assert "RoleName" not in role["Properties"]


# --------------------------------------------------------------------------- state machine


def test_state_machine_resource(template):
    props = properties(template, "AnalyzeJobStateMachine")
    assert (INFRA / props["DefinitionUri"]).is_file()
    assert props["Logging"]["Level"] == "ALL"
    assert props["Logging"]["IncludeExecutionData"] is False
    (destination,) = props["Logging"]["Destinations"]
    assert destination["CloudWatchLogsLogGroup"]["LogGroupArn"] == {
        "Fn::GetAtt": ["StateMachineLogGroup", "Arn"]
    }
    assert props["Tracing"] == {"Enabled": True}
    assert props["DefinitionSubstitutions"]["JobMaxConcurrency"] == {"Ref": "JobMaxConcurrency"}
    assert template["Parameters"]["JobMaxConcurrency"]["Default"] == 10


def test_every_definition_placeholder_is_substituted(template):
    props = properties(template, "AnalyzeJobStateMachine")
    text = (INFRA / props["DefinitionUri"]).read_text(encoding="utf-8")
    assert sub_variables(text) == set(props["DefinitionSubstitutions"])
    for name, function in [
        ("PrepareJobFunctionArn", "PrepareJobFunction"),
        ("ProcessPartFunctionArn", "ProcessPartFunction"),
        ("FinalizeJobFunctionArn", "FinalizeJobFunction"),
    ]:
        assert props["DefinitionSubstitutions"][name] == {"Fn::GetAtt": [function, "Arn"]}


# --------------------------------------------------------------------------- alarms


def _alarms(template: Template) -> dict[str, dict[str, Any]]:
    return {n: r["Properties"] for n, r in resources(template, "AWS::CloudWatch::Alarm").items()}


def _metric_names(alarm: dict[str, Any]) -> set[str]:
    if "MetricName" in alarm:
        return {alarm["MetricName"]}
    return {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}


def _alarm_on(template: Template, *metrics: str) -> dict[str, Any]:
    matching = [a for a in _alarms(template).values() if set(metrics) <= _metric_names(a)]
    assert len(matching) == 1, f"{len(matching)} alarms on {metrics}"
    return matching[0]


def _stat_periods(alarm: dict[str, Any]) -> set[int]:
    if "Period" in alarm:
        return {alarm["Period"]}
    return {m["MetricStat"]["Period"] for m in alarm["Metrics"] if "MetricStat" in m}


def _window_seconds(alarm: dict[str, Any]) -> int:
    """How long the condition must hold: every evaluated datapoint must breach."""
    (period,) = _stat_periods(alarm)
    assert alarm.get("DatapointsToAlarm", alarm["EvaluationPeriods"]) == alarm["EvaluationPeriods"]
    return period * alarm["EvaluationPeriods"]


def _expression(alarm: dict[str, Any]) -> str:
    (returned,) = [m for m in alarm["Metrics"] if m.get("ReturnData", True)]
    return str(returned["Expression"])


def test_error_rate_alarm_is_over_5_percent_for_5_minutes(template):
    alarm = _alarms(template)["ApiErrorRateAlarm"]
    assert alarm["Threshold"] == 5
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert _window_seconds(alarm) == 300
    assert _stat_periods(alarm) == {60}
    assert "100" in _expression(alarm)


def test_latency_alarm_is_p99_over_2000_ms_for_10_minutes(template):
    alarm = _alarm_on(template, "Latency")
    assert alarm["ExtendedStatistic"] == "p99"
    assert alarm["Threshold"] == 2000
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert _window_seconds(alarm) == 600


def test_cache_hit_rate_alarm_is_under_50_percent_for_30_minutes(template):
    alarm = _alarm_on(template, "CacheHit", "CacheMiss")
    assert alarm["Threshold"] == 50
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert _window_seconds(alarm) == 1800
    for metric in (m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m):
        assert metric["Namespace"] == "AuraStream"
        assert metric["Dimensions"] == [{"Name": "service", "Value": "aurastream"}]
    expression = _expression(alarm)
    assert "100" in expression
    assert "hits" in expression
    assert "misses" in expression


def test_throttle_alarm_is_over_10_cache_throttles_in_5_minutes(template):
    alarm = _alarm_on(template, "ThrottledRequests")
    assert alarm["Threshold"] == 10
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == 1
    assert _stat_periods(alarm) == {300}
    stats = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m]
    assert {s["Stat"] for s in stats} == {"Sum"}
    for stat in stats:
        dimensions = {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}
        assert dimensions["TableName"] == {"Ref": "CacheTable"}


def test_failed_job_executions_alarm(template):
    alarm = _alarm_on(template, "ExecutionsFailed")
    assert alarm["Dimensions"] == [
        {"Name": "StateMachineArn", "Value": {"Ref": "AnalyzeJobStateMachine"}}
    ]
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_engine_fallback_alarm(template):
    alarm = _alarm_on(template, "EngineFallback")
    assert alarm["Namespace"] == "AuraStream"
    assert alarm["Statistic"] == "Sum"
    assert alarm["Period"] * alarm["EvaluationPeriods"] == 300
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_sync_handler_errors_alarm(template):
    alarm = _alarm_on(template, "Errors")
    assert alarm["Namespace"] == "AWS/Lambda"
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "SyncHandler"}}]


CRITICAL_TOPIC = {
    "Fn::If": [
        "CreateCriticalTopic",
        {"Ref": "CriticalAlarmTopic"},
        {"Ref": "CriticalAlarmTopicArn"},
    ]
}
WARNING_TOPIC = {
    "Fn::If": ["CreateWarningTopic", {"Ref": "WarningAlarmTopic"}, {"Ref": "WarningAlarmTopicArn"}]
}
#: The runbook's critical table (PagerDuty) and what else pages: crashes and a fast SLO burn.
CRITICAL = {
    "ApiErrorRateAlarm",  # High Error Rate
    "ServiceDownAlarm",  # Service Down
    "ApiLatencyAlarm",  # High Latency
    "SyncHandlerErrorsAlarm",
    "AvailabilityFastBurnAlarm",
}
#: The windows of the burn-rate pairs notify through their composite alarm only.
BURN_WINDOWS = {
    "AvailabilityFastBurn1hAlarm",
    "AvailabilityFastBurn5mAlarm",
    "AvailabilitySlowBurn6hAlarm",
    "AvailabilitySlowBurn30mAlarm",
}


def _all_alarms(template: Template) -> dict[str, dict[str, Any]]:
    composite = resources(template, "AWS::CloudWatch::CompositeAlarm")
    return {**_alarms(template), **{n: r["Properties"] for n, r in composite.items()}}


def test_critical_alarms_and_warnings_go_to_separate_topics(template):
    for parameter, condition, topic in (
        ("CriticalAlarmTopicArn", "CreateCriticalTopic", "CriticalAlarmTopic"),
        ("WarningAlarmTopicArn", "CreateWarningTopic", "WarningAlarmTopic"),
    ):
        assert template["Parameters"][parameter]["Default"] == ""
        assert template["Conditions"][condition] == {"Fn::Equals": [{"Ref": parameter}, ""]}
        assert template["Resources"][topic]["Condition"] == condition
    for name, alarm in _all_alarms(template).items():
        if name in BURN_WINDOWS:
            assert "AlarmActions" not in alarm, name
            continue
        expected = CRITICAL_TOPIC if name in CRITICAL else WARNING_TOPIC
        assert alarm["AlarmActions"] == [expected], name
        assert alarm["OKActions"] == [expected], name


def test_only_the_service_down_alarm_treats_missing_data_as_breaching(template):
    for name, alarm in _alarms(template).items():
        expected = "breaching" if name == "ServiceDownAlarm" else "notBreaching"
        assert alarm.get("TreatMissingData") == expected, name


def test_service_down_alarm_fires_after_3_failed_health_probes(template):
    alarm = _alarm_on(template, "HealthCheckFailed")
    assert alarm["Namespace"] == "AuraStream"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "aurastream"}]
    assert (alarm["Statistic"], alarm["Period"]) == ("Sum", 60)
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 3
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


def test_health_probe_runs_on_a_schedule_against_the_apis_health_url(template):
    props = properties(template, "HealthProbeFunction")
    (event,) = props["Events"].values()
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == {"Ref": "HealthProbeSchedule"}
    assert template["Parameters"]["HealthProbeSchedule"]["Default"] == "rate(1 minute)"
    env = props["Environment"]["Variables"]
    assert env["HEALTH_PROBE_URL"]["Fn::Sub"].startswith("https://${HttpApi}.execute-api.")
    assert env["HEALTH_PROBE_URL"]["Fn::Sub"].endswith("/v1/health")
    assert env["HEALTH_PROBE_STATE_MACHINE_ARN"] == {"Ref": "AnalyzeJobStateMachine"}


def test_cold_start_alarm_is_over_5_seconds(template):
    alarm = _alarm_on(template, "ColdStartDuration")
    assert alarm["Statistic"] == "Maximum"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 5000)
    assert alarm["Unit"] == "Milliseconds"
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dimensions == {
        "service": "aurastream",
        "FunctionName": {"Ref": "SyncHandlerFunctionName"},
    }


def test_jobs_in_flight_alarm_is_over_100(template):
    alarm = _alarm_on(template, "JobsInFlight")
    assert alarm["Statistic"] == "Maximum"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 100)


def test_job_duration_alarm_is_p99_over_5_minutes(template):
    alarm = _alarm_on(template, "ExecutionTime")
    assert alarm["Namespace"] == "AWS/States"
    assert alarm["ExtendedStatistic"] == "p99"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 300_000)
    assert alarm["Dimensions"] == [
        {"Name": "StateMachineArn", "Value": {"Ref": "AnalyzeJobStateMachine"}}
    ]


def test_failed_api_key_attempts_alarm(template):
    alarm = _alarm_on(template, "AuthFailures")
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 300, 100)


@pytest.mark.parametrize(
    ("composite", "windows", "burn_rate"),
    [
        (
            "AvailabilityFastBurnAlarm",
            {"AvailabilityFastBurn1hAlarm": 3600, "AvailabilityFastBurn5mAlarm": 300},
            14.4,
        ),
        (
            "AvailabilitySlowBurnAlarm",
            {"AvailabilitySlowBurn6hAlarm": 21600, "AvailabilitySlowBurn30mAlarm": 1800},
            6,
        ),
    ],
)
def test_availability_burn_rate_alarms_on_the_999_slo(template, composite, windows, burn_rate):
    rule = properties(template, composite)["AlarmRule"]["Fn::Sub"]
    assert rule == " AND ".join(f'ALARM("${{{name}}}")' for name in windows)
    for name, period in windows.items():
        alarm = _alarms(template)[name]
        assert _stat_periods(alarm) == {period}
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["Threshold"] == burn_rate
        assert "/ 0.001" in _expression(alarm)  # the error budget of a 99.9% SLO
        assert _metric_names(alarm) == {"5xx", "Count"}


def test_cost_anomaly_over_150_percent_of_baseline_pages(template):
    monitor = template["Resources"]["CostAnomalyMonitor"]
    assert monitor["Properties"]["MonitorType"] == "DIMENSIONAL"
    subscription = template["Resources"]["CostAnomalySubscription"]["Properties"]
    assert subscription["MonitorArnList"] == [{"Ref": "CostAnomalyMonitor"}]
    assert subscription["Subscribers"] == [{"Type": "SNS", "Address": CRITICAL_TOPIC}]
    threshold = json.loads(subscription["ThresholdExpression"])["Dimensions"]
    assert threshold["Key"] == "ANOMALY_TOTAL_IMPACT_PERCENTAGE"
    assert threshold["MatchOptions"] == ["GREATER_THAN_OR_EQUAL"]
    assert threshold["Values"] == ["50"]  # 50% over the expected spend: 150% of baseline
    # Cost Explorer may publish to the critical topic.
    statement = properties(template, "CriticalAlarmTopicPolicy")["PolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "costalerts.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"


def test_every_runbook_alert_has_an_alarm(template):
    """Both of the runbook's alert tables, row by row."""
    for metrics in (
        ("5xx", "Count"),  # High Error Rate (the ApiErrorRateAlarm, by name above)
        ("HealthCheckFailed",),  # Service Down
        ("Latency",),  # High Latency
        ("CacheHit", "CacheMiss"),  # Cache Hit Rate Low
        ("ThrottledRequests",),  # DynamoDB Throttling
        ("JobsInFlight",),  # Queue Depth High
        ("ColdStartDuration",),  # Lambda Cold Starts
    ):
        assert any(set(metrics) <= _metric_names(a) for a in _alarms(template).values()), metrics
    assert "CostAnomalySubscription" in template["Resources"]  # Cost Anomaly


# --------------------------------------------------------------------------- dashboard


def _dashboard(template: Template) -> dict[str, Any]:
    body = properties(template, "OperationsDashboard")["DashboardBody"]["Fn::Sub"]
    known = set(template["Resources"]) | set(template["Parameters"]) | {"AWS::Region"}
    for variable in sub_variables(body):
        assert variable.split(".")[0] in known, variable
    parsed: dict[str, Any] = json.loads(re.sub(r"\$\{[^}]*\}", "x", body))
    return parsed


def test_dashboard_shows_the_runbooks_widgets(template):
    shown: set[str] = set()
    for widget in _dashboard(template)["widgets"]:
        for metric in widget["properties"].get("metrics", []):
            shown |= {m for m in metric if isinstance(m, str)}
    assert shown >= {
        "5xx",
        "Count",
        "Latency",
        "Invocations",
        "Duration",
        "Errors",
        "Throttles",
        "ConcurrentExecutions",
        "CacheHit",
        "CacheMiss",
        "EngineLatency",
        "EngineFallback",
        "CircuitOpen",
        "JobsSubmitted",
        "JobsSucceeded",
        "JobsFailed",
        "JobDuration",
        "ExecutionsStarted",
        "ExecutionsSucceeded",
        "ExecutionsFailed",
    }


def test_dashboard_lists_every_alarm(template):
    body = properties(template, "OperationsDashboard")["DashboardBody"]["Fn::Sub"]
    listed = {v.split(".")[0] for v in sub_variables(body) if v.endswith(".Arn")}
    assert listed == set(_all_alarms(template))


def test_dashboard_shows_the_runbooks_own_cache_hit_rate_query(template):
    metrics = [
        m for w in _dashboard(template)["widgets"] for m in w["properties"].get("metrics", [])
    ]
    assert [
        "AuraStream",
        "CacheHitRate",
        {"stat": "Average", "label": "CacheHitRate (no dimensions)"},
    ] in metrics
    shown = {name for m in metrics for name in m if isinstance(name, str)}
    assert {
        "ColdStartDuration",
        "HealthCheckFailed",
        "JobsInFlight",
        "PiiDetected",
        "EstimatedCostMicroUsd",
        "AuthFailures",
    } <= shown


# --------------------------------------------------------------------------- outputs


def test_outputs(template):
    outputs = template["Outputs"]
    assert outputs["ApiUrl"]["Value"]["Fn::Sub"].startswith("https://${HttpApi}.execute-api.")
    assert outputs["ApiUrl"]["Value"]["Fn::Sub"].endswith("/graphql")
    assert outputs["CacheTableName"]["Value"] == {"Ref": "CacheTable"}
    assert outputs["JobsTableName"]["Value"] == {"Ref": "JobsTable"}
    assert outputs["KeysTableName"]["Value"] == {"Ref": "KeysTable"}
    assert outputs["DocumentsBucketName"]["Value"] == {"Ref": "DocumentsBucket"}
    assert outputs["StateMachineArn"]["Value"] == {"Ref": "AnalyzeJobStateMachine"}
    assert "dashboards:name=${OperationsDashboard}" in outputs["DashboardUrl"]["Value"]["Fn::Sub"]


# --------------------------------------------------------------------------- capacity


def test_api_throttle_defaults_are_the_runbooks_capacity_plan(template):
    """10,000 requests/s with a burst of 5,000: ten times the 1,000 requests/s SLO."""
    props = properties(template, "HttpApi")["DefaultRouteSettings"]
    assert parameter_default(template, props["ThrottlingRateLimit"]) == 10_000
    assert parameter_default(template, props["ThrottlingBurstLimit"]) == 5_000


def test_reserved_concurrency_is_optional_and_off_by_default(template):
    parameter = template["Parameters"]["ReservedConcurrency"]
    assert parameter["Default"] == ""
    assert re.fullmatch(parameter["AllowedPattern"], "2000")
    assert re.fullmatch(parameter["AllowedPattern"], "")
    assert not re.fullmatch(parameter["AllowedPattern"], "-1")
    condition, when_set, otherwise = properties(template, "SyncHandler")[
        "ReservedConcurrentExecutions"
    ]["Fn::If"]
    assert (when_set, otherwise) == ({"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"})
    assert not evaluate(template, {"Condition": condition}, parameter_values(template))
    with_reservation = parameter_values(template, ReservedConcurrency="2000")
    assert evaluate(template, {"Condition": condition}, with_reservation)


# --------------------------------------------------------------------------- disaster recovery

PRIMARY = {"AWS::Region": "us-east-1", "AWS::StackName": "aurastream", "DrRegion": "us-west-2"}
SECONDARY = {
    "AWS::Region": "us-west-2",
    "AWS::StackName": "aurastream-dr",
    "DrRole": "secondary",
    "DashboardName": "AuraStream-Operations-DR",
}
DOMAIN = {"DomainName": "api.aurastream.com", "HostedZoneId": "Z123", "CertificateArn": "arn:cert"}
DR_RESOURCES = {"DocumentsReplicationRole", "BackupPlan", "BackupSelection", "BackupRole"}
DOMAIN_RESOURCES = {"ApiDomain", "ApiDomainMapping", "RegionHealthCheck", "FailoverRecord"}


def test_without_a_domain_or_dr_region_the_template_deploys_as_before(template):
    created = created_resources(template)
    assert not created & DOMAIN_RESOURCES
    assert "DocumentsReplicationRole" not in created
    props = parameter_values(template)
    bucket = properties(template, "DocumentsBucket")
    assert evaluate(template, bucket["ReplicationConfiguration"], props) == {"Ref": "AWS::NoValue"}
    # Hourly backups run in the primary region even without a DR region, copied nowhere.
    assert {"BackupVault", "BackupPlan", "BackupSelection"} <= created
    rule = evaluate(template, properties(template, "BackupPlan"), props)["BackupPlan"]
    assert rule["BackupPlanRule"][0]["CopyActions"] == {"Ref": "AWS::NoValue"}


def test_primary_with_a_dr_region_replicates_and_copies_backups(template):
    created = created_resources(template, **PRIMARY)
    assert created >= DR_RESOURCES
    props = parameter_values(template, **PRIMARY)
    replication = evaluate(template, properties(template, "DocumentsBucket"), props)[
        "ReplicationConfiguration"
    ]
    (rule,) = replication["Rules"]
    assert (
        rule["Destination"]["Bucket"] == "arn:aws:s3:::aura-stream-documents-123456789012-us-west-2"
    )
    assert rule["Destination"]["ReplicationTime"]["Time"]["Minutes"] == 15
    plan = evaluate(template, properties(template, "BackupPlan"), props)["BackupPlan"]
    (backup_rule,) = plan["BackupPlanRule"]
    assert backup_rule["ScheduleExpression"] == "cron(0 * ? * * *)"  # hourly: the 1 h RPO
    (copy,) = backup_rule["CopyActions"]
    assert copy["DestinationBackupVaultArn"] == (
        "arn:aws:backup:us-west-2:123456789012:backup-vault:AuraStream-Backups"
    )
    selection = properties(template, "BackupSelection")["BackupSelection"]
    # Keys (lose them and every customer is locked out) and jobs; the cache is rebuilt.
    assert selection["Resources"] == [
        {"Fn::GetAtt": ["KeysTable", "Arn"]},
        {"Fn::GetAtt": ["JobsTable", "Arn"]},
    ]


def test_secondary_receives_copies_but_sends_none_and_has_no_account_wide_monitor(template):
    created = created_resources(template, **SECONDARY, DrRegion="us-east-1")
    assert "BackupVault" in created  # the copies' destination
    assert not created & DR_RESOURCES
    assert not created & {"CostAnomalyMonitor", "CostAnomalySubscription"}


def test_replication_role_is_least_privilege(template):
    props = parameter_values(template, **PRIMARY)
    role = evaluate(template, properties(template, "DocumentsReplicationRole"), props)
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "s3.amazonaws.com"
    }
    (policy,) = role["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    source = "arn:aws:s3:::aura-stream-documents-123456789012-us-east-1"
    target = "arn:aws:s3:::aura-stream-documents-123456789012-us-west-2"
    assert {sid: (set(as_list(s["Action"])), s["Resource"]) for sid, s in statements.items()} == {
        "ReadReplicationConfiguration": (
            {"s3:GetReplicationConfiguration", "s3:ListBucket"},
            source,
        ),
        "ReadSourceVersions": (
            {
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
            },
            f"{source}/*",
        ),
        "WriteReplicas": (
            {"s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"},
            f"{target}/*",
        ),
    }
    assert all(s["Effect"] == "Allow" for s in statements.values())


def _global_names(template: Template, overrides: dict[str, str]) -> dict[str, str]:
    """Names that must be unique across regions of one account: buckets and dashboards."""
    props = parameter_values(template, **overrides)
    return {
        "bucket": evaluate(template, properties(template, "DocumentsBucket")["BucketName"], props),
        "dashboard": evaluate(
            template, properties(template, "OperationsDashboard")["DashboardName"], props
        ),
    }


def test_a_second_stack_in_another_region_collides_with_nothing(template):
    primary, secondary = _global_names(template, PRIMARY), _global_names(template, SECONDARY)
    assert primary["bucket"] == "aura-stream-documents-123456789012-us-east-1"
    assert secondary["bucket"] == "aura-stream-documents-123456789012-us-west-2"
    assert primary["dashboard"] == "AuraStream-Operations"
    assert all(primary[kind] != secondary[kind] for kind in primary)
    # No IAM role, policy or topic carries a fixed name (those are global or per stack).
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        assert not {"RoleName", "ManagedPolicyName"} & set(props), name
    # Regional names stay the runbook's in both regions.
    for parameter, default in (
        ("CacheTableName", "AuraStream-SentimentCache"),
        ("JobsTableName", "AuraStream-Jobs"),
        ("KeysTableName", "AuraStream-ApiKeys"),
        ("SyncHandlerFunctionName", "SyncHandler"),
    ):
        assert template["Parameters"][parameter]["Default"] == default


def test_named_bucket_parameter_still_wins(template):
    props = parameter_values(template, DocumentsBucketName="my-documents")
    assert evaluate(template, properties(template, "DocumentsBucket")["BucketName"], props) == (
        "my-documents"
    )


@pytest.mark.parametrize(("role", "failover"), [("primary", "PRIMARY"), ("secondary", "SECONDARY")])
def test_with_a_domain_each_region_adds_its_failover_record_and_health_check(
    template, role, failover
):
    overrides = {**DOMAIN, "DrRole": role}
    assert created_resources(template, **overrides) >= DOMAIN_RESOURCES
    props = parameter_values(template, **overrides)
    record = evaluate(template, properties(template, "FailoverRecord"), props)
    assert record["Failover"] == failover
    assert record["HealthCheckId"] == {"Ref": "RegionHealthCheck"}
    assert record["AliasTarget"]["EvaluateTargetHealth"] is True
    check = properties(template, "RegionHealthCheck")["HealthCheckConfig"]
    assert check["ResourcePath"] == "/v1/health"
    assert (check["Type"], check["FailureThreshold"]) == ("HTTPS", 3)


def test_a_domain_needs_zone_and_certificate_too(template):
    partial = {"DomainName": "api.aurastream.com"}
    assert not created_resources(template, **partial) & DOMAIN_RESOURCES


def test_samconfig_dr_environment_deploys_the_secondary_to_us_west_2():
    import tomllib

    config = tomllib.loads((INFRA / "samconfig.toml").read_text())
    dr = config["dr"]
    assert dr["global"]["parameters"] == {"stack_name": "aurastream-dr", "region": "us-west-2"}
    overrides = dict(
        pair.split("=", 1) for pair in dr["deploy"]["parameters"]["parameter_overrides"].split()
    )
    assert overrides["DrRole"] == "secondary"
    assert overrides["DashboardName"] != "AuraStream-Operations"
    assert dr["deploy"]["parameters"]["template_file"] == ".aws-sam/build/template.yaml"
    prod = dict(
        pair.split("=", 1)
        for pair in config["prod"]["deploy"]["parameters"]["parameter_overrides"].split()
    )
    assert prod == {"DrRole": "primary", "DrRegion": "us-west-2"}


@pytest.mark.parametrize(
    ("role", "policy"),
    [
        ("BackupRole", "AWSBackupServiceRolePolicyForBackup"),
        ("BackupRestoreRole", "AWSBackupServiceRolePolicyForRestores"),
    ],
)
def test_backup_roles_are_aws_backups_own_and_nothing_more(template, role, policy):
    props = properties(template, role)
    assert props["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "backup.amazonaws.com"
    }
    assert props["ManagedPolicyArns"] == [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::aws:policy/service-role/{policy}"}
    ]
    assert "Policies" not in props


def test_backup_vault_is_kept_and_named_alike_in_both_regions(template):
    vault = template["Resources"]["BackupVault"]
    assert "Condition" not in vault  # the DR stack's receives the copies
    assert vault["DeletionPolicy"] == "Retain"
    assert parameter_default(template, vault["Properties"]["BackupVaultName"]) == (
        "AuraStream-Backups"
    )


def test_outputs_name_what_the_dr_scripts_read(template):
    outputs = template["Outputs"]
    assert outputs["BackupRestoreRoleArn"]["Value"] == {"Fn::GetAtt": ["BackupRestoreRole", "Arn"]}
    assert outputs["BackupVaultName"]["Value"] == {"Ref": "BackupVault"}
    assert outputs["HealthCheckId"]["Condition"] == "HasDomain"
    assert {"HealthUrl", "HttpApiId", "KeysTableName", "JobsTableName"} <= set(outputs)
    assert {"CriticalAlarmTopicArn", "WarningAlarmTopicArn"} <= set(outputs)
