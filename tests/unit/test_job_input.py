import pytest

from graphql_api.domain.errors import ErrorCode, SourceUnreadable
from graphql_api.domain.job_input import parse_documents
from graphql_api.domain.jobs import JobSource, SourceFormat


def test_json_lines_with_ids_and_languages():
    data = b'{"id": "a", "text": "good", "languageCode": "en"}\n\n{"text": "bad"}\n'

    documents = parse_documents(data, JobSource(format=SourceFormat.JSONL))

    assert [(d.index, d.id, d.text, d.language) for d in documents] == [
        (0, "a", "good", "en"),
        (1, None, "bad", None),
    ]


def test_a_malformed_json_line_fails_alone():
    data = b'{"text": "good"}\nnot json\n{"text": 3}\n{"text": "fine"}\n'

    documents = parse_documents(data, JobSource())

    failures = [d.failure.code if d.failure else None for d in documents]
    assert failures == [None, ErrorCode.MALFORMED_RECORD, ErrorCode.MALFORMED_RECORD, None]
    assert documents[3].index == 3


def test_csv_reads_the_named_text_column_and_a_bad_line_fails_alone():
    data = b'review_id,body,stars\nr1,"Great, really great",5\nr2,too,many,fields\nr3,Awful,1\n'
    source = JobSource(format=SourceFormat.CSV, text_column="body", id_column="review_id")

    documents = parse_documents(data, source)

    assert [(d.id, d.text) for d in documents if not d.failure] == [
        ("r1", "Great, really great"),
        ("r3", "Awful"),
    ]
    assert documents[1].failure is not None
    assert documents[1].failure.code == ErrorCode.MALFORMED_RECORD


def test_csv_without_the_text_column_is_unreadable():
    with pytest.raises(SourceUnreadable, match="no 'text' column"):
        parse_documents(b"a,b\n1,2\n", JobSource(format=SourceFormat.CSV))


def test_plain_text_is_one_document_per_non_empty_line():
    documents = parse_documents(
        "good\n\n  \nbad\r\nçà va\n".encode(), JobSource(format=SourceFormat.TEXT)
    )

    assert [d.text for d in documents] == ["good", "bad", "çà va"]


def test_bytes_that_are_not_utf8_are_unreadable():
    with pytest.raises(SourceUnreadable, match="not UTF-8"):
        parse_documents(b"\xff\xfe\x00bad", JobSource(format=SourceFormat.TEXT))


def test_documents_over_100_kb_fail_alone():
    data = ("x" * 100_001 + "\nok\n").encode()

    documents = parse_documents(data, JobSource(format=SourceFormat.TEXT))

    assert documents[0].failure is not None
    assert documents[0].failure.code == ErrorCode.TEXT_TOO_LONG
    assert documents[1].failure is None
