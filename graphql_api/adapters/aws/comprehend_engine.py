"""Amazon Comprehend as a SentimentEngine: batched calls, per-item errors, a time budget."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from graphql_api.domain.errors import ErrorCode
from graphql_api.domain.results import Analysis, DocumentFailure, EngineOutcome, Scores, Sentiment

#: The languages BatchDetectSentiment accepts.
SENTIMENT_LANGUAGES = frozenset(
    {"ar", "de", "en", "es", "fr", "hi", "it", "ja", "ko", "pt", "zh", "zh-TW"}
)
#: Per-item error codes worth one more try in the next batch.
RETRYABLE_ITEM_ERRORS = frozenset({"INTERNAL_SERVER_ERROR", "THROTTLING", "ThrottlingException"})
UNDETERMINED_LANGUAGE = "und"


class ComprehendEngine:
    """Calls BatchDetectSentiment and BatchDetectDominantLanguage, 25 documents at a time.

    Retries on throttling, 5xx and timeouts come from botocore's retry mode (exponential
    backoff with full jitter); the whole call, retries included, must fit `budget_seconds`,
    after which it raises TimeoutError so a fallback can answer in time.
    """

    identity = "comprehend-2017-11-27"
    max_batch_size = 25
    supported_languages = SENTIMENT_LANGUAGES

    def __init__(self, client: Callable[[], Any], budget_seconds: float) -> None:
        self._client = client
        self.budget_seconds = budget_seconds

    async def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        method = getattr(self._client(), operation)
        result: dict[str, Any] = await asyncio.wait_for(
            asyncio.to_thread(method, **params), self.budget_seconds
        )
        return result

    async def detect_languages(self, texts: Sequence[str]) -> list[str]:
        languages = [UNDETERMINED_LANGUAGE] * len(texts)
        response = await self._call("batch_detect_dominant_language", TextList=list(texts))
        for item in response.get("ResultList", []):
            candidates = item.get("Languages") or []
            if candidates:
                best = max(candidates, key=lambda c: c.get("Score", 0))
                languages[item["Index"]] = best["LanguageCode"]
        return languages

    async def analyze_batch(self, texts: Sequence[str], language: str) -> list[EngineOutcome]:
        if language not in SENTIMENT_LANGUAGES:
            message = f"Comprehend does not analyse sentiment in '{language}'."
            return [DocumentFailure(ErrorCode.UNSUPPORTED_LANGUAGE, message)] * len(texts)
        outcomes: list[EngineOutcome | None] = [None] * len(texts)
        retry = await self._analyze_into(outcomes, list(range(len(texts))), texts, language)
        if retry:  # retryable item errors get exactly one more try, as a batch of their own
            await self._analyze_into(outcomes, retry, texts, language, last_try=True)
        return [outcome for outcome in outcomes if outcome is not None]

    async def _analyze_into(
        self,
        outcomes: list[EngineOutcome | None],
        indexes: list[int],
        texts: Sequence[str],
        language: str,
        *,
        last_try: bool = False,
    ) -> list[int]:
        response = await self._call(
            "batch_detect_sentiment", TextList=[texts[i] for i in indexes], LanguageCode=language
        )
        for item in response.get("ResultList", []):
            outcomes[indexes[item["Index"]]] = self._analysis(item, language)
        retry = []
        for error in response.get("ErrorList", []):
            index = indexes[error["Index"]]
            code = error.get("ErrorCode", "INTERNAL_SERVER_ERROR")
            if code in RETRYABLE_ITEM_ERRORS and not last_try:
                retry.append(index)
                continue
            outcomes[index] = DocumentFailure(
                _item_error_code(code),
                error.get("ErrorMessage") or code,
                retryable=code in RETRYABLE_ITEM_ERRORS,
            )
        return retry

    def _analysis(self, item: dict[str, Any], language: str) -> Analysis:
        raw = item["SentimentScore"]
        scores = Scores.normalised(raw["Positive"], raw["Negative"], raw["Neutral"], raw["Mixed"])
        return Analysis(Sentiment(item["Sentiment"]), scores, language, self.identity)


def _item_error_code(code: str) -> str:
    known = {
        "TEXT_SIZE_LIMIT_EXCEEDED": ErrorCode.TEXT_TOO_LONG,
        "UNSUPPORTED_LANGUAGE": ErrorCode.UNSUPPORTED_LANGUAGE,
    }
    return known.get(code, ErrorCode.ENGINE_UNAVAILABLE)
