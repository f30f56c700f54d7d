import math

import pytest

from graphql_api.adapters.local.language import LanguageDetector
from graphql_api.adapters.local.lexicon_engine import LexiconEngine
from graphql_api.domain.errors import ErrorCode
from graphql_api.domain.results import Analysis, DocumentFailure, Sentiment


@pytest.fixture(scope="module")
def engine() -> LexiconEngine:
    return LexiconEngine(LanguageDetector())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I love this product, it is wonderful!", Sentiment.POSITIVE),
        ("The movie was good", Sentiment.POSITIVE),
        ("This is the worst service I have ever had.", Sentiment.NEGATIVE),
        ("The parcel arrived on Tuesday.", Sentiment.NEUTRAL),
        ("The acting was superb but the plot was awful.", Sentiment.MIXED),
    ],
)
async def test_labels_follow_the_text(engine, text, expected):
    (outcome,) = await engine.analyze_batch([text], "en")
    assert isinstance(outcome, Analysis)
    assert outcome.sentiment is expected
    assert outcome.scores.top() is expected


async def test_scores_are_probabilities_that_sum_to_one(engine):
    texts = ["great", "awful", "a table", "good but bad", "NOT GOOD AT ALL!!!", "meh :)"]
    for outcome in await engine.analyze_batch(texts, "en"):
        assert isinstance(outcome, Analysis)
        values = [
            outcome.scores.positive,
            outcome.scores.negative,
            outcome.scores.neutral,
            outcome.scores.mixed,
        ]
        assert all(0 <= v <= 1 for v in values)
        assert math.isclose(sum(values), 1.0, abs_tol=1e-12)


async def test_languages_other_than_english_are_unsupported(engine):
    (outcome,) = await engine.analyze_batch(["Das ist gut"], "de")
    assert isinstance(outcome, DocumentFailure)
    assert outcome.code == ErrorCode.UNSUPPORTED_LANGUAGE


async def test_language_detection_handles_short_texts(engine):
    detected = await engine.detect_languages(
        ["terrible", "I love it", "Das ist wirklich sehr schlecht", "C'est vraiment magnifique"]
    )
    assert detected == ["en", "en", "de", "fr"]
