"""Evaluation task: predictions -> post-processor -> evaluator -> ``results/<model>/<dataset>.json``.

Scores carry the fingerprint of the predictions and eval config they came from: with ``-r`` a
dataset is scored again when its post-processor or evaluator changed, and predictions made under
another prompt config are refused rather than scored as if they were current.

Run alone: ``python -m evalkit.tasks.eval TASK.json``.
"""
import sys

from ..config import dataset_abbr
from ..registry import accepted_kwargs, build, resolve
from ..utils.errors import EvalkitError
from ..utils.fileio import atomic_write_json
from ..utils.logging import get_logger
from .base import (current_predictions, failure, results_current, results_path, scoring_fingerprint,
                   task_main)

logger = get_logger()


def _postprocess(cfg, values):
    if not cfg:
        return values
    cfg = dict(cfg)
    fn = resolve(cfg.pop('type'))
    name = getattr(fn, '__name__', fn)
    out = []
    for i, value in enumerate(values):
        try:
            out.append(fn(value, **cfg))
        except Exception as exc:  # a user's post-processor can fail in any way: name it and the row
            raise EvalkitError(f'post-processor {name} failed on row {i} ({value!r:.60}): '
                               f'{type(exc).__name__}: {exc}') from exc
    return out


def build_evaluator(eval_cfg, bootstrap, abbr):
    cfg = dict(eval_cfg.get('evaluator') or {'type': 'AccEvaluator'})
    if bootstrap:
        cls = resolve(cfg['type'])
        if 'bootstrap' in accepted_kwargs(cls, {'bootstrap': bootstrap}):
            cfg.setdefault('bootstrap', bootstrap)
        else:
            logger.warning('%s: evaluator %s takes no bootstrap setting: no interval for it',
                           abbr, getattr(cls, '__name__', cls))
    return build(cfg)


def eval_dataset(model_cfg, dataset_cfg, work_dir, bootstrap=0):
    """Score one dataset's predictions; returns the metrics, or None for an unlabelled split."""
    abbr = dataset_abbr(dataset_cfg)
    stored = current_predictions(work_dir, model_cfg, dataset_cfg,
                                 f'the inference of {abbr} did not finish (see logs/infer)')
    records = [r for _, r in sorted(stored.items(), key=lambda kv: int(kv[0]))]
    golds = [r.get('gold') for r in records]
    if all(g in (None, '') for g in golds):
        logger.info('%s: no gold answers (an unlabelled split): predictions only', abbr)
        return None
    eval_cfg = dataset_cfg.get('eval_cfg') or {}
    predictions = _postprocess(eval_cfg.get('pred_postprocessor'), [r['prediction'] for r in records])
    references = _postprocess(eval_cfg.get('dataset_postprocessor'), golds)
    evaluator = build_evaluator(eval_cfg, bootstrap, abbr)
    try:
        metrics = evaluator.score(predictions, references)
    except EvalkitError:
        raise
    except Exception as exc:  # a user's evaluator can fail in any way: name it and the cause
        raise EvalkitError(f'evaluator {type(evaluator).__name__} failed: {type(exc).__name__}: '
                           f'{str(exc).splitlines()[0] if str(exc) else ""}') from exc
    if not isinstance(metrics, dict):
        raise EvalkitError(f'evaluator {type(evaluator).__name__} returned {type(metrics).__name__}, '
                           'not a dict of metric name -> value')
    if 'error' in metrics:
        raise EvalkitError(f'{abbr}: evaluator {type(evaluator).__name__}: {metrics["error"]}')
    fingerprint = scoring_fingerprint(model_cfg, dataset_cfg, bootstrap)
    atomic_write_json(results_path(work_dir, model_cfg, dataset_cfg), {**metrics, 'fingerprint': fingerprint})
    return metrics


def run(task):
    outcome = []
    bootstrap = task.get('bootstrap') or 0
    for dataset_cfg in task['datasets']:
        abbr = dataset_abbr(dataset_cfg)
        if results_current(task['work_dir'], task['model'], dataset_cfg, bootstrap):
            outcome.append((abbr, None))
            continue
        stale = results_path(task['work_dir'], task['model'], dataset_cfg)
        if stale.exists():
            # Scores of another config must not stand in the summary if scoring now fails.
            logger.info('%s: scoring again (the eval config or the predictions changed)', abbr)
            stale.unlink()
        try:
            metrics = eval_dataset(task['model'], dataset_cfg, task['work_dir'], bootstrap)
            if metrics is not None:
                logger.info('%s: %s', abbr, format_metrics(metrics))
            outcome.append((abbr, None))
        except EvalkitError as exc:
            outcome.append(failure(abbr, exc, logger))
    return outcome


def format_metrics(metrics):
    """``accuracy=25.00 ± 3.10`` for each headline metric (errors and details folded in or left out)."""
    parts = []
    for key, value in metrics.items():
        if key == 'details' or key.endswith(('_stderr', '_ci95')) or isinstance(value, (list, dict)):
            continue
        text = f'{value:.2f}' if isinstance(value, float) else str(value)
        stderr = metrics.get(f'{key}_stderr')
        if isinstance(stderr, (int, float)):
            text += f' ± {stderr:.2f}'
        interval = metrics.get(f'{key}_ci95')
        if isinstance(interval, (list, tuple)) and len(interval) == 2:
            text += f' [{interval[0]:.2f}, {interval[1]:.2f}]'
        parts.append(f'{key}={text}')
    return ', '.join(parts)


def main(argv=None):
    return task_main(run, 'eval', argv, logger)


if __name__ == '__main__':
    sys.exit(main())
