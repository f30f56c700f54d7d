"""The embedded English sentiment model: fine-tuned MiniLM-L6, int8 ONNX, on the CPU.

The artifact directory (`model/` beside this file by default) holds `model.onnx`,
`tokenizer.json`, `config.json` (temperature and thresholds) and `SHA256SUMS`; every
file listed there is verified before the model is used. `training/train.py` writes it
and MODEL_CARD.md describes it.

How a document is scored:

* It is split into sentences (a regular expression; offsets index the text as given).
* The model is binary. Its margin (positive minus negative logit), divided by the
  temperature fitted on validation data, gives a calibrated P(positive).
* A document that fits the model's window (256 word pieces) is read whole. A longer
  one is cut into windows of whole sentences; the window margins are averaged, weighted
  by their length in word pieces. Nothing is truncated.
* NEUTRAL takes the probability mass of predictions less confident than
  `neutral_confidence`, where validation predictions were hardly better than chance.
* MIXED is the balance between sentences that are clearly positive and sentences that
  are clearly negative (at least `polar_confidence`, where validation predictions were
  right 95% of the time), weighted by their length.
* Sentence results are always included: a one-sentence document has one.

How it uses the CPU: onnxruntime runs each inference on one thread, and the engine
spreads its inference batches over a pool of `threads` workers (one per core by
default). On short texts that data parallelism beats splitting each small matrix
product across cores, concurrent callers run side by side, and no onnxruntime thread
pool spins between calls while the event loop needs the CPU. A call with one short text
makes a single trip to a worker; a larger one is planned, its shards run and its results
scored in separate trips, so that the shards run side by side.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from graphql_api.domain.errors import ErrorCode
from graphql_api.domain.results import (
    Analysis,
    DocumentFailure,
    EngineOutcome,
    Scores,
    SentenceResult,
)

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "model"
IDENTITY_PREFIX = "minilm-sst-onnx"

# Inference batches: at most this many sequences and this many padded word pieces. Attention
# memory grows with the square of the length, so long windows go two at a time: 25 long
# reviews then peak at ~175 MB resident instead of ~470 MB at 4,096, and run no slower.
_MAX_BATCH_SEQUENCES = 64
_MAX_BATCH_TOKENS = 512
# One text up to this long (in characters; about one window of word pieces) is planned,
# run and scored in a single trip to a worker: splitting it would gain little, and each
# trip between the event loop and a worker costs a fraction of a millisecond.
_ONE_TRIP_CHARS = 1000


class ModelIntegrityError(RuntimeError):
    """The model artifact is missing a file or a file does not match SHA256SUMS."""


# ------------------------------------------------------------------- sentences

# A sentence ends at . ! ? or an ellipsis (plus closing quotes/brackets) followed by
# whitespace, or at a line break.
_BOUNDARY = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s)|\n")
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "a.m",
        "p.m", "no", "vol", "fig", "approx", "dept", "inc", "ltd", "co", "jan", "feb", "mar",
        "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k",
    }
)  # fmt: skip
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(begin, end) character offsets of each sentence, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if match.group() != "\n":
            word = _WORD_BEFORE.search(text, max(start, end - 12), match.start() + 1)
            if (
                word
                and match.group().startswith(".")
                and (word.group(1).lower() in _ABBREVIATIONS or len(word.group(1)) == 1)
            ):
                continue  # "Dr. Who", "J. Smith", "the U.S. remake"
            following = text[end:].lstrip()[:1]
            if following and following.islower():
                continue  # "wait... what"
        _add_span(text, start, end, spans)
        start = end
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, begin: int, end: int, spans: list[tuple[int, int]]) -> None:
    while begin < end and text[begin].isspace():
        begin += 1
    while end > begin and text[end - 1].isspace():
        end -= 1
    if end > begin:
        spans.append((begin, end))


# ------------------------------------------------------------------ calibration


@dataclass(frozen=True, slots=True)
class Calibration:
    temperature: float
    neutral_confidence: float
    polar_confidence: float

    @property
    def _neutral_zero(self) -> float:
        # NEUTRAL falls linearly from 1 at confidence 0.5 to 0 here, chosen so that it
        # stops being the top label exactly at `neutral_confidence`.
        t = self.neutral_confidence
        return t * (0.5 + t)

    def probability(self, margin: float) -> float:
        import numpy as np  # here, not at import: a Lambda that never falls back never pays

        return float(1.0 / (1.0 + np.exp(-margin / self.temperature)))

    def neutral(self, p: float) -> float:
        confidence = max(p, 1.0 - p)
        zero = self._neutral_zero
        return min(1.0, max(0.0, (zero - confidence) / (zero - 0.5)))

    def polarity_strength(self, p: float) -> tuple[float, float]:
        """How clearly (0..1) a sentence is positive and negative."""
        lo, hi = self._neutral_zero, self.polar_confidence
        span = max(hi - lo, 1e-6)
        return (
            min(1.0, max(0.0, (p - lo) / span)),
            min(1.0, max(0.0, (1.0 - p - lo) / span)),
        )

    def scores(self, p: float, mixed: float = 0.0) -> Scores:
        u = self.neutral(p)
        rest = 1.0 - mixed
        return Scores.normalised(p * (1 - u) * rest, (1 - p) * (1 - u) * rest, u * rest, mixed)


# ----------------------------------------------------------------------- engine


@dataclass(frozen=True, slots=True)
class _Model:
    session: Any
    tokenizer: Any
    calibration: Calibration
    window: int  # word pieces per window, [CLS] and [SEP] excluded
    cls_id: int
    sep_id: int
    pad_id: int


class OnnxSentimentEngine:
    """English only; other languages get UNSUPPORTED_LANGUAGE (route them elsewhere)."""

    max_batch_size = 25
    supported_languages = frozenset({"en"})

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        language_detector: Callable[[Sequence[str]], list[str]] | None = None,
        threads: int | None = None,
    ) -> None:
        self._dir = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
        self._detect = language_detector
        self._threads = threads or min(2, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="aurastream-model")
        self._expected = _read_sums(self._dir)
        if "model.onnx" not in self._expected:
            raise ModelIntegrityError(f"{self._dir}/SHA256SUMS does not list model.onnx")
        self.identity = f"{IDENTITY_PREFIX}-{self._expected['model.onnx'][:8]}"
        self._lock = threading.Lock()
        self._loaded: _Model | None = None

    # -- loading

    def load(self) -> None:
        """Verify and load the artifact now rather than on the first call."""
        self._load()

    def _load(self) -> _Model:
        if self._loaded is not None:
            return self._loaded
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load_verified()
        return self._loaded

    def _load_verified(self) -> _Model:
        blobs: dict[str, bytes] = {}
        for name, digest in self._expected.items():
            try:
                blob = (self._dir / name).read_bytes()
            except OSError as exc:
                raise ModelIntegrityError(f"model file {name} is unreadable: {exc}") from exc
            if hashlib.sha256(blob).hexdigest() != digest:
                raise ModelIntegrityError(f"model file {name} does not match SHA256SUMS")
            blobs[name] = blob
        for required in ("tokenizer.json", "config.json"):
            if required not in blobs:
                raise ModelIntegrityError(f"SHA256SUMS does not list {required}")

        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = json.loads(blobs["config.json"])
        cal = config["calibration"]
        calibration = Calibration(
            float(cal["temperature"]),
            float(cal["neutral_confidence"]),
            float(cal["polar_confidence"]),
        )
        tokenizer = Tokenizer.from_str(blobs["tokenizer.json"].decode("utf-8"))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # parallel across batches instead; see the top
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(
            blobs["model.onnx"], options, providers=["CPUExecutionProvider"]
        )
        return _Model(
            session,
            tokenizer,
            calibration,
            int(config["max_length"]) - 2,
            int(config["cls_id"]),
            int(config["sep_id"]),
            int(config["pad_id"]),
        )

    # -- the SentimentEngine port

    async def detect_languages(self, texts: Sequence[str]) -> list[str]:
        if self._detect is None:
            return ["en"] * len(texts)
        return self._detect(texts)

    async def analyze_batch(self, texts: Sequence[str], language: str) -> list[EngineOutcome]:
        if language not in self.supported_languages:
            failure = DocumentFailure(
                ErrorCode.UNSUPPORTED_LANGUAGE.value,
                f"The embedded model reads English only, not '{language}'.",
            )
            return [failure] * len(texts)
        loop = asyncio.get_running_loop()
        model = self._loaded
        if model is None:  # the first call verifies and loads the artifact
            model = await loop.run_in_executor(self._pool, self._load)
        if len(texts) == 1 and len(texts[0]) <= _ONE_TRIP_CHARS:
            return await loop.run_in_executor(self._pool, self._score, model, texts, language)
        # Tokenising and scoring a long text takes milliseconds: off the event loop too.
        plan = await loop.run_in_executor(self._pool, _Plan, model, list(texts))
        shards = plan.shards(self._threads)
        results = await asyncio.gather(
            *(loop.run_in_executor(self._pool, _run, model, plan.windows, s) for s in shards)
        )
        margins = plan.margins(shards, results)
        return await loop.run_in_executor(self._pool, self._outcomes, plan, margins, language)

    def predict(self, texts: Sequence[str], language: str = "en") -> list[EngineOutcome]:
        """Synchronous scoring, for benchmarks and offline evaluation."""
        return self._score(self._load(), texts, language, self._threads, self._pool.map)

    def _score(
        self,
        model: _Model,
        texts: Sequence[str],
        language: str,
        shards: int = 1,
        mapper: Callable[..., Any] = map,
    ) -> list[EngineOutcome]:
        """Plan, run and score `texts` in `shards` shards run through `mapper`. The defaults
        run everything on the calling thread, as a worker does for one short text."""
        plan = _Plan(model, list(texts))
        parts = plan.shards(shards)
        results = mapper(lambda part: _run(model, plan.windows, part), parts)
        return self._outcomes(plan, plan.margins(parts, list(results)), language)

    def close(self) -> None:
        """Stop the inference workers (the engine cannot be used afterwards)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- scoring

    def _outcomes(self, plan: _Plan, margins: np.ndarray, language: str) -> list[EngineOutcome]:
        outcomes: list[EngineOutcome] = []
        for text, doc, (doc_refs, sent_refs) in zip(plan.texts, plan.spans, plan.refs, strict=True):
            if not doc:
                outcomes.append(
                    DocumentFailure(ErrorCode.EMPTY_TEXT.value, "The text has no words to score.")
                )
                continue
            outcomes.append(
                self._document(text, doc, doc_refs, sent_refs, margins, plan.calibration, language)
            )
        return outcomes

    def _document(
        self,
        text: str,
        doc: list[tuple[int, int]],
        doc_refs: list[_Ref],
        sent_refs: list[list[_Ref]],
        margins: np.ndarray,
        calibration: Calibration,
        language: str,
    ) -> Analysis:
        import numpy as np

        sentence_p = [calibration.probability(_weighted(refs, margins)) for refs in sent_refs]
        mixed = 0.0
        if len(doc) > 1:
            weights = np.array([max(1, sum(n for _, n in refs)) for refs in sent_refs], float)
            weights /= weights.sum()
            strengths = np.array([calibration.polarity_strength(p) for p in sentence_p])
            positive, negative = weights @ strengths
            mixed = float(2.0 * min(positive, negative))
        doc_p = calibration.probability(_weighted(doc_refs, margins))
        scores = calibration.scores(doc_p, mixed)
        sentences = []
        for (begin, end), p in zip(doc, sentence_p, strict=True):
            s = calibration.scores(p)
            sentences.append(SentenceResult(begin, end, s.top(), s))
        return Analysis(scores.top(), scores, language, self.identity, tuple(sentences))


