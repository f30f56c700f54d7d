"""PII detection and redaction: local pattern recognizers, and Amazon Comprehend.

The local recognizers need no model: each is a pattern plus a validator (Luhn for cards,
mod-97 for IBANs, the SSA's never-created ranges for SSNs, `ipaddress` for IPs). Entities use
Comprehend's type names and offsets (code points, end exclusive), so either detector's output
feeds the same `redact`. Scores: 1.0 when a checksum validated the match, lower when only
the shape did.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from graphql_api.domain.errors import AuraStreamError, ErrorCode


class PiiType(StrEnum):
    """The types the local detector finds; Comprehend's names (it finds more, e.g. NAME)."""

    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CREDIT_DEBIT_NUMBER = "CREDIT_DEBIT_NUMBER"
    SSN = "SSN"
    IP_ADDRESS = "IP_ADDRESS"
    URL = "URL"
    INTERNATIONAL_BANK_ACCOUNT_NUMBER = "INTERNATIONAL_BANK_ACCOUNT_NUMBER"


@dataclass(frozen=True, slots=True)
class PiiEntity:
    #: A PiiType value locally; any of Comprehend's type names from Comprehend.
    type: str
    begin_offset: int
    end_offset: int
    score: float


class PiiDetector(Protocol):
    async def detect(self, texts: Sequence[str], language: str) -> list[list[PiiEntity]]:
        """The entities of each text, in order, sorted by offset and not overlapping."""
        ...


class UnsupportedPiiLanguage(AuraStreamError):
    code = ErrorCode.UNSUPPORTED_LANGUAGE


# --- Scores -----------------------------------------------------------------------------------

CHECKSUM_SCORE = 1.0
STRUCTURED_SCORE = 0.9  # parsed and validated (email, IP address)
RANGE_SCORE = 0.85  # shape plus the numbering plan's rules (SSN, NANP phone numbers)
PATTERN_SCORE = 0.8  # shape only (URL, international phone numbers)

# --- Recognizers ------------------------------------------------------------------------------

# Unicode letters are allowed on both sides (internationalised addresses, RFC 6531).
_EMAIL = re.compile(
    r"(?<![\w.%+-])"
    r"[\w%+-]+(?:\.[\w%+-]+)*"
    r"@(?:[^\W_](?:[^\W_]|-){0,62}\.)+[^\W\d_]{2,63}"
    r"(?![\w-])"
)
_URL = re.compile(r"(?<![\w@./-])(?:(?:https?|ftp)://|www\.)[^\s<>\"'`{}|\\^]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?'\""
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4})(?![\w:])"
)
# US: (NXX) NXX-XXXX, NXX-NXX-XXXX, NXX.NXX.XXXX, NXX NXX XXXX, optionally +1 / 1- first.
_US_PHONE = re.compile(
    r"(?<![\w+#/.-])(?:\+?1[ .-]?)?"
    r"(?:\((?P<area1>\d{3})\)[ ]?|(?P<area2>\d{3})(?P<sep>[ .-]))"
    r"(?P<exchange>\d{3})[ .-]\d{4}(?![\w-]|\.\d)"
)
# International: +CC then digit groups separated by one space, dot or dash, or in parentheses.
# Linear time: each group is taken whole (atomic), so a long run of digits is one group and
# is never re-split into every combination of shorter ones when the match fails.
_INTL_PHONE = re.compile(
    r"(?<![\w+])\+[1-9]\d{0,2}(?>[ .-]?\(\d{1,4}\)|[ .-]?\d++){1,6}(?![\w-]|\.\d)"
)
_CARD = re.compile(
    r"(?<![\w-])(?:"
    r"\d{4}(?P<s1>[ -])\d{4}(?P=s1)\d{4}(?P=s1)\d{4}(?:(?P=s1)\d{3})?"  # 16 or 19 digits
    r"|\d{4}(?P<s2>[ -])\d{6}(?P=s2)\d{4,5}"  # Amex 15, Diners 14
    r"|\d{13,19}"
    r")(?![\w]|-\d)"
)
_SSN = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w]|-\d)")
_IBAN = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,8}(?: ?[A-Z0-9]{1,3})?(?![\w])")

