"""A small local HTTP fake of Amazon Comprehend's JSON API (moto's Comprehend is canned).

It speaks the real wire protocol (`X-Amz-Target: Comprehend_20171127.<Operation>`, JSON 1.1),
so the production adapter runs unchanged through botocore against it.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ComprehendBehaviour:
    """What the fake does next; tests change it between requests."""

    throttle_next: int = 0  # answer this many calls with ThrottlingException
    outage: bool = False  # answer every call with InternalServerException (HTTP 500)
    delay_seconds: float = 0.0  # latency of every call
    #: Texts that get a per-item error the first time they are seen (code per text).
    item_errors_once: dict[str, str] = field(default_factory=dict)
    #: Texts that always get a per-item error.
    item_errors: dict[str, str] = field(default_factory=dict)
    languages: dict[str, str] = field(default_factory=dict)
    #: Faults by rate, spread evenly rather than drawn at random so runs are reproducible
    #: whatever the order of concurrent calls: 0.5 throttles every second call.
    throttle_rate: float = 0.0
    #: With a seed, throttles are drawn at random (seeded) at `throttle_rate` instead.
    throttle_seed: int | None = None
    #: The share of items (of both batch operations) answered with `item_error_code`.
    item_error_rate: float = 0.0
    item_error_code: str = "INTERNAL_SERVER_ERROR"
    #: Texts whose language detection gets a per-item error, always or the first time.
    detection_errors: dict[str, str] = field(default_factory=dict)
    detection_errors_once: dict[str, str] = field(default_factory=dict)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a deadline passed) closed the connection: not news."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeComprehend:
    def __init__(self) -> None:
        self.behaviour = ComprehendBehaviour()
        self.calls: Counter[str] = Counter()
        self.throttled = 0
        self._rate_counts: Counter[str] = Counter()
        self._random: random.Random | None = None
        self.batches: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                operation = self.headers["X-Amz-Target"].split(".", 1)[1]
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, payload = fake.handle(operation, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeComprehend:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        self.behaviour = ComprehendBehaviour()
        self.calls.clear()
        self.batches.clear()
        self.throttled = 0
        self._rate_counts.clear()
        self._random = None

    def _by_rate(self, name: str, rate: float) -> bool:
        """True for an evenly spread `rate` share of the calls to this (under the lock)."""
        count = self._rate_counts[name]
        self._rate_counts[name] += 1
        return int((count + 1) * rate) > int(count * rate)

    def handle(self, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        behaviour = self.behaviour
        with self._lock:
            self.calls[operation] += 1
            throttled = behaviour.throttle_next > 0
            if throttled:
                behaviour.throttle_next -= 1
            elif behaviour.throttle_rate and behaviour.throttle_seed is not None:
                if self._random is None:
                    self._random = random.Random(behaviour.throttle_seed)
                throttled = self._random.random() < behaviour.throttle_rate
            elif behaviour.throttle_rate:
                throttled = self._by_rate("throttle", behaviour.throttle_rate)
            self.throttled += throttled
        if behaviour.delay_seconds:
            time.sleep(behaviour.delay_seconds)
        if throttled:
            return 400, {"__type": "ThrottlingException", "Message": "Rate exceeded"}
        if behaviour.outage:
            return 500, {"__type": "InternalServerException", "Message": "Service unavailable"}
        texts: list[str] = body.get("TextList", [])
        self.batches.append((operation, texts))
        if operation == "BatchDetectDominantLanguage":
            results, errors = [], []
            for index, text in enumerate(texts):
                code = (
                    behaviour.detection_errors.get(text)
                    or behaviour.detection_errors_once.pop(text, None)
                    or self._item_fault()
                )
                if code:
                    errors.append({"Index": index, "ErrorCode": code, "ErrorMessage": code})
                else:
                    results.append(self._language(index, text))
            return 200, {"ResultList": results, "ErrorList": errors}
        if operation == "BatchDetectSentiment":
            results, errors = [], []
            for index, text in enumerate(texts):
                code = (
                    behaviour.item_errors.get(text)
                    or behaviour.item_errors_once.pop(text, None)
                    or self._item_fault()
                )
                if code:
                    errors.append({"Index": index, "ErrorCode": code, "ErrorMessage": code})
                else:
                    results.append(self._sentiment(index, text))
            return 200, {"ResultList": results, "ErrorList": errors}
        return 400, {"__type": "InvalidRequestException", "Message": operation}

    def _item_fault(self) -> str | None:
        rate = self.behaviour.item_error_rate
        if not rate:
            return None
        with self._lock:
            return self.behaviour.item_error_code if self._by_rate("item", rate) else None

    def _language(self, index: int, text: str) -> dict[str, Any]:
        code = self.behaviour.languages.get(text, "en")
        return {"Index": index, "Languages": [{"LanguageCode": code, "Score": 0.99}]}

    @staticmethod
    def _sentiment(index: int, text: str) -> dict[str, Any]:
        lowered = text.lower()
        if "good" in lowered or "great" in lowered:
            label, scores = "POSITIVE", (0.97, 0.01, 0.01, 0.01)
        elif "bad" in lowered or "awful" in lowered:
            label, scores = "NEGATIVE", (0.01, 0.97, 0.01, 0.01)
        else:
            label, scores = "NEUTRAL", (0.02, 0.02, 0.95, 0.01)
        positive, negative, neutral, mixed = scores
        score = {"Positive": positive, "Negative": negative, "Neutral": neutral, "Mixed": mixed}
        return {"Index": index, "Sentiment": label, "SentimentScore": score}

    @property
    def sentiment_calls(self) -> int:
        return self.calls["BatchDetectSentiment"]
