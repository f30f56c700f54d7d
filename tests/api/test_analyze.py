from tests.fakes import RecordingCache, RecordingEngine
from tests.support import operation, post_graphql

ANALYZE = operation("Analyze")


def documents(count: int, duplicates: int = 0) -> list[dict[str, str]]:
    unique = [
        {"id": str(i), "text": f"review {i} was good", "languageCode": "en"}
        for i in range(count - duplicates)
    ]
    repeats = [
        {"id": f"dup-{i}", "text": f"review {i} was good", "languageCode": "en"}
        for i in range(duplicates)
    ]
    return unique + repeats


def test_analyze_returns_one_result_per_document_in_order(local_client, local_container):
    docs = [
        {"id": "a", "text": "I absolutely love this!"},
        {"id": "b", "text": "This is the worst purchase I have ever made."},
        {"id": "c", "text": "   "},
    ]
    reply = post_graphql(local_client, ANALYZE, {"input": {"documents": docs}})

    assert reply.status == 200
    results = reply.json()["data"]["analyze"]["results"]
    assert [r["id"] for r in results] == ["a", "b", "c"]
    assert [r["sentiment"] for r in results] == ["POSITIVE", "NEGATIVE", None]
    assert results[0]["languageCode"] == "en"
    assert results[0]["engine"] == local_container.engine.identity  # the embedded model
    assert abs(sum(results[0]["scores"].values()) - 1) < 1e-9
    assert results[2]["error"] == {
        "code": "EMPTY_TEXT",
        "message": "Text is empty or only whitespace.",
    }


def test_a_hundred_documents_with_duplicates_cost_one_read_few_engine_calls_one_write(
    client, engine: RecordingEngine, cache: RecordingCache
):
    reply = post_graphql(client, ANALYZE, {"input": {"documents": documents(100, 10)}})

    assert len(reply.json()["data"]["analyze"]["results"]) == 100
    assert len(cache.reads) == 1
    assert len(engine.analyze_calls) <= 4
    assert len(cache.writes) == 1

    engine.analyze_calls.clear()
    again = post_graphql(client, ANALYZE, {"input": {"documents": documents(100, 10)}})

    assert engine.analyze_calls == []
    assert all(r["cached"] for r in again.json()["data"]["analyze"]["results"])


def test_aliased_query_fields_share_one_batch(
    client, engine: RecordingEngine, cache: RecordingCache
):
    reply = post_graphql(
        client,
        operation("CompareDocuments"),
        {
            "first": {"text": "good", "languageCode": "en"},
            "second": {"text": "bad", "languageCode": "en"},
        },
    )

    data = reply.json()["data"]
    assert (data["first"]["sentiment"], data["second"]["sentiment"]) == ("POSITIVE", "NEGATIVE")
    assert len(cache.reads) == 1
    assert len(engine.analyze_calls) == 1


def test_more_documents_than_allowed_are_refused_as_a_whole(client, engine: RecordingEngine):
    reply = post_graphql(client, ANALYZE, {"input": {"documents": documents(101)}})

    body = reply.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "TOO_MANY_DOCUMENTS"
    assert engine.analyze_calls == []


def test_one_failing_document_never_fails_the_others(client):
    docs = [
        {"id": "ok", "text": "good", "languageCode": "en"},
        {"id": "long", "text": "x" * 5_001, "languageCode": "en"},
        {"id": "lang", "text": "good", "languageCode": "xx"},
    ]
    results = post_graphql(client, ANALYZE, {"input": {"documents": docs}}).json()["data"][
        "analyze"
    ]["results"]

    assert results[0]["sentiment"] == "POSITIVE"
    assert results[1]["error"]["code"] == "TEXT_SIZE_LIMIT_EXCEEDED"
    assert results[2]["error"]["code"] == "UNSUPPORTED_LANGUAGE"


def test_sentences_come_back_with_their_own_sentiment_and_offsets(local_client):
    text = "The acting was superb.   The plot was awful and boring."
    query = (
        "mutation($input: AnalyzeInput!) { analyze(input: $input) { results { sentiment "
        "sentences { text beginOffset endOffset sentiment scores { positive negative } } } } }"
    )

    reply = post_graphql(
        local_client, query, {"input": {"documents": [{"text": text}], "sentences": True}}
    )

    (result,) = reply.json()["data"]["analyze"]["results"]
    analysed = " ".join(text.split())  # offsets index the text as analysed: white space folded
    assert [s["text"] for s in result["sentences"]] == [
        "The acting was superb.",
        "The plot was awful and boring.",
    ]
    for sentence in result["sentences"]:
        assert analysed[sentence["beginOffset"] : sentence["endOffset"]] == sentence["text"]
    assert [s["sentiment"] for s in result["sentences"]] == ["POSITIVE", "NEGATIVE"]
    assert result["sentiment"] == "MIXED"


def test_sentences_are_left_out_unless_asked_for(local_client):
    reply = post_graphql(
        local_client,
        '{ analyzeDocument(document: {text: "Good. Bad."}) { sentences { text } } }',
    )

    assert reply.json()["data"]["analyzeDocument"]["sentences"] is None


def test_a_refused_document_is_not_scanned_for_personal_data(client):
    documents = [
        {"id": "bad", "text": "mail ana@example.com\u0000"},
        {"id": "ok", "text": "mail ana@example.com"},
    ]
    query = (
        "mutation($input: AnalyzeInput!) { analyze(input: $input) "
        "{ results { id error { code } piiEntities { type } } } }"
    )

    reply = post_graphql(client, query, {"input": {"documents": documents, "pii": "DETECT"}})

    bad, ok = reply.json()["data"]["analyze"]["results"]
    assert (bad["error"]["code"], bad["piiEntities"]) == ("INVALID_TEXT", None)
    assert ok["piiEntities"] == [{"type": "EMAIL"}]
