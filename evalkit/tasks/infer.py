"""Inference task: load the model once, then for each dataset build prompts, run the inferencer
and write ``predictions/<model>/<dataset>.json``.

Run alone: ``python -m evalkit.tasks.infer TASK.json`` (that is how the local runner starts it).
"""
import json
import sys
import time

from ..config import dataset_abbr, model_abbr
from ..registry import build, to_plain
from ..utils.errors import EvalkitError
from ..utils.fileio import atomic_write_json, read_json
from ..utils.logging import get_logger
from .base import (failure, fingerprint_parts, inference_fingerprint, load_splits, model_identity, partial_path,
                   predictions_meta_path, predictions_path, predictions_state, set_threads, stale_reason,
                   task_main, task_name)

logger = get_logger()

# Models loaded in this process, by config: a worker (or a --debug run) loads each model once.
_MODELS = {}


def get_model(model_cfg):
    # The files' identity too: a model rewritten in place is loaded again.
    key = json.dumps([to_plain(model_cfg), model_identity(model_cfg)], sort_keys=True)
    if key not in _MODELS:
        start = time.time()
        cfg = {k: v for k, v in model_cfg.items() if k not in ('summarizer_abbr',)}
        _MODELS[key] = build(cfg)
        logger.info('loaded model %s in %.1f s', model_abbr(model_cfg), time.time() - start)
    return _MODELS[key]


def infer_dataset(model, model_cfg, dataset_cfg, work_dir, data_root):
    """Run one dataset through the model; finished rows are saved after every batch."""
    final = predictions_path(work_dir, model_cfg, dataset_cfg)
    partial = partial_path(work_dir, model_cfg, dataset_cfg)
    abbr = dataset_abbr(dataset_cfg)
    train, test, reader = load_splits(dataset_cfg, data_root, model)
    infer_cfg = dataset_cfg['infer_cfg']
    ice_template = build(infer_cfg['ice_template']) if infer_cfg.get('ice_template') else None
    prompt_template = build(infer_cfg['prompt_template']) if infer_cfg.get('prompt_template') else ice_template
    if prompt_template is None:
        raise EvalkitError(f'{abbr}: infer_cfg needs a prompt_template or an ice_template')
    inferencer = build(infer_cfg['inferencer'], max_seq_len=model.max_seq_len)
    retriever_cfg = dict(infer_cfg.get('retriever') or {'type': 'ZeroRetriever'})
    if inferencer.fix_id_list and 'fix_id_list' not in retriever_cfg:
        retriever_cfg['fix_id_list'] = inferencer.fix_id_list
    ice_ids = build(retriever_cfg).retrieve(len(train), len(test))
    if any(ice_ids) and ice_template is None:
        raise EvalkitError(f'{abbr}: in-context examples need an ice_template')
    output_column = reader.get('output_column')
    requests = inferencer.build(model, prompt_template, ice_template, ice_ids, train, test, output_column)
    shortened = sum(r['n_examples'] < len(ids) for r, ids in zip(requests, ice_ids))
    if shortened:
        logger.info('%s: %d of %d prompts exceed max_seq_len=%s and get fewer in-context examples',
                    abbr, shortened, len(requests), model.max_seq_len)
    over = sum(r['n_tokens'] > model.max_seq_len for r in requests)
    if over:
        logger.info('%s: %d prompt(s) still exceed max_seq_len=%s and lose their first tokens',
                    abbr, over, model.max_seq_len)

    parts = fingerprint_parts(model_cfg, dataset_cfg)
    fingerprint = inference_fingerprint(model_cfg, dataset_cfg, parts)
    done = read_partial(partial, fingerprint, requests, abbr)

    def save_partial(records):
        atomic_write_json(partial, {'fingerprint': fingerprint,
                                    'rows': {str(i): r for i, r in sorted(records.items())}})

    records = inferencer.infer(model, requests, done=done, on_batch=save_partial, desc=abbr)
    # The fingerprint first: predictions without one would pass for current if a crash came between.
    atomic_write_json(predictions_meta_path(work_dir, model_cfg, dataset_cfg),
                      {'fingerprint': fingerprint, 'parts': parts,
                       'rows': len(records), 'created': time.strftime('%Y-%m-%d %H:%M:%S')})
    atomic_write_json(final, {str(i): r for i, r in enumerate(records)})
    if partial.exists():
        partial.unlink()
    return final


