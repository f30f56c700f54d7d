"""Personal data in documents: detected per language batch, redacted on request."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from graphql_api.privacy import PiiDetector, PiiEntity, redact


class PiiMode(StrEnum):
    OFF = "OFF"
    DETECT = "DETECT"
    REDACT = "REDACT"


@dataclass(frozen=True, slots=True)
class PiiFindings:
    entities: tuple[PiiEntity, ...]
    #: The text with each entity replaced by `[TYPE]`; only in REDACT mode.
    redacted_text: str | None = None


async def find_personal_data(
    detector: PiiDetector, texts: Sequence[str], languages: Sequence[str], mode: PiiMode
) -> list[PiiFindings | None]:
    """Findings per text (None when `mode` is OFF), one detector call per language.

    Offsets index the text exactly as the caller sent it.
    """
    if mode is PiiMode.OFF:
        return [None] * len(texts)
    by_language: defaultdict[str, list[int]] = defaultdict(list)
    for index, language in enumerate(languages):
        by_language[language].append(index)
    entities: list[list[PiiEntity]] = [[] for _ in texts]
    for language, indexes in by_language.items():
        found = await detector.detect([texts[i] for i in indexes], language)
        for index, items in zip(indexes, found, strict=True):
            entities[index] = items
    return [
        PiiFindings(tuple(items), redact(text, items) if mode is PiiMode.REDACT else None)
        for text, items in zip(texts, entities, strict=True)
    ]
