"""What the infer and eval tasks share: the work-dir layout and building a dataset's splits.

A task config is a plain dict (JSON-safe, types as dotted paths):
``{'model': model_cfg, 'datasets': [dataset_cfg, ...], 'work_dir': str, 'data_root': str|None}``.
"""
import os
import re
import sys
from pathlib import Path

from ..config import dataset_abbr, model_abbr
from ..registry import accepted_kwargs, resolve
from ..utils.errors import EvalkitError


def predictions_path(work_dir, model_cfg, dataset_cfg):
    return Path(work_dir, 'predictions', model_abbr(model_cfg), dataset_abbr(dataset_cfg) + '.json')


def partial_path(work_dir, model_cfg, dataset_cfg):
    """Where an unfinished inference keeps its completed batches (``-r`` continues from it)."""
    final = predictions_path(work_dir, model_cfg, dataset_cfg)
    return final.with_name('tmp_' + final.name)


def results_path(work_dir, model_cfg, dataset_cfg):
    return Path(work_dir, 'results', model_abbr(model_cfg), dataset_abbr(dataset_cfg) + '.json')


def dataset_class(dataset_cfg):
    return resolve(dataset_cfg['type'])


def dataset_load_kwargs(dataset_cfg, data_root):
    skip = {'type', 'abbr', 'reader_cfg', 'infer_cfg', 'eval_cfg'}
    kwargs = {k: v for k, v in dataset_cfg.items() if k not in skip}
    kwargs.setdefault('path', None)
    kwargs['data_root'] = data_root
    return kwargs


def check_dataset(dataset_cfg, data_root):
    """Stop early, with the path to fix, when a dataset's files are missing."""
    check = getattr(dataset_class(dataset_cfg), 'check', None)  # a user's loader may have none
    if check is not None:
        check(**accepted_kwargs(check, dataset_load_kwargs(dataset_cfg, data_root)))


def model_load_kwargs(load, model):
    """What the model under test tells a loader that names it as a parameter: ``token_len`` and
    ``max_seq_len``, for datasets measured in the model's own tokens (needlebench). Loaders that
    take only ``**kwargs`` get nothing from the model."""
    if model is None:
        return {}
    import inspect
    try:
        names = set(inspect.signature(load).parameters)
    except (TypeError, ValueError):
        return {}
    offered = {'token_len': model.token_len, 'max_seq_len': model.max_seq_len}
    return {k: v for k, v in offered.items() if k in names}


def load_splits(dataset_cfg, data_root, model=None):
    """(train rows, test rows, reader_cfg) for a dataset config, as lists of dicts. ``model``: the
    loaded model, for loaders that measure their rows in its tokens."""
    reader = dict(dataset_cfg.get('reader_cfg') or {})
    load = dataset_class(dataset_cfg).load
    kwargs = accepted_kwargs(load, dataset_load_kwargs(dataset_cfg, data_root))
    loaded = load(**{**kwargs, **model_load_kwargs(load, model)})
    train_split = reader.get('train_split', 'train')
    test_split = reader.get('test_split', 'test')
    if hasattr(loaded, 'keys'):
        for split in (train_split, test_split):
            if split not in loaded:
                raise EvalkitError(f'{dataset_abbr(dataset_cfg)}: no split {split!r} '
                                   f'(splits: {", ".join(loaded.keys())})')
        train, test = loaded[train_split], loaded[test_split]
    else:
        train = test = loaded
    train, test = list(train), list(test)
    test = apply_range(test, reader.get('test_range'))
    train = apply_range(train, reader.get('train_range'))
    columns = list(reader.get('input_columns') or [])
    output = reader.get('output_column')
    for name, rows in (('test', test), ('train', train)):
        if rows:
            missing = [c for c in columns + ([output] if output else []) if c not in rows[0]]
            if missing and not (name == 'test' and missing == [output]):
                raise EvalkitError(f'{dataset_abbr(dataset_cfg)}: {name} rows lack column(s) '
                                   f'{", ".join(missing)} named in reader_cfg')
    return train, test, reader


def apply_range(rows, spec):
    """OpenCompass's ``test_range`` ('[0:10]', ':50') or an int count."""
    if spec in (None, ''):
        return rows
    if isinstance(spec, int):
        return rows[:spec]
    match = re.fullmatch(r'\[?\s*(-?\d*)\s*:\s*(-?\d*)\s*\]?', str(spec))
    if not match:
        raise EvalkitError(f'bad range {spec!r}: write it as "[start:stop]"')
    start, stop = (int(x) if x else None for x in match.groups())
    return rows[start:stop]