_Ref = tuple[int, int]  # (window index, word pieces in the window)


class _Plan:
    """What to run for a list of texts: each distinct window once, and per document and
    per sentence the windows that score it."""

    def __init__(self, model: _Model, texts: list[str]) -> None:
        self.texts = texts
        self.calibration = model.calibration
        self.spans = [split_sentences(text) for text in texts]
        flat = [text[b:e] for text, doc in zip(texts, self.spans, strict=True) for b, e in doc]
        encoded = model.tokenizer.encode_batch(flat, add_special_tokens=False) if flat else []
        pieces = [enc.ids for enc in encoded]
        index: dict[tuple[int, ...], int] = {}

        def windows_of(ids_per_sentence: list[list[int]]) -> list[_Ref]:
            return [
                (index.setdefault(tuple(w), len(index)), len(w))
                for w in _pack(ids_per_sentence, model.window)
            ]

        self.refs: list[tuple[list[_Ref], list[list[_Ref]]]] = []
        cursor = 0
        for doc in self.spans:
            sentence_ids = pieces[cursor : cursor + len(doc)]
            cursor += len(doc)
            doc_refs = windows_of(sentence_ids)
            sent_refs = [windows_of([ids]) for ids in sentence_ids] if len(doc) > 1 else [doc_refs]
            self.refs.append((doc_refs, sent_refs))
        self.windows = list(index)

    def shards(self, count: int) -> list[list[int]]:
        """Window indices in at most `count` shards of about equal cost, to run in parallel:
        sorted by length and dealt round-robin."""
        order = sorted(range(len(self.windows)), key=lambda i: len(self.windows[i]))
        count = min(count, len(order))
        return [order[k::count] for k in range(count)]

    def margins(self, shards: list[list[int]], results: list[np.ndarray]) -> np.ndarray:
        """Each window's margin, put together from the shards' results."""
        import numpy as np

        margins = np.zeros(len(self.windows), dtype=np.float64)
        for shard, values in zip(shards, results, strict=True):
            margins[shard] = values
        return margins


