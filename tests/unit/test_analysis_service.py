import pytest

from graphql_api.adapters.memory import InMemoryMetrics
from graphql_api.domain.errors import ErrorCode
from graphql_api.domain.results import DocumentRequest, Sentiment
from graphql_api.services.analysis import AnalysisPolicy, AnalysisService
from tests.fakes import RecordingCache, RecordingEngine


def make_service(
    engine: RecordingEngine | None = None, cache: RecordingCache | None = None
) -> tuple[AnalysisService, RecordingEngine, RecordingCache, InMemoryMetrics]:
    engine = engine or RecordingEngine()
    cache = cache or RecordingCache()
    metrics = InMemoryMetrics()
    return AnalysisService(engine, cache, metrics), engine, cache, metrics


def hundred_documents_with_ten_duplicates() -> list[DocumentRequest]:
    unique = [DocumentRequest(f"review {i} was good", "en", id=str(i)) for i in range(90)]
    duplicates = [DocumentRequest(f"review {i} was good", "en", id=f"dup-{i}") for i in range(10)]
    return unique + duplicates


async def test_a_batch_costs_one_cache_read_few_engine_calls_and_one_cache_write():
    service, engine, cache, _ = make_service()

    results = await service.analyze(hundred_documents_with_ten_duplicates())

    assert len(results) == 100
    assert len(cache.reads) == 1
    assert len(engine.analyze_calls) <= 4
    assert len(engine.analyzed_texts) == 90  # duplicates analysed once
    assert len(cache.writes) == 1
    assert [r.id for r in results[:3]] == ["0", "1", "2"]  # input order
    assert results[90].text_hash == results[0].text_hash


async def test_the_same_batch_again_is_answered_from_the_cache():
    service, engine, _, _ = make_service()
    await service.analyze(hundred_documents_with_ten_duplicates())
    engine.analyze_calls.clear()

    results = await service.analyze(hundred_documents_with_ten_duplicates())

    assert engine.analyze_calls == []
    assert all(r.cached for r in results)


async def test_documents_without_language_are_detected_in_batches_and_grouped_by_language():
    engine = RecordingEngine(languages={"hola es bueno good": "es"})
    service, engine, _, _ = make_service(engine)

    results = await service.analyze(
        [DocumentRequest("hola es bueno good"), DocumentRequest("so good"), DocumentRequest("bad")]
    )

    assert len(engine.detect_calls) == 1
    assert sorted(language for _, language in engine.analyze_calls) == ["en", "es"]
    assert [r.analysis.language for r in results if r.analysis] == ["es", "en", "en"]


async def test_a_cached_document_without_language_skips_detection():
    service, engine, _, _ = make_service()
    await service.analyze([DocumentRequest("good day")])
    engine.detect_calls.clear()

    (result,) = await service.analyze([DocumentRequest("good day")])

    assert result.cached
    assert engine.detect_calls == []


async def test_invalid_documents_fail_alone():
    service, _, _, _ = make_service()
    policy_limit = AnalysisPolicy().max_text_bytes

    results = await service.analyze(
        [
            DocumentRequest("   \n\t"),
            DocumentRequest("é" * (policy_limit // 2 + 1), "en"),
            DocumentRequest("good", "english!"),
            DocumentRequest("good", "en"),
            DocumentRequest("good", "xx"),
        ]
    )

    codes = [r.failure.code if r.failure else None for r in results]
    assert codes == [
        ErrorCode.EMPTY_TEXT,
        ErrorCode.TEXT_TOO_LONG,
        ErrorCode.INVALID_LANGUAGE_CODE,
        None,
        ErrorCode.UNSUPPORTED_LANGUAGE,
    ]
    assert results[3].analysis is not None
    assert results[3].analysis.sentiment is Sentiment.POSITIVE


async def test_a_failing_cache_is_bypassed_and_counted():
    service, engine, _, metrics = make_service(cache=RecordingCache(fail=True))

    results = await service.analyze([DocumentRequest("good", "en"), DocumentRequest("bad", "en")])

    assert [r.analysis.sentiment for r in results if r.analysis] == [
        Sentiment.POSITIVE,
        Sentiment.NEGATIVE,
    ]
    assert metrics.counters["CacheErrors"] == 2  # the read and the write
    assert len(engine.analyze_calls) == 1


async def test_a_failing_engine_fails_only_its_documents_and_caches_nothing():
    service, _, cache, metrics = make_service(engine=RecordingEngine(fail=True))

    results = await service.analyze([DocumentRequest("good", "en"), DocumentRequest("", "en")])

    assert results[0].failure is not None
    assert results[0].failure.code == ErrorCode.ENGINE_UNAVAILABLE
    assert results[1].failure is not None
    assert results[1].failure.code == ErrorCode.EMPTY_TEXT
    assert cache.writes == []
    assert metrics.counters["EngineErrors"] == 1


async def test_cache_lifetime_follows_text_length():
    service, _, cache, _ = make_service()

    await service.analyze(
        [
            DocumentRequest("good " * 10, "en"),
            DocumentRequest("good " * 100, "en"),
            DocumentRequest("good " * 300, "en"),
        ]
    )

    assert sorted(ttl for _, ttl in cache.writes[0].values()) == [3_600, 86_400, 604_800]


async def test_whitespace_variants_share_one_analysis_but_case_does_not():
    service, engine, _, _ = make_service()

    results = await service.analyze(
        [
            DocumentRequest("so  good\n", "en"),
            DocumentRequest("so good", "en"),
            DocumentRequest("SO GOOD", "en"),
        ]
    )

    assert results[0].text_hash == results[1].text_hash != results[2].text_hash
    assert len(engine.analyzed_texts) == 2


async def test_nul_and_lone_surrogates_fail_their_document_alone():
    service, _, _, _ = make_service()

    results = await service.analyze(
        [
            DocumentRequest("bad \ud800", "en", "a"),
            DocumentRequest("nul\x00", "en", "b"),
            DocumentRequest("fine", "en", "\udc00"),
            DocumentRequest("good day", "en", "d"),
        ]
    )

    assert [r.failure.code if r.failure else None for r in results] == [
        "INVALID_TEXT",
        "INVALID_TEXT",
        "INVALID_TEXT",
        None,
    ]
    assert [r.id for r in results] == [None, None, None, "d"]


@pytest.mark.parametrize("language", ["en\n", "en ", "\nen", "e", "en-us", "en-USA"])
async def test_a_language_code_must_match_whole(language):
    service, _, _, _ = make_service()

    (result,) = await service.analyze([DocumentRequest("good day", language)])

    assert result.failure is not None
    assert result.failure.code == "INVALID_LANGUAGE_CODE"
