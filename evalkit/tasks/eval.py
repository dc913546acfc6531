"""Evaluation task: predictions -> post-processor -> evaluator -> ``results/<model>/<dataset>.json``.

Run alone: ``python -m evalkit.tasks.eval TASK.json``.
"""
import sys

from ..config import dataset_abbr
from ..registry import build, resolve
from ..utils.errors import EvalkitError
from ..utils.fileio import atomic_write_json, read_json
from ..utils.logging import get_logger
from .base import failure, predictions_path, results_path, task_main

logger = get_logger()


def _postprocess(cfg, values):
    if not cfg:
        return values
    cfg = dict(cfg)
    fn = resolve(cfg.pop('type'))
    return [fn(v, **cfg) for v in values]


def eval_dataset(model_cfg, dataset_cfg, work_dir):
    """Score one dataset's predictions; returns the metrics, or None for an unlabelled split."""
    abbr = dataset_abbr(dataset_cfg)
    source = predictions_path(work_dir, model_cfg, dataset_cfg)
    if not source.exists():
        raise EvalkitError(f'no predictions at {source}: the inference of {abbr} did not finish '
                           '(see logs/infer)')
    records = [r for _, r in sorted(read_json(source).items(), key=lambda kv: int(kv[0]))]
    golds = [r.get('gold') for r in records]
    if all(g in (None, '') for g in golds):
        logger.info('%s: no gold answers (an unlabelled split): predictions only', abbr)
        return None
    eval_cfg = dataset_cfg.get('eval_cfg') or {}
    predictions = _postprocess(eval_cfg.get('pred_postprocessor'), [r['prediction'] for r in records])
    references = _postprocess(eval_cfg.get('dataset_postprocessor'), golds)
    evaluator = build(eval_cfg.get('evaluator') or {'type': 'AccEvaluator'})
    metrics = evaluator.score(predictions, references)
    if 'error' in metrics:
        raise EvalkitError(f'{abbr}: evaluator {type(evaluator).__name__}: {metrics["error"]}')
    atomic_write_json(results_path(work_dir, model_cfg, dataset_cfg), metrics)
    return metrics


def run(task):
    outcome = []
    for dataset_cfg in task['datasets']:
        abbr = dataset_abbr(dataset_cfg)
        if results_path(task['work_dir'], task['model'], dataset_cfg).exists():
            outcome.append((abbr, None))
            continue
        try:
            metrics = eval_dataset(task['model'], dataset_cfg, task['work_dir'])
            if metrics is not None:
                logger.info('%s: %s', abbr, ', '.join(f'{k}={v:.2f}' if isinstance(v, float) else f'{k}={v}'
                                                      for k, v in metrics.items()))
            outcome.append((abbr, None))
        except EvalkitError as exc:
            outcome.append(failure(abbr, exc, logger))
    return outcome


def main(argv=None):
    return task_main(run, 'eval', argv, logger)


if __name__ == '__main__':
    sys.exit(main())