#: Never assigned (SSA): area 000, 666, 900-999; group 00; serial 0000; and numbers
#: published in advertising.
_INVALID_SSNS = frozenset({"078051120", "219099999", "457555462"})
#: IBAN lengths by country (ISO 13616 registry).
IBAN_LENGTHS = {
    "AD": 24,
    "AE": 23,
    "AL": 28,
    "AT": 20,
    "AZ": 28,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BR": 29,
    "BY": 28,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IQ": 23,
    "IS": 26,
    "IT": 27,
    "JO": 30,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LC": 32,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NL": 18,
    "NO": 15,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "SA": 24,
    "SC": 31,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "ST": 25,
    "SV": 28,
    "TL": 23,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VA": 22,
    "VG": 24,
    "XK": 20,
}


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(compact: str) -> bool:
    """ISO 13616: the right length for the country and mod 97 of the rearranged number is 1."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def ssn_valid(area: str, group: str, serial: str) -> bool:
    if area in {"000", "666"} or area.startswith("9") or group == "00" or serial == "0000":
        return False
    number = area + group + serial
    return number not in _INVALID_SSNS and len(set(number)) > 1


def _emails(text: str) -> Iterator[PiiEntity]:
    for match in _EMAIL.finditer(text):
        yield PiiEntity(PiiType.EMAIL, match.start(), match.end(), STRUCTURED_SCORE)


def _urls(text: str) -> Iterator[PiiEntity]:
    for match in _URL.finditer(text):
        url = match.group()
        # Sentence punctuation and unbalanced closing brackets are not part of the URL.
        while url and (
            url[-1] in _URL_TRAILING
            or (url[-1] == ")" and url.count("(") < url.count(")"))
            or (url[-1] == "]" and url.count("[") < url.count("]"))
        ):
            url = url[:-1]
        if len(url) > len("www.") and "." in url.split("://", 1)[-1]:
            yield PiiEntity(PiiType.URL, match.start(), match.start() + len(url), PATTERN_SCORE)


def _ip_addresses(text: str) -> Iterator[PiiEntity]:
    for match in _IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        yield PiiEntity(PiiType.IP_ADDRESS, match.start(), match.end(), STRUCTURED_SCORE)
    for match in _IPV6.finditer(text):
        candidate = match.group()
        if sum(char not in ":." for char in candidate) < 2:
            continue  # "::" and the like are not worth reporting
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield PiiEntity(PiiType.IP_ADDRESS, match.start(), match.end(), STRUCTURED_SCORE)


def _phones(text: str) -> Iterator[PiiEntity]:
    for match in _US_PHONE.finditer(text):
        area = match.group("area1") or match.group("area2")
        # NANP: area code and exchange start with 2-9.
        if area[0] in "01" or match.group("exchange")[0] in "01":
            continue
        yield PiiEntity(PiiType.PHONE, match.start(), match.end(), RANGE_SCORE)
    for match in _INTL_PHONE.finditer(text):
        digits = sum(char.isdigit() for char in match.group())
        if 8 <= digits <= 15:  # E.164 allows at most 15 digits
            yield PiiEntity(PiiType.PHONE, match.start(), match.end(), PATTERN_SCORE)


def _cards(text: str) -> Iterator[PiiEntity]:
    for match in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        # Card networks start 2-6 (Mastercard 2-series, Amex/Diners/JCB, Visa, MC, Discover).
        if 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits):
            yield PiiEntity(PiiType.CREDIT_DEBIT_NUMBER, match.start(), match.end(), CHECKSUM_SCORE)


def _ssns(text: str) -> Iterator[PiiEntity]:
    for match in _SSN.finditer(text):
        if ssn_valid(match.group(1), match.group(3), match.group(4)):
            yield PiiEntity(PiiType.SSN, match.start(), match.end(), RANGE_SCORE)


def _ibans(text: str) -> Iterator[PiiEntity]:
    for match in _IBAN.finditer(text):
        candidate = match.group()
        length = IBAN_LENGTHS.get(candidate[:2])
        if length is None:
            continue
        # The pattern may run on into a following word; the country fixes where it ends.
        end, seen = match.start(), 0
        for offset, char in enumerate(candidate):
            if char != " ":
                seen += 1
                if seen == length:
                    end = match.start() + offset + 1
                    break
        if seen == length and iban_valid(candidate.replace(" ", "")[:length]):
            yield PiiEntity(
                PiiType.INTERNATIONAL_BANK_ACCOUNT_NUMBER, match.start(), end, CHECKSUM_SCORE
            )


RECOGNIZERS: tuple[Callable[[str], Iterator[PiiEntity]], ...] = (
    _emails,
    _urls,
    _ip_addresses,
    _phones,
    _cards,
    _ssns,
    _ibans,
)


def resolve_overlaps(entities: Iterable[PiiEntity]) -> list[PiiEntity]:
    """Keep the longest (then highest-scoring, then earliest) of overlapping entities,
    sorted by offset: an email's domain is not also a URL."""
    ranked = sorted(
        entities, key=lambda e: (-(e.end_offset - e.begin_offset), -e.score, e.begin_offset)
    )
    kept: list[PiiEntity] = []
    for entity in ranked:
        if all(
            entity.end_offset <= other.begin_offset or entity.begin_offset >= other.end_offset
            for other in kept
        ):
            kept.append(entity)
    return sorted(kept, key=lambda e: e.begin_offset)