def task_name(task):
    abbrs = [dataset_abbr(d) for d in task['datasets']]
    name = abbrs[0] if len(abbrs) == 1 else f'{abbrs[0]}+{len(abbrs) - 1}'
    return f'{model_abbr(task["model"])}/{name}'


def set_threads():
    """Use the CPU threads this worker was given (EVALKIT_NUM_THREADS), or all of them."""
    import torch
    threads = int(os.environ.get('EVALKIT_NUM_THREADS') or 0) or os.cpu_count() or 1
    torch.set_num_threads(threads)


def failure(abbr, exc, logger):
    """Log a dataset's error once, its abbr in front; returns the (abbr, message) outcome."""
    message = str(exc) if str(exc).startswith(abbr) else f'{abbr}: {exc}'
    logger.error('%s', message)
    return abbr, message


# Set by the local runner (evalkit.runners.local) to its pid: a worker must not outlive its run.
PARENT_ENV = 'EVALKIT_RUN_PID'


def stop_with_parent():
    """Have Linux end this worker when the run that started it dies, even by SIGKILL (the runner
    puts workers in process groups of their own, out of reach of the run's group). False when that
    run has already gone."""
    expected = os.environ.get(PARENT_ENV)
    if not expected or not sys.platform.startswith('linux'):
        return True
    import ctypes
    import signal
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return True
    return os.getppid() == int(expected)


def task_main(run, stage, argv, logger):
    """``python -m evalkit.tasks.<stage> TASK.json``: exit 0 when every dataset succeeded."""
    from ..utils.fileio import read_json
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(f'usage: python -m evalkit.tasks.{stage} TASK.json', file=sys.stderr)
        return 2
    if not stop_with_parent():
        logger.error('the run that started this task has ended; not starting')
        return 1
    try:
        outcome = run(read_json(argv[0]))
    except EvalkitError as exc:
        logger.error('%s', exc)
        return 1
    return 1 if any(err for _, err in outcome) else 0


# ------------------------------------------------------------------ fingerprints
# What a stage's output was made from, stored beside it, so that -r never reuses predictions or
# scores made under a config that has since changed: stale outputs are made again, or named.

# Model settings that do not change what the model answers.
_NEUTRAL_MODEL_KEYS = {'abbr', 'batch_size', 'run_cfg', 'summarizer_abbr'}


# Model settings that shape the answer without being the model itself.
_GENERATION_KEYS = ('max_out_len', 'generation_kwargs', 'stop_words')

# What each fingerprint part stands for, in the message that says why predictions are made again.
FINGERPRINT_PARTS = {'data': 'the dataset config', 'prompt': 'the prompt or inference config',
                     'model': 'the model (its settings or its files)', 'generation': 'the generation settings',
                     'evalkit': 'the evalkit version'}


def model_identity(model_cfg):
    """What tells a model's weights apart beyond its config: name, size and mtime of a local
    model file, or of a model folder's weight and config files (a hub name or an API model: none)."""
    path = model_cfg.get('path')
    if not isinstance(path, str) or not os.path.exists(path):
        return None
    if os.path.isfile(path):
        files = [path]
    else:
        files = sorted(os.path.join(path, f) for f in os.listdir(path)
                       if f.endswith(('.safetensors', '.bin', '.gguf', '.pt', '.pth')) or f == 'config.json')
    stats = [(os.path.basename(f), os.stat(f)) for f in files]
    return [(name, st.st_size, st.st_mtime_ns) for name, st in stats]


def fingerprint_parts(model_cfg, dataset_cfg):
    """Everything the predictions depend on, part by part: the dataset config, the prompt and
    inference config, the model (settings and files), the generation settings, evalkit's version."""
    from .. import __version__
    from ..openicl.prompt_template import config_hash
    from ..registry import to_plain
    data = {k: v for k, v in dataset_cfg.items() if k not in ('abbr', 'eval_cfg', 'infer_cfg')}
    model = {k: v for k, v in model_cfg.items() if k not in _NEUTRAL_MODEL_KEYS and k not in _GENERATION_KEYS}
    generation = {k: model_cfg[k] for k in _GENERATION_KEYS if k in model_cfg}
    return {'data': config_hash(to_plain(data), length=12),
            'prompt': config_hash(to_plain(dataset_cfg.get('infer_cfg') or {}), length=12),
            'model': config_hash(to_plain(model), model_identity(model_cfg), length=12),
            'generation': config_hash(to_plain(generation), length=12),
            'evalkit': __version__}