def read_partial(partial, fingerprint, requests, abbr):
    """The finished rows an interrupted inference saved, by index: only those made under this
    fingerprint with the same prompt. An unreadable file (cut short, garbled) is named and the
    dataset starts over; it is replaced at the first saved batch."""
    if not partial.exists():
        return {}
    try:
        saved = read_json(partial)
        rows = {int(k): v for k, v in saved['rows'].items()}
        if not all(isinstance(v, dict) for v in rows.values()):
            raise ValueError('a row is not an object')
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        logger.warning('%s: the unfinished predictions in %s are unreadable (%s); starting this dataset over',
                       abbr, partial, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return {}
    if saved.get('fingerprint') != fingerprint:
        logger.info('%s: the unfinished rows on disk were made under another config; starting over', abbr)
        return {}
    # Keep only rows whose prompt is unchanged (belt and braces: the fingerprint covers it).
    done = {i: v for i, v in rows.items()
            if 0 <= i < len(requests) and v.get('origin_prompt') == requests[i]['origin_prompt']}
    logger.info('%s: resuming with %d of %d rows already done', abbr, len(done), len(requests))
    return done


def load_model(model_cfg):
    """The model, or one line saying why it could not be loaded."""
    try:
        return get_model(model_cfg)
    except EvalkitError:
        raise
    except Exception as exc:  # whatever the backend raises: the user needs its message, not a traceback
        logger.info('the traceback of the load error that follows', exc_info=True)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ''
        raise EvalkitError(f'{model_abbr(model_cfg)}: the model failed to load ({type(exc).__name__}'
                           f'{": " + detail if detail else ""}); check its path and settings') from None


def run(task):
    """Run one task dict; returns the list of (dataset abbr, error or None)."""
    set_threads()
    work_dir, data_root = task['work_dir'], task.get('data_root')
    states = {dataset_abbr(d): predictions_state(work_dir, task['model'], d) for d in task['datasets']}
    todo = [d for d in task['datasets'] if states[dataset_abbr(d)] != 'current']
    for d in todo:
        if states[dataset_abbr(d)] == 'stale':
            logger.info('%s: recomputing predictions: %s', dataset_abbr(d), stale_reason(work_dir, task['model'], d))
    outcome = [(dataset_abbr(d), None) for d in task['datasets'] if d not in todo]
    if not todo:
        logger.info('%s: all predictions already there', task_name(task))
        return outcome
    model = load_model(task['model'])
    for dataset_cfg in todo:
        start = time.time()
        abbr = dataset_abbr(dataset_cfg)
        try:
            path = infer_dataset(model, task['model'], dataset_cfg, work_dir, data_root)
            logger.info('%s: %s written in %.1f s', abbr, path, time.time() - start)
            outcome.append((abbr, None))
        except EvalkitError as exc:
            outcome.append(failure(abbr, exc, logger))
        except OSError as exc:  # a full disk above all: finished batches are kept for -r
            where = exc.filename or f'under {work_dir}'
            outcome.append(failure(abbr, f'cannot write {where}: {exc.strerror or exc}; '
                                         'make room, then resume with -r', logger))
        except Exception as exc:  # a bug or a plugin's error: one line for the user, the traceback in the log
            logger.info('%s: the traceback of the error that follows', abbr, exc_info=True)
            outcome.append(failure(abbr, f'{type(exc).__name__}: {exc} (traceback in the task log)', logger))
    return outcome


def main(argv=None):
    return task_main(run, 'infer', argv, logger)


if __name__ == '__main__':
    sys.exit(main())
