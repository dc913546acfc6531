"""Reading a training corpus as a stream of documents, whatever its size.

A corpus is one or more files, each read lazily, so memory stays flat however large they are:

- ``.jsonl`` / ``.json`` (JSON lines): one document per line, its text in ``text_field``;
- ``.parquet``: one document per row of the ``text_field`` column, read in record batches;
- ``.txt`` and anything else: plain text, one document per paragraph (blank-line separated); a
  paragraph longer than ``MAX_DOC_CHARS`` is cut into overlapping pieces.

A ``.gz`` suffix on a JSON-lines or text file is read through gzip. Every document comes with its
place (``file:line N`` or ``file:row N``), which the annotation file names as the evidence.
"""
import gzip
import os
from pathlib import Path

from ..utils.errors import EvalkitError
from ..utils.fileio import iter_jsonl

MAX_DOC_CHARS = 1 << 20
# Kept from the end of a cut piece at the start of the next, so text across the cut is still seen.
OVERLAP_CHARS = 4096
_READ_CHARS = 1 << 20
_PARQUET_BATCH = 4096


def corpus_kind(path):
    name = Path(path).name.lower()
    if name.endswith('.gz'):
        name = name[:-3]
    if name.endswith(('.jsonl', '.json', '.ndjson')):
        return 'jsonl'
    if name.endswith('.parquet'):
        return 'parquet'
    return 'txt'


def _open_text(path):
    if str(path).lower().endswith('.gz'):
        return gzip.open(path, 'rt', encoding='utf-8', errors='replace')
    return open(path, encoding='utf-8', errors='replace')


def check_corpus(paths, text_field):
    """Stop before any work when a corpus file is missing or its text field is not there."""
    if not paths:
        raise EvalkitError('no corpus given: name the training-data files with --corpus FILE...')
    for path in paths:
        if not os.path.isfile(path):
            raise EvalkitError(f'corpus file not found: {path}')
        if corpus_kind(path) == 'parquet':
            import pyarrow.parquet as pq
            try:
                names = pq.ParquetFile(path).schema_arrow.names
            except Exception as exc:  # pyarrow raises several types for a damaged file
                raise EvalkitError(f'{path}: not a readable Parquet file ({exc})') from None
            if text_field not in names:
                raise EvalkitError(f'{path}: no column {text_field!r} (columns: {", ".join(names)}); '
                                   'name the text column with --text-field')


def iter_documents(path, text_field='text'):
    """(place, text) of every document of one corpus file, read lazily."""
    kind = corpus_kind(path)
    if kind == 'jsonl':
        return _jsonl_documents(path, text_field)
    if kind == 'parquet':
        return _parquet_documents(path, text_field)
    return _text_documents(path)


def _jsonl_documents(path, text_field):
    with _open_text(path) as f:
        for n, row in iter_jsonl(f, path):
            if text_field not in row:
                raise EvalkitError(f'{path}: line {n}: no field {text_field!r} (found: {", ".join(row)}); '
                                   'name the text field with --text-field')
            text = row[text_field]
            if isinstance(text, str):
                yield f'{path}:line {n}', text


def _parquet_documents(path, text_field):
    import pyarrow.parquet as pq
    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=_PARQUET_BATCH, columns=[text_field]):
        for text in batch.column(0).to_pylist():
            row += 1
            if isinstance(text, str):
                yield f'{path}:row {row}', text


def _text_documents(path):
    """Paragraphs, each with the line it starts on; long ones cut into overlapping pieces."""
    with _open_text(path) as f:
        buffer, start_line, carry = '', 1, ''
        while True:
            block = f.read(_READ_CHARS)
            buffer += block
            # Whole paragraphs are complete once a blank line follows them (or the file ends).
            while True:
                cut = buffer.find('\n\n')
                if cut == -1:
                    break
                paragraph, buffer = buffer[:cut], buffer[cut + 2:]
                if paragraph.strip():
                    yield f'{path}:line {start_line}', carry + paragraph
                carry = ''
                start_line += paragraph.count('\n') + 2
            if len(buffer) > MAX_DOC_CHARS:
                piece, buffer = buffer[:MAX_DOC_CHARS], buffer[MAX_DOC_CHARS:]
                yield f'{path}:line {start_line}', carry + piece
                carry = piece[-OVERLAP_CHARS:]
                start_line += piece.count('\n')
            if not block:
                break
        if buffer.strip():
            yield f'{path}:line {start_line}', carry + buffer