def inference_fingerprint(model_cfg, dataset_cfg, parts=None):
    """One hash of ``fingerprint_parts``: predictions are reused only when it matches."""
    from ..openicl.prompt_template import config_hash
    return config_hash(parts or fingerprint_parts(model_cfg, dataset_cfg), length=12)


def stale_reason(work_dir, model_cfg, dataset_cfg):
    """Why the predictions on disk are not current, in words ('' when they are, or are missing)."""
    from ..utils.fileio import read_json
    if predictions_state(work_dir, model_cfg, dataset_cfg) != 'stale':
        return ''
    try:
        stored = read_json(predictions_meta_path(work_dir, model_cfg, dataset_cfg)).get('parts') or {}
    except (OSError, ValueError, AttributeError):
        stored = {}
    now = fingerprint_parts(model_cfg, dataset_cfg)
    changed = [FINGERPRINT_PARTS[k] + (f' ({stored[k]} -> {now[k]})' if k == 'evalkit' else '')
               for k in FINGERPRINT_PARTS if k in stored and stored[k] != now[k]]
    return ' and '.join(changed) + ' changed' if changed else 'they were made under another config'


def scoring_fingerprint(model_cfg, dataset_cfg, bootstrap=0):
    """A hash of what the scores depend on: the predictions' fingerprint and the eval config."""
    from ..openicl.prompt_template import config_hash
    from ..registry import to_plain
    parts = [inference_fingerprint(model_cfg, dataset_cfg), to_plain(dataset_cfg.get('eval_cfg') or {}), bootstrap]
    inputs = evaluator_inputs_digest(dataset_cfg)
    if inputs:
        parts.append(inputs)
    return config_hash(*parts, length=12)


def evaluator_inputs_digest(dataset_cfg):
    """A hash of the files an evaluator reads beside the predictions (an evaluator class names
    them with ``input_files(cfg)``), so that editing such a file scores the dataset again."""
    import hashlib
    cfg = dict(((dataset_cfg.get('eval_cfg') or {}).get('evaluator')) or {})
    if not cfg.get('type'):
        return None
    input_files = getattr(resolve(cfg['type']), 'input_files', None)
    if input_files is None:
        return None
    digest = hashlib.sha256()
    for path in input_files(cfg):
        digest.update(str(path).encode())
        try:
            with open(path, 'rb') as f:
                for block in iter(lambda: f.read(1 << 20), b''):
                    digest.update(block)
        except OSError:
            digest.update(b'<missing>')
    return digest.hexdigest()


def predictions_meta_path(work_dir, model_cfg, dataset_cfg):
    final = predictions_path(work_dir, model_cfg, dataset_cfg)
    return final.with_name(final.stem + '.meta.json')


def predictions_state(work_dir, model_cfg, dataset_cfg):
    """'missing', 'current', or 'stale' (made under another config). Predictions without a
    fingerprint (copied in from elsewhere) count as current."""
    from ..utils.fileio import read_json
    if not predictions_path(work_dir, model_cfg, dataset_cfg).exists():
        return 'missing'
    meta = predictions_meta_path(work_dir, model_cfg, dataset_cfg)
    try:
        stored = read_json(meta).get('fingerprint')
    except (OSError, ValueError, AttributeError):
        return 'current'
    return 'current' if stored == inference_fingerprint(model_cfg, dataset_cfg) else 'stale'


def current_predictions(work_dir, model_cfg, dataset_cfg, missing_hint):
    """The predictions on disk ({index: record}) when they are current; otherwise an error that
    names the file and, for missing ones, ``missing_hint`` (what to do)."""
    from ..utils.fileio import read_json
    source = predictions_path(work_dir, model_cfg, dataset_cfg)
    state = predictions_state(work_dir, model_cfg, dataset_cfg)
    if state == 'missing':
        raise EvalkitError(f'no predictions at {source}: {missing_hint}')
    if state == 'stale':
        raise EvalkitError(f'the predictions at {source} were made under another prompt, data or model '
                           f'config ({stale_reason(work_dir, model_cfg, dataset_cfg)}): run inference '
                           'again (-m infer -r, or -r without -m)')
    return read_json(source)


def results_current(work_dir, model_cfg, dataset_cfg, bootstrap=0):
    """Whether the scores on disk were made from these predictions with this eval config."""
    from ..utils.fileio import read_json
    path = results_path(work_dir, model_cfg, dataset_cfg)
    if not path.exists():
        return False
    try:
        stored = read_json(path).get('fingerprint')
    except (OSError, ValueError, AttributeError):
        return False
    return stored == scoring_fingerprint(model_cfg, dataset_cfg, bootstrap)