def _run(model: _Model, windows: list[tuple[int, ...]], indices: list[int]) -> np.ndarray:
    """Positive-minus-negative logit of `windows[i]` for each i in `indices` (sorted by
    length), run in batches of at most `_MAX_BATCH_SEQUENCES` and `_MAX_BATCH_TOKENS`."""
    import numpy as np

    margins = np.zeros(len(indices), dtype=np.float64)
    start = 0
    while start < len(indices):
        stop = start + 1
        while stop < len(indices) and stop - start < _MAX_BATCH_SEQUENCES:
            longest = len(windows[indices[stop]]) + 2
            if longest * (stop - start + 1) > _MAX_BATCH_TOKENS:
                break
            stop += 1
        batch = [windows[i] for i in indices[start:stop]]
        width = max(len(w) for w in batch) + 2
        ids = np.full((len(batch), width), model.pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, w in enumerate(batch):
            ids[row, 0] = model.cls_id
            ids[row, 1 : len(w) + 1] = w
            ids[row, len(w) + 1] = model.sep_id
            mask[row, : len(w) + 2] = 1
        logits = model.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        margins[start:stop] = logits[:, 1] - logits[:, 0]
        start = stop
    return margins


def _pack(ids_per_sentence: list[list[int]], window: int) -> list[list[int]]:
    """Whole sentences packed into windows of at most `window` word pieces.

    A text that fits is one window; a sentence longer than a window is cut into pieces.
    """
    if sum(len(ids) for ids in ids_per_sentence) <= window:
        joined = [i for ids in ids_per_sentence for i in ids]
        return [joined] if joined else []
    out: list[list[int]] = []
    current: list[int] = []
    for ids in ids_per_sentence:
        for start in range(0, len(ids), window):
            piece = ids[start : start + window]
            if current and len(current) + len(piece) > window:
                out.append(current)
                current = []
            current = current + piece
    if current:
        out.append(current)
    return out


def _weighted(refs: list[tuple[int, int]], margins: np.ndarray) -> float:
    """Length-weighted mean margin of a text's windows (0, i.e. undecided, if none)."""
    total = sum(n for _, n in refs)
    if not total:
        return 0.0
    return float(sum(margins[i] * n for i, n in refs) / total)


def _read_sums(model_dir: Path) -> dict[str, str]:
    try:
        lines = (model_dir / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ModelIntegrityError(f"no SHA256SUMS in {model_dir}: {exc}") from exc
    sums = {}
    for line in lines:
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip().lstrip("*")] = digest.lower()
    return sums
