"""Answers of API models kept on disk, so that a rerun does not pay for a request twice.

An entry is named by the hash of the request body: model name, messages, max_tokens, temperature,
stop words and every other generation setting. The endpoint and the API key are not part of it
(the key is never in the body): the same model moved to another address still hits.

One small JSON file per request under ``$EVALKIT_CACHE_DIR/api/`` rather than one sqlite file:
it is safe for any number of threads and processes with no lock (a write is a temporary file and
a rename, and two writers of one request write the same answer), it also works on the network
file systems that cluster nodes share a home folder over, where sqlite's locking is unreliable,
and an entry can be read or deleted by hand.
"""
import hashlib
import json

from ..utils.fileio import atomic_write_json
from .gguf_cache import cache_root

# Part of every key: a change to what is stored makes old entries miss instead of misread.
FORMAT = 'evalkit-api-cache-1'


def default_folder():
    return cache_root() / 'api'


class ResponseCache:

    def __init__(self, folder=None):
        self.folder = folder or default_folder()

    def path_for(self, body):
        text = json.dumps([FORMAT, body], sort_keys=True, ensure_ascii=False, separators=(',', ':'))
        digest = hashlib.sha256(text.encode('utf-8')).hexdigest()
        return self.folder / digest[:2] / f'{digest}.json'

    def get(self, body):
        """The stored answer to this request, or None."""
        try:
            with open(self.path_for(body), encoding='utf-8') as f:
                entry = json.load(f)
        except (OSError, ValueError):  # missing, or spoiled by hand: ask the server again
            return None
        answer = entry.get('answer') if isinstance(entry, dict) else None
        return answer if isinstance(answer, str) else None

    def put(self, body, answer):
        atomic_write_json(self.path_for(body), {'request': body, 'answer': answer})
