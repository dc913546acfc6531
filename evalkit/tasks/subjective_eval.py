"""Judge task: a judge model reads the candidates' predictions and judges them.

For each job of the task (a dataset and the one or two models whose answers are judged) the judge
gets one prompt per question (two with ``infer_order='double'``), built by the dataset's
``LMEvaluator``; its answers are parsed and written, raw text kept, to
``results/<model>_judged-by--<judge>/<dataset>.json`` (``<modelA>_<modelB>_judged-by--<judge>``
for a pair), as OpenCompass names them. The judge model is loaded once per task.

Judgements carry the fingerprint of what they were made from (the judge, the eval config and
the candidates' predictions): with ``-r`` a job is judged again only when one of these changed,
and an interrupted job continues from its last finished batch.

Run alone: ``python -m evalkit.tasks.subjective_eval TASK.json``.
"""
import random
import sys
import time
from pathlib import Path

from ..config import dataset_abbr, model_abbr
from ..openicl.inferencers import GenInferencer
from ..partitioners.subjective import judge_settings
from ..registry import build, to_plain
from ..summarizers.subjective import compare_stats, score_stats
from ..utils.errors import EvalkitError
from ..utils.fileio import atomic_write_json, read_json
from ..utils.logging import get_logger
from ..utils.paths import resolve_data_path
from .base import (_NEUTRAL_MODEL_KEYS, current_predictions, failure, inference_fingerprint, load_splits,
                   predictions_path, set_threads, task_main)
from .infer import get_model

logger = get_logger()
DEFAULT_SEED = 666  # the shuffle seed of infer_order='random' unless the dataset sets ``seed``


def judged_name(candidates, judge_cfg):
    return '_'.join(model_abbr(m) for m in candidates) + '_judged-by--' + model_abbr(judge_cfg)


def judgement_path(work_dir, candidates, judge_cfg, dataset_cfg):
    return Path(work_dir, 'results', judged_name(candidates, judge_cfg), dataset_abbr(dataset_cfg) + '.json')


def given_prediction(model_cfg, dataset_cfg):
    """The ``given_pred`` entry naming this model (answers read from a file, not inferred), or None."""
    for entry in judge_settings(dataset_cfg).get('given_pred') or []:
        if entry.get('abbr') == model_abbr(model_cfg):
            return entry
    return None


def judgement_fingerprint(judge_cfg, dataset_cfg, candidates):
    """A hash of what the judgements depend on: the judge, the eval config, the answers' source."""
    from ..openicl.prompt_template import config_hash
    judge = {k: v for k, v in judge_cfg.items() if k not in _NEUTRAL_MODEL_KEYS}
    eval_cfg = dict(dataset_cfg.get('eval_cfg') or {})
    eval_cfg['judge_settings'] = {k: v for k, v in judge_settings(dataset_cfg).items() if k != 'summarizer'}
    sources = [given_prediction(m, dataset_cfg) or inference_fingerprint(m, dataset_cfg) for m in candidates]
    return config_hash(to_plain(judge), to_plain(eval_cfg), to_plain(sources), length=12)


def judgement_current(work_dir, judge_cfg, dataset_cfg, candidates):
    path = judgement_path(work_dir, candidates, judge_cfg, dataset_cfg)
    try:
        stored = read_json(path).get('fingerprint')
    except (OSError, ValueError, AttributeError):
        return False
    return stored == judgement_fingerprint(judge_cfg, dataset_cfg, candidates)


# ------------------------------------------------------------------ the answers judged

def load_answers(model_cfg, dataset_cfg, test, work_dir, data_root):
    """One model's answer to each test row: its predictions, or the file ``given_pred`` names."""
    abbr, name = dataset_abbr(dataset_cfg), model_abbr(model_cfg)
    given = given_prediction(model_cfg, dataset_cfg)
    if given is not None:
        return _given_answers(given, abbr, test, data_root)
    records = current_predictions(work_dir, model_cfg, dataset_cfg,
                                  f'run the inference of {name} first (a model judged must be in '
                                  'models=, or have a given_pred entry)')
    if len(records) != len(test):
        source = predictions_path(work_dir, model_cfg, dataset_cfg)
        raise EvalkitError(f'{source} holds {len(records)} answers but {abbr} has {len(test)} questions: '
                           'run inference again (-m infer -r)')
    return [records[str(i)]['prediction'] for i in range(len(test))]


def _given_answers(given, abbr, test, data_root):
    """Answers from a predictions folder (``<path>/<dataset>.json``, OpenCompass's ``given_pred``) or
    from an AlpacaEval ``model_outputs.json`` (matched to the questions by instruction)."""
    path = resolve_data_path(given['path'], data_root)
    if path.is_dir():
        path = path / f'{abbr}.json'
    if not path.is_file():
        raise EvalkitError(f'given_pred of {given["abbr"]}: {path} not found')
    data = read_json(path)
    if isinstance(data, list):
        outputs = {r.get('instruction'): r.get('output', '') for r in data if isinstance(r, dict)}
        missing = [row['question'] for row in test if row['question'] not in outputs]
        if missing:
            raise EvalkitError(f'given_pred of {given["abbr"]}: {path} has no output for the instruction '
                               f'{missing[0][:60]!r}')
        return [outputs[row['question']] for row in test]
    if len(data) < len(test):
        raise EvalkitError(f'given_pred of {given["abbr"]}: {path} holds {len(data)} answers, '
                           f'{abbr} has {len(test)} questions')
    return [data[str(i)]['prediction'] for i in range(len(test))]