def find_pii(text: str) -> list[PiiEntity]:
    """Every recognizer over one text, overlaps resolved."""
    return resolve_overlaps(entity for recognizer in RECOGNIZERS for entity in recognizer(text))


def redact(text: str, entities: Iterable[PiiEntity]) -> str:
    """The text with each entity replaced by `[TYPE]`; overlapping entities are resolved
    first."""
    pieces: list[str] = []
    cursor = 0
    for entity in resolve_overlaps(entities):
        pieces.append(text[cursor : entity.begin_offset])
        pieces.append(f"[{entity.type}]")
        cursor = entity.end_offset
    pieces.append(text[cursor:])
    return "".join(pieces)


# --- Detectors --------------------------------------------------------------------------------


class LocalPiiDetector:
    """The pattern recognizers; language-independent, in process, no model download."""

    identity = "aurastream-patterns-1"

    async def detect(self, texts: Sequence[str], language: str) -> list[list[PiiEntity]]:
        # Pattern matching is CPU work: in a thread, the event loop keeps answering.
        return await asyncio.to_thread(lambda: [find_pii(text) for text in texts])


class ComprehendPiiDetector:
    """Amazon Comprehend's DetectPiiEntities: English and Spanish, one call per document
    (there is no batch operation), run concurrently up to `max_concurrency`.

    Other languages go to `fallback` if one is given, else raise UnsupportedPiiLanguage.
    """

    identity = "comprehend-pii-2017-11-27"
    languages = frozenset({"en", "es"})

    def __init__(
        self,
        client: Callable[[], Any],
        *,
        fallback: PiiDetector | None = None,
        max_concurrency: int = 8,
        budget_seconds: float | None = None,
    ) -> None:
        self._client = client
        self.fallback = fallback
        self.max_concurrency = max_concurrency
        self.budget_seconds = budget_seconds

    async def detect(self, texts: Sequence[str], language: str) -> list[list[PiiEntity]]:
        if language not in self.languages:
            if self.fallback is not None:
                return await self.fallback.detect(texts, language)
            raise UnsupportedPiiLanguage(
                f"Comprehend detects PII in English and Spanish only, not '{language}'."
            )
        gate = asyncio.Semaphore(self.max_concurrency)

        async def one(text: str) -> list[PiiEntity]:
            if not text.strip():
                return []  # Comprehend refuses empty text
            async with gate:
                call = asyncio.to_thread(
                    self._client().detect_pii_entities, Text=text, LanguageCode=language
                )
                response: dict[str, Any] = await asyncio.wait_for(call, self.budget_seconds)
            return entities_from_comprehend(response)

        return list(await asyncio.gather(*(one(text) for text in texts)))


def entities_from_comprehend(response: dict[str, Any]) -> list[PiiEntity]:
    """DetectPiiEntities' `Entities`, as PiiEntity, sorted by offset."""
    entities = [
        PiiEntity(
            str(item["Type"]),
            int(item["BeginOffset"]),
            int(item["EndOffset"]),
            float(item.get("Score", 0.0)),
        )
        for item in response.get("Entities", [])
    ]
    return sorted(entities, key=lambda e: (e.begin_offset, e.end_offset))
