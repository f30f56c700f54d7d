"""The metrics the runbook queries: CacheHitRate with no dimensions, cold-start duration,
PII detection and the estimated cost per analysis."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from graphql_api.access.usage import billable_units
from graphql_api.adapters.memory import InMemoryMetrics
from graphql_api.adapters.metered import (
    CostMeteredEngine,
    MeteredPiiDetector,
    comprehend_cost_micro_usd,
)
from graphql_api.adapters.metrics import EmfMetrics
from graphql_api.metric_names import Metric
from graphql_api.observability import process_age_ms
from graphql_api.privacy import LocalPiiDetector
from tests.fakes import RecordingEngine


def _emf(lines: list[str]) -> EmfMetrics:
    return EmfMetrics("AuraStream", "aurastream", write=lines.append)


def test_flush_writes_cache_hit_rate_with_an_empty_dimension_set():
    lines: list[str] = []
    emf = _emf(lines)
    emf.increment(Metric.CACHE_HIT, 3)
    emf.increment(Metric.CACHE_MISS, 1)
    emf.flush()
    (document,) = [json.loads(line) for line in lines]
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "AuraStream"
    assert directive["Dimensions"] == [[]]
    assert directive["Metrics"] == [{"Name": "CacheHitRate", "Unit": "Percent"}]
    values = document["CacheHitRate"]
    assert sum(values) / len(values) == 75.0


def test_hit_rate_samples_stay_within_the_emf_limit_and_keep_the_rate():
    document = json.loads(_emf([]).hit_rate_document(hits=1_234, misses=766))
    values = document["CacheHitRate"]
    assert len(values) == 100
    assert sum(values) / len(values) == 62.0  # 1234 / 2000 = 61.7%, to within half a percent


def test_no_lookups_no_hit_rate_document():
    lines: list[str] = []
    emf = _emf(lines)
    emf.increment(Metric.DOCUMENTS_ANALYZED, 2)
    emf.flush()
    assert lines == []


def test_lookups_are_counted_once_per_flush():
    lines: list[str] = []
    emf = _emf(lines)
    emf.increment(Metric.CACHE_MISS, 2)
    emf.flush()
    emf.flush()
    assert len(lines) == 1
    assert json.loads(lines[0])["CacheHitRate"] == [0.0, 0.0]


def test_process_age_reads_proc(tmp_path: Path):
    (tmp_path / "self").mkdir()
    # pid (name with ) spaces) state ... field 22 = start time in ticks
    fields = ["S"] + ["0"] * 18 + ["500"]  # fields 3..22
    (tmp_path / "self" / "stat").write_text(f"42 (python (3) x) {' '.join(fields)} 0 0\n")
    (tmp_path / "uptime").write_text("12.50 1.00\n")
    import os

    ticks = os.sysconf("SC_CLK_TCK")
    assert process_age_ms(str(tmp_path)) == (12.5 - 500 / ticks) * 1_000


def test_process_age_without_proc_counts_from_import(tmp_path: Path):
    assert 0 <= process_age_ms(str(tmp_path / "missing")) < 3_600_000
    assert process_age_ms() > 0


def test_comprehend_units_are_hundreds_of_characters_three_at_least():
    assert billable_units(len("short")) == 3
    assert billable_units(len("x" * 300)) == 3
    assert billable_units(len("x" * 301)) == 4
    assert comprehend_cost_micro_usd(["a", "b" * 450]) == (3 + 5) * 100


def test_cost_metered_engine_prices_every_comprehend_call():
    metrics = InMemoryMetrics()
    engine = CostMeteredEngine(RecordingEngine(), metrics)
    asyncio.run(engine.detect_languages(["hello there"]))
    asyncio.run(engine.analyze_batch(["hello there", "y" * 1_000], "en"))
    assert metrics.counters[Metric.ESTIMATED_COST_MICRO_USD] == (3 + 3 + 10) * 100
    assert engine.identity == RecordingEngine().identity


def test_pii_detector_counts_documents_scanned_and_with_finds():
    metrics = InMemoryMetrics()
    detector = MeteredPiiDetector(LocalPiiDetector(), metrics, priced=False)
    found = asyncio.run(detector.detect(["mail me at ana@example.com", "nothing here"], "en"))
    assert [bool(entities) for entities in found] == [True, False]
    assert metrics.counters[Metric.PII_SCANNED] == 2
    assert metrics.counters[Metric.PII_DETECTED] == 1
    assert Metric.ESTIMATED_COST_MICRO_USD not in metrics.counters


def test_lambda_entry_publishes_cold_start_duration_once_by_function(capsys, monkeypatch):
    from graphql_api.observability import lambda_entry

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "SyncHandler")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    emf = EmfMetrics("AuraStream", "aurastream")
    handler = lambda_entry(lambda event, context: {"ok": True}, emf)

    class Context:
        function_name = "SyncHandler"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:SyncHandler"
        aws_request_id = "req"

    capsys.readouterr()
    handler({}, Context())
    handler({}, Context())
    documents = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line
    ]
    cold = [d for d in documents if "ColdStartDuration" in d]
    assert len(cold) == 1
    (directive,) = cold[0]["_aws"]["CloudWatchMetrics"]
    assert sorted(directive["Dimensions"][0]) == ["FunctionName", "service"]
    assert cold[0]["FunctionName"] == "SyncHandler"
    (duration,) = cold[0]["ColdStartDuration"]  # Powertools writes values as a list
    assert duration > 0
