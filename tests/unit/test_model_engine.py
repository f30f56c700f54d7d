"""The embedded ONNX sentiment engine, on the artifact that ships with AuraStream."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("tokenizers")

from graphql_api.adapters.local.model_engine import (
    DEFAULT_MODEL_DIR,
    ModelIntegrityError,
    OnnxSentimentEngine,
    split_sentences,
)
from graphql_api.domain.errors import ErrorCode
from graphql_api.domain.results import Analysis, DocumentFailure, Sentiment

HOLDOUT = Path(__file__).resolve().parents[1] / "data" / "model_holdout.jsonl"
MODEL_CARD = Path(__file__).resolve().parents[2] / "MODEL_CARD.md"
# Accuracy may differ slightly across CPUs (int8 kernels round differently).
TOLERANCE = 0.02


@pytest.fixture(scope="module")
def engine() -> OnnxSentimentEngine:
    return OnnxSentimentEngine()


def _analysis(outcome: object) -> Analysis:
    assert isinstance(outcome, Analysis), outcome
    return outcome


def test_identity_names_the_model_checksum(engine: OnnxSentimentEngine) -> None:
    sums = (DEFAULT_MODEL_DIR / "SHA256SUMS").read_text().split()
    digest = sums[sums.index("model.onnx") - 1]
    assert engine.identity == f"minilm-sst-onnx-{digest[:8]}"
    assert engine.max_batch_size == 25


def test_a_tampered_artifact_is_refused(tmp_path: Path) -> None:
    for item in DEFAULT_MODEL_DIR.iterdir():
        shutil.copy(item, tmp_path / item.name)
    config = tmp_path / "config.json"
    config.write_text(config.read_text().replace('"format": 1', '"format": 1 '))
    with pytest.raises(ModelIntegrityError):
        OnnxSentimentEngine(tmp_path).predict(["fine"])


def test_a_missing_checksum_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelIntegrityError):
        OnnxSentimentEngine(tmp_path)


async def test_obvious_texts(engine: OnnxSentimentEngine) -> None:
    texts = [
        "An absolute delight from start to finish, I loved every minute.",
        "A wonderful, moving film with brilliant performances.",
        "This was a complete waste of time; dull, stupid and badly acted.",
        "The worst movie I have seen in years. Avoid it.",
    ]
    outcomes = await engine.analyze_batch(texts, "en")
    sentiments = [_analysis(o).sentiment for o in outcomes]
    assert sentiments == [Sentiment.POSITIVE] * 2 + [Sentiment.NEGATIVE] * 2
    for outcome in outcomes:
        analysis = _analysis(outcome)
        assert analysis.engine == engine.identity
        assert analysis.language == "en"


async def test_scores_sum_to_one(engine: OnnxSentimentEngine) -> None:
    texts = ["Great.", "It is a film.", "Superb acting. Awful plot.", "Meh", "x" * 40]
    for outcome in await engine.analyze_batch(texts, "en"):
        analysis = _analysis(outcome)
        for scores in [analysis.scores, *(s.scores for s in analysis.sentences)]:
            values = [scores.positive, scores.negative, scores.neutral, scores.mixed]
            assert all(0.0 <= v <= 1.0 for v in values)
            assert sum(values) == pytest.approx(1.0, abs=1e-9)


async def test_opposing_sentences_are_mixed(engine: OnnxSentimentEngine) -> None:
    text = "The acting was superb. The plot was awful and boring."
    analysis = _analysis((await engine.analyze_batch([text], "en"))[0])
    assert analysis.sentiment is Sentiment.MIXED
    first, second = analysis.sentences
    assert text[first.begin_offset : first.end_offset] == "The acting was superb."
    assert text[second.begin_offset : second.end_offset] == "The plot was awful and boring."
    assert first.sentiment is Sentiment.POSITIVE
    assert second.sentiment is Sentiment.NEGATIVE


async def test_one_sentence_documents_have_one_sentence_result(
    engine: OnnxSentimentEngine,
) -> None:
    text = "  I enjoyed it.  "
    analysis = _analysis((await engine.analyze_batch([text], "en"))[0])
    (sentence,) = analysis.sentences
    assert text[sentence.begin_offset : sentence.end_offset] == "I enjoyed it."
    assert sentence.scores == analysis.scores


async def test_other_languages_are_unsupported(engine: OnnxSentimentEngine) -> None:
    outcomes = await engine.analyze_batch(["Una película maravillosa.", "Ein Film."], "es")
    assert len(outcomes) == 2
    for outcome in outcomes:
        assert isinstance(outcome, DocumentFailure)
        assert outcome.code == ErrorCode.UNSUPPORTED_LANGUAGE.value


async def test_empty_text_fails_alone(engine: OnnxSentimentEngine) -> None:
    outcomes = await engine.analyze_batch(["   ", "Lovely."], "en")
    assert isinstance(outcomes[0], DocumentFailure)
    assert outcomes[0].code == ErrorCode.EMPTY_TEXT.value
    assert _analysis(outcomes[1]).sentiment is Sentiment.POSITIVE


async def test_language_detection_is_delegated() -> None:
    seen: list[list[str]] = []

    def detector(texts: object) -> list[str]:
        seen.append(list(texts))  # type: ignore[call-overload]
        return ["fr"]

    engine = OnnxSentimentEngine(language_detector=detector)
    assert await engine.detect_languages(["Bonjour"]) == ["fr"]
    assert seen == [["Bonjour"]]
    assert await OnnxSentimentEngine().detect_languages(["a", "b"]) == ["en", "en"]


async def test_long_documents_are_read_whole(engine: OnnxSentimentEngine) -> None:
    praise = "The cast is wonderful and the story is moving. " * 30
    slate = "Sadly the ending is a dreadful, boring mess that ruins everything. " * 30
    positive, negative = await engine.analyze_batch(
        [praise + "It is fine.", "Fine. " + slate], "en"
    )
    assert _analysis(positive).scores.positive > _analysis(positive).scores.negative
    assert _analysis(negative).scores.negative > _analysis(negative).scores.positive
    # Sentences beyond the first 256 word pieces are still scored.
    assert len(_analysis(positive).sentences) == 31


async def test_parallel_shards_and_concurrent_callers_score_as_one_thread_does(
    engine: OnnxSentimentEngine,
) -> None:
    texts = [
        "A joy.",
        "Dull, slow and far too long.",
        "The acting was superb. The plot was awful and boring.",
        "A film about a man, a dog and a very long road trip. " * 40,
        "   ",
        "Lovely.",
    ]
    single = OnnxSentimentEngine(threads=1)
    try:
        expected = single.predict(texts)
    finally:
        single.close()
    concurrent = await asyncio.gather(
        *(engine.analyze_batch(texts, "en") for _ in range(4)),
        *(engine.analyze_batch([text], "en") for text in texts),
    )
    alone = [outcome for (outcome,) in concurrent[4:]]
    for outcomes in [*concurrent[:4], alone, engine.predict(texts)]:
        for got, want in zip(outcomes, expected, strict=True):
            if isinstance(want, DocumentFailure):
                assert got == want
                continue
            got, want = _analysis(got), _analysis(want)
            assert got.sentiment is want.sentiment
            # int8 activations are quantised per batch, so batch-mates move scores a little
            # (up to ~0.03 here); a window's margin landing on another text moves far more.
            assert got.scores.positive == pytest.approx(want.scores.positive, abs=0.05)
            assert [s.end_offset for s in got.sentences] == [s.end_offset for s in want.sentences]


def test_sentence_splitter_keeps_offsets() -> None:
    text = 'Dr. Smith loved it! "Really?" he asked... yes. The U.S. cut was worse.'
    spans = split_sentences(text)
    assert [text[b:e] for b, e in spans] == [
        "Dr. Smith loved it!",
        '"Really?" he asked... yes.',
        "The U.S. cut was worse.",
    ]
    assert split_sentences("") == []
    assert split_sentences(" \n ") == []


def _card_figure(name: str) -> float:
    # The row reads: | name (file) | n | accuracy | ...
    match = re.search(rf"{name}[^|]*\|[^|]*\|\s*([0-9.]+)", MODEL_CARD.read_text())
    assert match, f"MODEL_CARD.md has no regression figure for {name}"
    return float(match.group(1))


@pytest.mark.parametrize(
    ("source", "card_row"),
    [("rotten_tomatoes", "Regression sample, RT"), ("imdb", "Regression sample, IMDB")],
)
def test_holdout_accuracy_does_not_regress(
    engine: OnnxSentimentEngine, source: str, card_row: str
) -> None:
    items = [json.loads(line) for line in HOLDOUT.read_text(encoding="utf-8").splitlines()]
    items = [item for item in items if item["source"] == source]
    assert len(items) >= 60
    outcomes = []
    for start in range(0, len(items), engine.max_batch_size):
        outcomes += engine.predict([i["text"] for i in items[start : start + 25]])
    correct = 0
    for item, outcome in zip(items, outcomes, strict=True):
        scores = _analysis(outcome).scores
        correct += int((scores.positive > scores.negative) == bool(item["label"]))
    accuracy = correct / len(items)
    assert accuracy >= _card_figure(card_row) - TOLERANCE
