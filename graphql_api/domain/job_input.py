"""Reading a job's documents from JSON Lines, CSV or plain text; a bad record fails alone."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from graphql_api.domain.errors import ErrorCode, SourceUnreadable
from graphql_api.domain.jobs import MAX_DOCUMENT_BYTES, JobDocument, JobSource, SourceFormat
from graphql_api.domain.results import DocumentFailure
from graphql_api.domain.text import is_clean


def parse_documents(data: bytes, source: JobSource) -> list[JobDocument]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceUnreadable(f"The source is not UTF-8 text (byte {error.start}).") from None
    readers = {SourceFormat.JSONL: _jsonl, SourceFormat.CSV: _csv, SourceFormat.TEXT: _lines}
    documents = list(readers[source.format](text, source))
    return [_checked(document) for document in documents]


def _checked(document: JobDocument) -> JobDocument:
    if document.failure is not None:
        return document
    if not is_clean(document.text) or (document.id is not None and not is_clean(document.id)):
        failure = DocumentFailure(
            ErrorCode.INVALID_TEXT, "The text or id holds a NUL or an unpaired UTF-16 surrogate."
        )
        return JobDocument(document.index, "", None, None, failure)
    if len(document.text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        failure = DocumentFailure(
            ErrorCode.TEXT_TOO_LONG, f"Documents in jobs are limited to {MAX_DOCUMENT_BYTES} bytes."
        )
        return JobDocument(document.index, "", document.id, document.language, failure)
    return document


def _malformed(index: int, why: str) -> JobDocument:
    return JobDocument(index, "", failure=DocumentFailure(ErrorCode.MALFORMED_RECORD, why))


def _jsonl(text: str, source: JobSource) -> Iterator[JobDocument]:
    index = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            value = record[source.text_column]
            if not isinstance(value, str):
                raise TypeError(source.text_column)
        except (ValueError, KeyError, TypeError, RecursionError):
            yield _malformed(
                index,
                f"Line {number} is not a JSON object with a string '{source.text_column}' field.",
            )
        else:
            identifier = record.get(source.id_column) if source.id_column else None
            language = record.get("languageCode")
            yield JobDocument(
                index,
                value,
                str(identifier) if identifier is not None else None,
                language if isinstance(language, str) else None,
            )
        index += 1


def _csv(text: str, source: JobSource) -> Iterator[JobDocument]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise SourceUnreadable("The CSV source has no header row.") from None
    if source.text_column not in header:
        raise SourceUnreadable(f"The CSV header has no '{source.text_column}' column.")
    text_at = header.index(source.text_column)
    id_at = header.index(source.id_column) if source.id_column in header else None
    index = 0
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield _malformed(index, f"CSV record at line {line} is malformed: {error}.")
            index += 1
            continue
        if not row:
            continue
        if len(row) != len(header):
            yield _malformed(
                index, f"CSV record at line {line} has {len(row)} fields, the header {len(header)}."
            )
        else:
            yield JobDocument(index, row[text_at], row[id_at] if id_at is not None else None)
        index += 1


def _lines(text: str, _: JobSource) -> Iterator[JobDocument]:
    documents = (line for line in text.splitlines() if line.strip())
    for index, line in enumerate(documents):
        yield JobDocument(index, line)
