"""Atomic file writes: a reader never sees a half-written file, a crash never leaves one."""
import json
import os
import tempfile

# mkstemp makes files only their owner can read; outputs get the mode any new file would get.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path = os.fspath(path)
    folder = os.path.dirname(path) or '.'
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(path) + '.', suffix='.tmp')
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_json(path, obj):
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + '\n')


def read_json(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def read_jsonl(path, encoding='utf-8'):
    """The rows of a JSON-lines file as (line number, object) pairs; blank lines are skipped.
    A line that is not a JSON object stops the read with ``<file>: line N: ...``."""
    with open(path, encoding=encoding) as f:
        return list(iter_jsonl(f, path))


def iter_jsonl(lines, path):
    """(line number, object) for each non-blank line of an open JSON-lines file, read lazily;
    ``path`` names the file in errors."""
    from .errors import EvalkitError
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalkitError(f'{path}: line {n}: not valid JSON ({exc.msg} at column {exc.colno})') from None
        if not isinstance(row, dict):
            raise EvalkitError(f'{path}: line {n}: a row must be a JSON object, not {type(row).__name__}')
        yield n, row
