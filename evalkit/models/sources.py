"""Where a model's files come from, checked before a run writes anything.

A model path is a local folder or ``.gguf`` file, or a hub id (``org/name``) that is either in the
local Hugging Face cache or fetched from the hub. :func:`locate_model` stops a run at once, with
the path it tried and how to point at a local copy, when none of these holds; on a machine
without network it answers in seconds (a short timeout, or none with ``HF_HUB_OFFLINE=1``).
:func:`has_chat_template` reads whether a tokenizer has a chat template without loading a model.
"""
import json
import os
import re
import struct

from ..utils.errors import EvalkitError

# 'org/name' that is not a local path: transformers fetches it from the hub (when online).
HUB_ID = re.compile(r'[A-Za-z0-9][\w.-]*/[\w.-]+')
HUB_TIMEOUT_S = 5
_TRUE = ('1', 'true', 'yes', 'on')


def hub_offline():
    return any(os.environ.get(k, '').lower() in _TRUE for k in ('HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE'))


def cached_file(repo, filename):
    """The local path of ``filename`` of hub repo ``repo`` in the Hugging Face cache, or None."""
    from huggingface_hub import try_to_load_from_cache
    try:
        found = try_to_load_from_cache(repo, filename)
    except Exception:  # a malformed id or cache: treated as not cached
        return None
    return found if isinstance(found, str) else None


def locate_model(path, how_to_fix):
    """'local', 'cache' or 'hub': where ``path`` will be loaded from; an EvalkitError naming
    ``path`` and ``how_to_fix`` (e.g. 'give a local copy with --model-path DIR') when nowhere."""
    path = os.path.expanduser(str(path))
    if path.endswith('.gguf'):
        if os.path.isfile(path):
            return 'local'
        raise EvalkitError(f'model file not found: {path} ({how_to_fix})')
    if os.path.exists(path):
        return 'local'
    if not HUB_ID.fullmatch(path):
        raise EvalkitError(f'model path not found: {path} ({how_to_fix})')
    if cached_file(path, 'config.json'):
        return 'cache'
    if hub_offline():
        raise EvalkitError(f'model {path}: not a local path, not in the Hugging Face cache, and '
                           f'HF_HUB_OFFLINE is set: {how_to_fix}')
    from huggingface_hub import model_info
    from huggingface_hub.errors import RepositoryNotFoundError
    try:
        model_info(path, timeout=HUB_TIMEOUT_S)
    except RepositoryNotFoundError:
        raise EvalkitError(f'model {path}: not a local path, and the hub has no such model '
                           f'(or it is private): {how_to_fix}') from None
    except Exception as exc:  # no network, DNS, proxy, timeout: all mean the hub is out of reach
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EvalkitError(f'model {path}: not a local path, not in the Hugging Face cache, and the '
                           f'hub cannot be reached ({reason}): {how_to_fix}') from None
    return 'hub'


def has_chat_template(path, tokenizer_kwargs=None):
    """Whether the tokenizer at ``path`` (a folder, a .gguf file, or a hub id) has a chat template."""
    kwargs = dict(tokenizer_kwargs or {})
    path = os.path.expanduser(str(path))
    if path.endswith('.gguf'):
        return gguf_has_chat_template(path)
    if os.path.isdir(path):
        if kwargs.get('gguf_file'):
            return gguf_has_chat_template(os.path.join(path, kwargs['gguf_file']))
        return folder_has_chat_template(path)
    from transformers import AutoTokenizer  # a hub id: the cache or the hub, as the model loads
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EvalkitError(f'cannot load the tokenizer from {path}: {first}') from exc
    return bool(getattr(tokenizer, 'chat_template', None))


def folder_has_chat_template(folder):
    """A saved tokenizer keeps its template in chat_template.jinja (transformers 4.43 and later),
    chat_template.json, or the ``chat_template`` key of tokenizer_config.json."""
    if os.path.isfile(os.path.join(folder, 'chat_template.jinja')):
        return True
    for name in ('chat_template.json', 'tokenizer_config.json'):
        file = os.path.join(folder, name)
        if os.path.isfile(file):
            with open(file, encoding='utf-8') as f:
                if json.load(f).get('chat_template'):
                    return True
    return False


# GGUF value types and their sizes; 8 is a string, 9 an array (https://github.com/ggml-org/ggml,
# docs/gguf.md).
_GGUF_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def gguf_has_chat_template(path):
    """Whether a GGUF file's metadata holds ``tokenizer.chat_template``. Reads the header only,
    skipping the token lists, so it takes milliseconds where a full reader takes seconds."""
    with open(path, 'rb') as f:
        if f.read(4) != b'GGUF':
            raise EvalkitError(f'{path} is not a GGUF file')
        version, = struct.unpack('<I', f.read(4))
        count_fmt = '<Q' if version >= 2 else '<I'
        width = struct.calcsize(count_fmt)
        _tensors, kv_count = struct.unpack(count_fmt + count_fmt[1], f.read(2 * width))

        def read_str():
            n, = struct.unpack(count_fmt, f.read(width))
            return f.read(n)

        def skip(kind):
            if kind == 8:
                n, = struct.unpack(count_fmt, f.read(width))
                f.seek(n, 1)
            elif kind == 9:
                inner, = struct.unpack('<I', f.read(4))
                n, = struct.unpack(count_fmt, f.read(width))
                if inner in _GGUF_SIZES:
                    f.seek(n * _GGUF_SIZES[inner], 1)
                else:
                    for _ in range(n):
                        skip(inner)
            else:
                f.seek(_GGUF_SIZES[kind], 1)

        for _ in range(kv_count):
            key = read_str()
            kind, = struct.unpack('<I', f.read(4))
            if key == b'tokenizer.chat_template':
                return kind == 8 and bool(read_str().strip())
            skip(kind)
    return False
