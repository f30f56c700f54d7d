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
