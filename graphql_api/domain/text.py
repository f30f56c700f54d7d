"""Text normalisation and cache keys.

Normalisation must never change what an engine would answer, so it only applies
Unicode NFC and folds runs of whitespace; case and punctuation are kept because
VADER (and the model) read them ("GREAT!!!" scores higher than "great").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
#: NUL and lone UTF-16 surrogates: valid in a JSON string, but no UTF-8 text can hold a
#: surrogate, and NUL ends strings in C libraries, file names and some stores.
_UNREPRESENTABLE = re.compile("[\x00\ud800-\udfff]")


def is_clean(value: str) -> bool:
    """True when `value` is text every store and engine can hold (no NUL, no lone surrogate)."""
    return _UNREPRESENTABLE.search(value) is None


def normalise(text: str) -> str:
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def text_hash(normalised_text: str) -> str:
    """SHA-256 of the normalised text: what the API reports as `textHash`."""
    return hashlib.sha256(normalised_text.encode("utf-8")).hexdigest()


def cache_key(text_digest: str, requested_language: str | None, engine_identity: str) -> str:
    """Key of one analysis: the text, the language asked for ("auto" when detected) and the engine.

    Keying on the *requested* language lets a repeated request without a language hit the
    cache without paying for language detection again.
    """
    material = f"{text_digest}\x1f{requested_language or 'auto'}\x1f{engine_identity}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
