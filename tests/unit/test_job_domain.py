import math

from graphql_api.domain.jobs import JobResult, combine, split_text, summarise
from graphql_api.domain.results import Analysis, Scores, Sentiment


def analysis(positive: float, negative: float) -> Analysis:
    scores = Scores.normalised(positive, negative, 1 - positive - negative, 0)
    return Analysis(scores.top(), scores, "en", "e")


def test_short_texts_are_not_split():
    assert split_text("One. Two.", 5_000) == ["One. Two."]


def test_long_texts_split_on_sentence_boundaries_within_the_byte_limit():
    sentence = "This sentence is about forty bytes long. "
    text = sentence * 300  # ~12,300 bytes

    pieces = split_text(text.strip(), 5_000)

    assert len(pieces) == 3
    assert all(len(p.encode()) <= 5_000 for p in pieces)
    assert all(p.endswith("long.") for p in pieces)
    assert " ".join(pieces) == text.strip()


def test_a_sentence_longer_than_the_limit_is_cut_on_whitespace_and_multibyte_safely():
    text = ("é" * 3_000 + " ") * 3  # words of 6,000 bytes

    pieces = split_text(text.strip(), 5_000)

    assert all(len(p.encode()) <= 5_000 for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_combined_scores_are_weighted_by_length_and_sum_to_one():
    combined = combine([analysis(0.9, 0.05), analysis(0.05, 0.9)], [3_000, 1_000])

    assert combined.sentiment is Sentiment.POSITIVE
    assert math.isclose(combined.scores.positive, 0.9 * 0.75 + 0.05 * 0.25)
    s = combined.scores
    assert math.isclose(s.positive + s.negative + s.neutral + s.mixed, 1.0)


def test_summary_counts_sentiments_and_averages_scores_of_analysed_documents():
    results = [
        JobResult(0, None, analysis=analysis(0.9, 0.05)),
        JobResult(1, None, analysis=analysis(0.1, 0.8)),
        JobResult(2, None),
    ]

    summary = summarise(results)

    assert summary.counts == {"POSITIVE": 1, "NEGATIVE": 1, "NEUTRAL": 0, "MIXED": 0}
    assert summary.mean_scores is not None
    assert math.isclose(summary.mean_scores.positive, 0.5)
