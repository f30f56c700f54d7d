"""Offline language detection with py3langid, whose model ships inside the package."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

# Restricting the candidates to widely used languages makes short texts far less
# likely to be mistaken for a rare language ("terrible" is otherwise Basque).
CANDIDATE_LANGUAGES = (
    "ar",
    "bg",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fa",
    "fi",
    "fr",
    "he",
    "hi",
    "hr",
    "hu",
    "id",
    "it",
    "ja",
    "ko",
    "lt",
    "lv",
    "ms",
    "nl",
    "no",
    "pl",
    "pt",
    "ro",
    "ru",
    "sk",
    "sl",
    "sr",
    "sv",
    "th",
    "tl",
    "tr",
    "uk",
    "ur",
    "vi",
    "zh",
)


class LanguageDetector:
    """Detects the dominant language; below `min_confidence` it answers `default`."""

    def __init__(self, default: str = "en", min_confidence: float = 0.5) -> None:
        self.default = default
        self.min_confidence = min_confidence

    @cached_property
    def _identifier(self) -> Any:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages(CANDIDATE_LANGUAGES)
        return identifier

    def detect(self, text: str) -> str:
        language, confidence = self._identifier.classify(text)
        if confidence < self.min_confidence:
            return self.default
        return _traditional_chinese(text) if language == "zh" else str(language)

    def __call__(self, texts: Sequence[str]) -> list[str]:
        return [self.detect(text) for text in texts]


# Characters that exist only in Traditional Chinese, enough to tell zh-TW from zh.
_TRADITIONAL_ONLY = set("這個們來說時會還對點過發們國學應當體開關與實經進長當無於")


def _traditional_chinese(text: str) -> str:
    return "zh-TW" if any(ch in _TRADITIONAL_ONLY for ch in text) else "zh"
