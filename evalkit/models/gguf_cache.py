"""A cache of de-quantised GGUF models.

transformers de-quantises a GGUF file on every load (about 30 s for a 135M model on two cores,
tokenizer included). The first load saves the result as an ordinary model folder under
``$EVALKIT_CACHE_DIR`` (default ``~/.cache/evalkit``); later loads read that folder in about a
second. The key holds the file's path, size and modification time, the dtype and the transformers
version, so a changed file or library never reuses a stale copy. ``EVALKIT_GGUF_CACHE=0`` turns it off.
"""
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from ..utils.logging import get_logger

logger = get_logger()
READY = 'evalkit-ready'


def enabled():
    return os.environ.get('EVALKIT_GGUF_CACHE', '1') not in ('0', 'false', 'no')


def cache_root():
    return Path(os.environ.get('EVALKIT_CACHE_DIR') or Path.home() / '.cache' / 'evalkit')


def folder_for(gguf_path, dtype_name):
    import transformers
    stat = os.stat(gguf_path)
    key = f'{os.path.realpath(gguf_path)}|{stat.st_size}|{stat.st_mtime_ns}|{dtype_name}|{transformers.__version__}'
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_root() / 'gguf' / f'{Path(gguf_path).stem}-{digest}'


def is_ready(folder):
    return (Path(folder) / READY).is_file()


def store(model, tokenizer, folder):
    """Save the de-quantised model and its tokenizer; never leaves a half-written folder."""
    folder = Path(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix='.' + folder.name))
        # The weights are plain tensors now: save them as an ordinary (unquantised) model.
        quantizer, model.hf_quantizer = getattr(model, 'hf_quantizer', None), None
        had_qcfg = hasattr(model.config, 'quantization_config')
        qcfg = model.config.__dict__.pop('quantization_config', None)
        try:
            model.save_pretrained(tmp)
        finally:
            model.hf_quantizer = quantizer
            if had_qcfg:
                model.config.quantization_config = qcfg
        tokenizer.save_pretrained(tmp)
        (tmp / READY).write_text('ok\n')
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
        logger.info('cached the de-quantised model in %s (later loads take about a second)', folder)
    except OSError as exc:
        logger.warning('could not cache the de-quantised model in %s: %s', folder, exc)
        shutil.rmtree(tmp, ignore_errors=True)
