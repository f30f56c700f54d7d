"""Amazon Comprehend as a SentimentEngine: batched calls, per-item errors, one deadline.

Calls run on boto3 in a bounded thread pool of Comprehend's own, with botocore's retries
off: this module retries, so that every attempt, backoff and timeout counts against the
request's deadline, and nothing is sent once the deadline has passed. (aiobotocore would
cancel abandoned calls outright, but it pins botocore to a narrow range, which would pin
boto3 for every other adapter, and adds aiohttp to the Lambda bundle; with per-attempt
timeouts taken from the remaining budget, an abandoned call here ends within that budget
and is never retried.)
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from graphql_api.adapters.resilience import PartialDetection, Throttled
from graphql_api.domain.deadline import BudgetSpent, Deadline, current_deadline
from graphql_api.domain.errors import ErrorCode
from graphql_api.domain.results import Analysis, DocumentFailure, EngineOutcome, Scores, Sentiment

#: The languages BatchDetectSentiment accepts.
SENTIMENT_LANGUAGES = frozenset(
    {"ar", "de", "en", "es", "fr", "hi", "it", "ja", "ko", "pt", "zh", "zh-TW"}
)
#: Per-item error codes that say nothing about the document: worth another try.
RETRYABLE_ITEM_ERRORS = frozenset({"INTERNAL_SERVER_ERROR", "THROTTLING", "ThrottlingException"})
#: Per-item error codes that are about the document: final.
PERMANENT_ITEM_ERRORS = frozenset({"TEXT_SIZE_LIMIT_EXCEEDED", "UNSUPPORTED_LANGUAGE"})
THROTTLE_CODES = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "Throttling", "RequestLimitExceeded"}
)
UNDETERMINED_LANGUAGE = "und"
#: Below this much budget an attempt is not worth sending.
MIN_ATTEMPT_SECONDS = 0.05
#: Per-attempt timeouts are rounded up to this step, so a handful of clients cover them.
TIMEOUT_STEP_SECONDS = 0.1
#: Rounds of retrying per-item errors within one call, budget permitting.
MAX_ITEM_ROUNDS = 4


class ComprehendEngine:
    """Calls BatchDetectSentiment and BatchDetectDominantLanguage, 25 documents at a time.

    Throttles (up to `max_throttled_attempts`), 5xx and connection errors (up to
    `max_attempts`) are retried with capped exponential backoff and full jitter while the
    deadline (the request's, else `budget_seconds` per call) allows.
    Running out of budget while throttled raises Throttled (not an outage); a call that
    does not answer in time raises TimeoutError; either way the fallback answers in time.
    `client(read_timeout)` gives a boto3 client with that read timeout and no retries.
    """

    identity = "comprehend-2017-11-27"
    max_batch_size = 25
    supported_languages = SENTIMENT_LANGUAGES

    def __init__(
        self,
        client: Callable[[float], Any],
        budget_seconds: float,
        *,
        max_workers: int = 16,
        max_attempts: int = 3,
        max_throttled_attempts: int = 10,
        backoff_base_seconds: float = 0.02,
        backoff_cap_seconds: float = 0.2,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self.budget_seconds = budget_seconds
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix="aurastream-comprehend")
        self._backoff = (backoff_base_seconds, backoff_cap_seconds)
        # Errors get a few tries; throttles more, since they are expected and cheap to
        # wait out, as long as the deadline allows.
        self._attempts = {"transient": max_attempts, "throttle": max_throttled_attempts}
        self._rng = rng or random.Random()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def close_and_wait(self) -> None:
        """Close, and wait for calls already sent to end (at their read timeouts)."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        deadline = current_deadline() or Deadline.after(self.budget_seconds)
        loop = asyncio.get_running_loop()
        last: Exception | None = None
        attempt = 0
        while True:
            remaining = deadline.remaining()
            if remaining < MIN_ATTEMPT_SECONDS:
                raise _give_up(last)
            timeout = round(math.ceil(remaining / TIMEOUT_STEP_SECONDS) * TIMEOUT_STEP_SECONDS, 3)
            sent = loop.run_in_executor(
                self._executor, self._send, deadline, timeout, operation, params
            )
            try:
                result: dict[str, Any] = await asyncio.wait_for(sent, remaining)
                return result
            except BudgetSpent:
                raise _give_up(last) from None
            except TimeoutError as error:
                raise TimeoutError(f"Comprehend {operation}: no answer in time") from error
            except Exception as error:
                kind = _classify(error)
                if kind == "timeout":
                    raise TimeoutError(f"Comprehend {operation}: read timed out") from error
                if kind == "fatal":
                    raise
                if kind == "throttle":
                    last = Throttled(f"Comprehend {operation} throttled")
                    if attempt + 1 >= self._attempts[kind]:
                        raise last from error
                else:
                    last = error
                    if attempt + 1 >= self._attempts[kind]:
                        raise
            base, cap = self._backoff
            pause = self._rng.uniform(0, min(cap, base * 2**attempt))
            if deadline.remaining() - pause < MIN_ATTEMPT_SECONDS:
                raise _give_up(last)
            await asyncio.sleep(pause)
            attempt += 1

    def _send(
        self, deadline: Deadline, timeout: float, operation: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        if deadline.expired:  # queued behind other calls for too long: never sent
            raise BudgetSpent("deadline passed while the call was queued")
        response: dict[str, Any] = getattr(self._client(timeout), operation)(**params)
        return response

    async def detect_languages(self, texts: Sequence[str]) -> list[str]:
        languages: list[str | None] = [None] * len(texts)
        pending = list(range(len(texts)))
        for round_ in range(MAX_ITEM_ROUNDS):
            try:
                response = await self._call(
                    "batch_detect_dominant_language", TextList=[texts[i] for i in pending]
                )
            except Exception:
                if round_ == 0:
                    raise
                break  # what came back stands; the rest is detected elsewhere
            for item in response.get("ResultList", []):
                candidates = item.get("Languages") or []
                best = max(candidates, key=lambda c: c.get("Score", 0), default=None)
                code = best["LanguageCode"] if best else UNDETERMINED_LANGUAGE
                languages[pending[item["Index"]]] = code
            retry = []
            for error in response.get("ErrorList", []):
                index = pending[error["Index"]]
                if error.get("ErrorCode") in PERMANENT_ITEM_ERRORS:
                    languages[index] = UNDETERMINED_LANGUAGE
                else:
                    retry.append(index)
            pending = retry
            if not pending:
                break
        if any(language is None for language in languages):
            raise PartialDetection(languages)
        return [language or UNDETERMINED_LANGUAGE for language in languages]

    async def analyze_batch(self, texts: Sequence[str], language: str) -> list[EngineOutcome]:
        if language not in SENTIMENT_LANGUAGES:
            message = f"Comprehend does not analyse sentiment in '{language}'."
            return [DocumentFailure(ErrorCode.UNSUPPORTED_LANGUAGE, message)] * len(texts)
        outcomes: list[EngineOutcome | None] = [None] * len(texts)
        pending = list(range(len(texts)))
        for round_ in range(MAX_ITEM_ROUNDS):
            try:
                response = await self._call(
                    "batch_detect_sentiment",
                    TextList=[texts[i] for i in pending],
                    LanguageCode=language,
                )
            except Exception:
                if round_ == 0:
                    raise
                break
            for item in response.get("ResultList", []):
                outcomes[pending[item["Index"]]] = self._analysis(item, language)
            retry = []
            for error in response.get("ErrorList", []):
                index = pending[error["Index"]]
                code = error.get("ErrorCode", "INTERNAL_SERVER_ERROR")
                if code in RETRYABLE_ITEM_ERRORS:
                    retry.append(index)
                else:
                    outcomes[index] = DocumentFailure(
                        _item_error_code(code), error.get("ErrorMessage") or code
                    )
            pending = retry
            if not pending:
                break
        unanswered = DocumentFailure(
            ErrorCode.ENGINE_UNAVAILABLE, "Comprehend did not answer in time.", retryable=True
        )
        return [unanswered if outcome is None else outcome for outcome in outcomes]

    def _analysis(self, item: dict[str, Any], language: str) -> Analysis:
        raw = item["SentimentScore"]
        scores = Scores.normalised(raw["Positive"], raw["Negative"], raw["Neutral"], raw["Mixed"])
        return Analysis(Sentiment(item["Sentiment"]), scores, language, self.identity)


def _classify(error: Exception) -> str:
    """ "throttle", "transient" (worth another try), "timeout" or "fatal"."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        HTTPClientError,
        ReadTimeoutError,
    )
    from botocore.exceptions import ConnectionError as BotocoreConnectionError

    if isinstance(error, ClientError):
        if error.response.get("Error", {}).get("Code") in THROTTLE_CODES:
            return "throttle"
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return "transient" if status >= 500 else "fatal"
    if isinstance(error, ReadTimeoutError):
        return "timeout"
    if isinstance(error, ConnectTimeoutError | HTTPClientError | BotocoreConnectionError):
        return "transient"
    return "fatal"


def _give_up(last: Exception | None) -> Exception:
    return last if last is not None else BudgetSpent("the engine budget is spent")


def _item_error_code(code: str) -> str:
    known = {
        "TEXT_SIZE_LIMIT_EXCEEDED": ErrorCode.TEXT_TOO_LONG,
        "UNSUPPORTED_LANGUAGE": ErrorCode.UNSUPPORTED_LANGUAGE,
    }
    return known.get(code, ErrorCode.ENGINE_UNAVAILABLE)
