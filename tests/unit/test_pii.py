"""PII recognizers on a corpus with exact offsets, validators, redaction, and the Comprehend
detector's response mapping (botocore's Stubber: DetectPiiEntities has no batch form)."""

import json
import threading
import time
from pathlib import Path

import botocore.session
import pytest
from botocore.stub import Stubber

from graphql_api.domain.errors import AuraStreamError, ErrorCode
from graphql_api.privacy import (
    ComprehendPiiDetector,
    LocalPiiDetector,
    PiiEntity,
    PiiType,
    UnsupportedPiiLanguage,
    find_pii,
    redact,
)
from graphql_api.privacy.pii import iban_valid, luhn_valid, resolve_overlaps, ssn_valid

CORPUS = [
    json.loads(line)
    for line in (Path(__file__).parent.parent / "data" / "pii_corpus.jsonl")
    .read_text()
    .splitlines()
    if line.strip()
]


def _spans(text: str, entities: list[PiiEntity]) -> list[tuple[str, str, int, int]]:
    return [(e.type, text[e.begin_offset : e.end_offset], e.begin_offset, e.end_offset)
            for e in entities]  # fmt: skip


@pytest.mark.parametrize("case", CORPUS, ids=[case["text"][:40] for case in CORPUS])
def test_the_corpus_entities_are_found_with_exact_offsets(case):
    expected = [(e["type"], e["text"], e["begin"], e["end"]) for e in case["entities"]]

    assert _spans(case["text"], find_pii(case["text"])) == expected


def test_the_corpus_is_consistent_and_has_positives_and_negatives():
    for case in CORPUS:
        for entity in case["entities"]:
            assert case["text"][entity["begin"] : entity["end"]] == entity["text"]
    negatives = [case for case in CORPUS if not case["entities"]]
    kinds = {entity["type"] for case in CORPUS for entity in case["entities"]}
    assert len(CORPUS) >= 30
    assert len(negatives) >= 8
    assert kinds == {t.value for t in PiiType}


@pytest.mark.parametrize("case", CORPUS, ids=[case["text"][:40] for case in CORPUS])
def test_redacted_corpus_texts_contain_no_detectable_pii(case):
    redacted = redact(case["text"], find_pii(case["text"]))

    assert find_pii(redacted) == []
    for entity in case["entities"]:
        assert entity["text"] not in redacted
        assert f"[{entity['type']}]" in redacted


def test_redaction_replaces_each_entity_with_its_type():
    text = "Mail jane@example.com or call (212) 555-0187."

    assert redact(text, find_pii(text)) == "Mail [EMAIL] or call [PHONE]."


def test_redaction_keeps_text_without_entities_and_resolves_overlaps():
    text = "abcdefghij"
    overlapping = [PiiEntity("NAME", 0, 4, 0.9), PiiEntity("ADDRESS", 2, 8, 0.9)]

    assert redact(text, []) == text
    assert redact(text, overlapping) == "ab[ADDRESS]ij"


@pytest.mark.parametrize(
    ("entities", "kept"),
    [
        # Longer wins.
        ([("URL", 4, 20, 0.8), ("EMAIL", 0, 20, 0.9)], [("EMAIL", 0, 20)]),
        ([("IP_ADDRESS", 7, 18, 0.9), ("URL", 0, 24, 0.8)], [("URL", 0, 24)]),
        # Same span: higher score wins.
        ([("PHONE", 0, 14, 0.8), ("PHONE", 0, 14, 0.85)], [("PHONE", 0, 14)]),
        # Disjoint and touching entities are all kept, in order.
        ([("SSN", 10, 21, 0.85), ("EMAIL", 0, 10, 0.9)], [("EMAIL", 0, 10), ("SSN", 10, 21)]),
    ],
)
def test_overlapping_entities_resolve_to_the_longest_then_highest_scoring(entities, kept):
    resolved = resolve_overlaps(PiiEntity(*entity) for entity in entities)

    assert [(e.type, e.begin_offset, e.end_offset) for e in resolved] == kept


def test_an_email_domain_is_not_also_reported_as_a_url():
    text = "bob@www.example.com"

    assert _spans(text, find_pii(text)) == [("EMAIL", text, 0, len(text))]


def test_offsets_count_code_points_like_comprehend():
    text = "😀 ünïcode first, then ana@example.es"

    (entity,) = find_pii(text)

    assert (entity.begin_offset, entity.end_offset) == (22, 36)  # UTF-16 would say 23
    assert text[entity.begin_offset : entity.end_offset] == "ana@example.es"


@pytest.mark.parametrize(
    ("text", "kind", "score"),
    [
        ("4111 1111 1111 1111", PiiType.CREDIT_DEBIT_NUMBER, 1.0),
        ("DE89 3704 0044 0532 0130 00", PiiType.INTERNATIONAL_BANK_ACCOUNT_NUMBER, 1.0),
        ("jane@example.com", PiiType.EMAIL, 0.9),
        ("https://example.com", PiiType.URL, 0.8),
    ],
)
def test_checksum_validated_matches_score_higher_than_pattern_only_ones(text, kind, score):
    (entity,) = find_pii(text)

    assert (entity.type, entity.score) == (kind, score)


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),
        ("5555555555554444", True),
        ("378282246310005", True),
        ("4111111111111112", False),
        ("1234567812345678", False),
    ],
)
def test_luhn_check(digits, valid):
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("DE89370400440532013000", True),
        ("GB82WEST12345698765432", True),
        ("NL91ABNA0417164300", True),
        ("DE00370400440532013000", False),  # checksum
        ("DE8937040044053201300", False),  # length for DE
        ("ZZ89370400440532013000", False),  # no such country
    ],
)
def test_iban_check(iban, valid):
    assert iban_valid(iban) is valid