def judgement_plan(n_rows, n_models, infer_order, seed):
    """(row, order of the models shown) for every judgement: one per row in score mode; in
    compare mode one per row in a seeded random order, or with 'double' every row in both orders
    (all rows as given, then all rows swapped)."""
    if n_models == 1:
        return [(i, (0,)) for i in range(n_rows)]
    if infer_order == 'double':
        return [(i, (0, 1)) for i in range(n_rows)] + [(i, (1, 0)) for i in range(n_rows)]
    rng = random.Random(seed)
    return [(i, (1, 0) if rng.random() < 0.5 else (0, 1)) for i in range(n_rows)]


# ------------------------------------------------------------------ judging

def judge_dataset(judge, judge_cfg, dataset_cfg, candidates, work_dir, data_root):
    """Judge one job; returns the path written and its headline metrics."""
    abbr = dataset_abbr(dataset_cfg)
    _, test, _ = load_splits(dataset_cfg, data_root)
    evaluator_cfg = (dataset_cfg.get('eval_cfg') or {}).get('evaluator')
    if not evaluator_cfg or 'prompt_template' not in evaluator_cfg:
        raise EvalkitError(f'{abbr}: a subjective dataset needs eval_cfg=dict(evaluator=dict('
                           'type=LMEvaluator, prompt_template=...))')
    evaluator = build(evaluator_cfg)
    settings = judge_settings(dataset_cfg)
    answers = [load_answers(m, dataset_cfg, test, work_dir, data_root) for m in candidates]
    plan = judgement_plan(len(test), len(candidates), settings.get('infer_order'),
                          settings.get('seed', DEFAULT_SEED))
    requests = []
    for row, order in plan:
        prompt = judge.prepare(evaluator.render(test[row], [answers[k][row] for k in order]))
        requests.append({'origin_prompt': prompt, 'n_examples': 0, 'n_tokens': judge.token_len(prompt),
                         'gold': None})

    path = judgement_path(work_dir, candidates, judge_cfg, dataset_cfg)
    partial = path.with_name('tmp_' + path.name)
    fingerprint = judgement_fingerprint(judge_cfg, dataset_cfg, candidates)
    done = {}
    if partial.exists():
        saved = read_json(partial)
        if saved.get('fingerprint') == fingerprint:
            done = {int(k): v for k, v in saved['rows'].items()
                    if int(k) < len(requests) and v.get('origin_prompt') == requests[int(k)]['origin_prompt']}

    def save_partial(records):
        atomic_write_json(partial, {'fingerprint': fingerprint,
                                    'rows': {str(i): r for i, r in sorted(records.items())}})

    records = GenInferencer().infer(judge, requests, done=done, on_batch=save_partial,
                                    desc=f'{abbr} judged by {model_abbr(judge_cfg)}')
    names = [model_abbr(m) for m in candidates]
    details = []
    for (row, order), record in zip(plan, records):
        entry = {'row': row, 'capability': test[row].get('capability'), 'question': test[row].get('question'),
                 'shown': [names[k] for k in order], 'origin_prompt': record['origin_prompt'],
                 'judgement': record['prediction']}
        parsed = evaluator.parse(record['prediction'], compare=len(candidates) == 2)
        entry.update(parsed)
        if len(candidates) == 2:
            verdict = parsed.get('verdict')
            entry['winner'] = {'A': entry['shown'][0], 'B': entry['shown'][1], 'C': 'tie'}.get(verdict)
        details.append(entry)
    if len(candidates) == 2:
        metrics = compare_stats(details, names[1], names[0])
    else:
        metrics = score_stats(details)
    atomic_write_json(path, {'fingerprint': fingerprint, 'judge': model_abbr(judge_cfg), 'models': names,
                             'mode': settings.get('mode'), 'infer_order': settings.get('infer_order'),
                             **metrics, 'details': details})
    if partial.exists():
        partial.unlink()
    return path, metrics


def run(task):
    """Run one judge task; returns the list of (job name, error or None)."""
    set_threads()
    work_dir, data_root = task['work_dir'], task.get('data_root')
    judge_cfg = task['model']
    jobs = list(zip(task['datasets'], task['candidates']))
    outcome, todo = [], []
    for dataset_cfg, candidates in jobs:
        name = f'{dataset_abbr(dataset_cfg)} {judged_name(candidates, judge_cfg)}'
        if judgement_current(work_dir, judge_cfg, dataset_cfg, candidates):
            outcome.append((name, None))
            continue
        stale = judgement_path(work_dir, candidates, judge_cfg, dataset_cfg)
        if stale.exists():
            # Judgements of another config must not stand in the summary if judging now fails.
            logger.info('%s: judging again (the judge, the eval config or the answers changed)', name)
            stale.unlink()
        todo.append((name, dataset_cfg, candidates))
    if not todo:
        logger.info('judge %s: all judgements already there', model_abbr(judge_cfg))
        return outcome
    judge = get_model(judge_cfg)
    for name, dataset_cfg, candidates in todo:
        start = time.time()
        try:
            path, metrics = judge_dataset(judge, judge_cfg, dataset_cfg, candidates, work_dir, data_root)
            shown = ', '.join(f'{k}={v:.2f}' if isinstance(v, float) else f'{k}={v}' for k, v in metrics.items())
            logger.info('%s: %s (%s written in %.1f s)', name, shown, path, time.time() - start)
            outcome.append((name, None))
        except EvalkitError as exc:
            outcome.append(failure(name, exc, logger))
    return outcome


def main(argv=None):
    return task_main(run, 'subjective_eval', argv, logger)


if __name__ == '__main__':
    sys.exit(main())