@pytest.mark.parametrize(
    ("ssn", "valid"),
    [
        ("536-22-8451", True),
        ("000-22-8451", False),
        ("666-22-8451", False),
        ("912-22-8451", False),
        ("536-00-8451", False),
        ("536-22-0000", False),
        ("078-05-1120", False),
        ("111-11-1111", False),
    ],
)
def test_ssn_never_assigned_ranges_are_excluded(ssn, valid):
    assert ssn_valid(*ssn.split("-")) is valid


async def test_the_local_detector_answers_each_text_in_order():
    texts = ["no pii here", "mail a@example.com", ""]

    found = await LocalPiiDetector().detect(texts, "fr")

    assert [[e.type for e in entities] for entities in found] == [[], [PiiType.EMAIL], []]


# --- Comprehend --------------------------------------------------------------------------------


def _stubbed_comprehend() -> tuple[object, Stubber]:
    client = botocore.session.get_session().create_client(
        "comprehend",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return client, Stubber(client)


async def test_comprehend_entities_are_mapped_one_call_per_document():
    client, stubber = _stubbed_comprehend()
    stubber.add_response(
        "detect_pii_entities",
        {
            "Entities": [
                {"Score": 0.99, "Type": "EMAIL", "BeginOffset": 14, "EndOffset": 30},
                {"Score": 0.97, "Type": "NAME", "BeginOffset": 0, "EndOffset": 4},
            ]
        },
        {"Text": "Jane's mail:  jane@example.com", "LanguageCode": "en"},
    )
    stubber.add_response(
        "detect_pii_entities",
        {"Entities": []},
        {"Text": "nothing", "LanguageCode": "en"},
    )
    detector = ComprehendPiiDetector(lambda: client, max_concurrency=1)

    with stubber:
        found = await detector.detect(["Jane's mail:  jane@example.com", "", "nothing"], "en")

    stubber.assert_no_pending_responses()  # two calls: the empty text needs none
    assert found == [
        [PiiEntity("NAME", 0, 4, 0.97), PiiEntity("EMAIL", 14, 30, 0.99)],
        [],
        [],
    ]


async def test_comprehend_accepts_spanish():
    client, stubber = _stubbed_comprehend()
    stubber.add_response(
        "detect_pii_entities",
        {"Entities": [{"Score": 0.9, "Type": "PHONE", "BeginOffset": 11, "EndOffset": 26}]},
        {"Text": "Llámame al +34 912 345 678", "LanguageCode": "es"},
    )

    with stubber:
        found = await ComprehendPiiDetector(lambda: client).detect(
            ["Llámame al +34 912 345 678"], "es"
        )

    assert found == [[PiiEntity("PHONE", 11, 26, 0.9)]]


async def test_comprehend_refuses_other_languages_without_calling():
    client, stubber = _stubbed_comprehend()

    with stubber, pytest.raises(UnsupportedPiiLanguage) as raised:
        await ComprehendPiiDetector(lambda: client).detect(["Bonjour a@b.fr"], "fr")

    assert isinstance(raised.value, AuraStreamError)
    assert raised.value.code == ErrorCode.UNSUPPORTED_LANGUAGE


async def test_comprehend_hands_other_languages_to_the_fallback():
    client, stubber = _stubbed_comprehend()
    detector = ComprehendPiiDetector(lambda: client, fallback=LocalPiiDetector())

    with stubber:
        (entities,) = await detector.detect(["Schreib an anna@beispiel.de"], "de")

    assert [e.type for e in entities] == [PiiType.EMAIL]


#: Shapes that make backtracking patterns take exponential or quadratic time.
HOSTILE_TEXTS = {
    "plus-one-then-38-digits": "+1" + "2" * 38,
    "digits": "1" * 5_000,
    "digits-and-spaces": "1 " * 2_500,
    "plus-groups": "+1 " + "12 " * 1_600,
    "dots": "a." * 2_500,
    "ats": "a@" * 2_500,
    "email-with-no-tld": "a" * 64 + "@" + "b." * 2_000,
    "colons": "ab:" * 1_600,
    "iban-groups": "DE12" + " 1234" * 900,
    "long-url": "http://" + "a" * 5_000,
    "parentheses": "+1(1)" * 1_000,
}


@pytest.mark.parametrize("name", HOSTILE_TEXTS)
def test_every_recognizer_runs_in_linear_time_on_hostile_text(name):
    text = HOSTILE_TEXTS[name]

    started = time.perf_counter()
    find_pii(text)

    assert time.perf_counter() - started < 0.05


async def test_local_detection_runs_off_the_event_loop(monkeypatch):
    threads = []

    def recording(text):
        threads.append(threading.get_ident())
        return []

    monkeypatch.setattr("graphql_api.privacy.pii.find_pii", recording)

    await LocalPiiDetector().detect(["a", "b"], "en")

    assert len(threads) == 2
    assert threading.get_ident() not in threads
