"""Judge tasks: which answers each judge model sees, for each subjective dataset.

A dataset's ``mode`` says what is judged (the partitioner's own ``mode`` applies to datasets that
name none):

- ``singlescore``: every model's answers, one at a time, each given a rating;
- ``m2n``: every pair of a base model (``base_models``) and a compared model (``compare_models``,
  by default the run's models), without a model paired with itself and each pair once;
- ``allpair``: every pair of the run's models;
- ``fixed``: the pairs in ``model_pairs``, as given.

``infer_order`` says in which order a pair's answers are shown: ``random`` (seeded, per question),
or ``double`` (both orders, each question judged twice), which exposes the judge's position bias
and cancels it in the win rate.

A task holds one judge and the jobs it runs: the judge model is loaded once per task, and a run
with several workers splits each judge's jobs between them.
"""
from itertools import combinations, product

from ..config import dataset_abbr, model_abbr
from ..utils.errors import EvalkitError

MODES = ('singlescore', 'm2n', 'allpair', 'fixed')
INFER_ORDERS = ('random', 'double')
# Dataset keys that say how answers are judged, not how they are made. They are kept in
# ``eval_cfg['judge_settings']``, so that changing them never makes the predictions stale.
JUDGE_KEYS = ('mode', 'base_models', 'compare_models', 'model_pairs', 'infer_order', 'given_pred',
              'summarizer', 'seed')


def judge_settings(dataset):
    """A dataset's judge settings, wherever the config put them."""
    settings = {k: dataset[k] for k in JUDGE_KEYS if k in dataset}
    settings.update((dataset.get('eval_cfg') or {}).get('judge_settings') or {})
    return settings


def with_judge_settings(dataset, **settings):
    """The dataset with its judge settings (and ``settings``) moved into ``eval_cfg``."""
    merged = dict(judge_settings(dataset), **settings)
    moved = {k: v for k, v in dataset.items() if k not in JUDGE_KEYS}
    moved['eval_cfg'] = dict(dataset.get('eval_cfg') or {}, judge_settings=merged)
    return moved


def is_subjective_dataset(dataset):
    return 'mode' in judge_settings(dataset)


def unique_pairs(pairs):
    """Pairs without a model paired with itself and without the same two models twice (in either order)."""
    seen, kept = set(), []
    for a, b in pairs:
        key = frozenset((model_abbr(a), model_abbr(b)))
        if len(key) == 2 and key not in seen:
            seen.add(key)
            kept.append((a, b))
    return kept


class SubjectiveNaivePartitioner:

    def __init__(self, models=(), judge_models=(), mode=None, base_models=(), compare_models=(),
                 model_pairs=None, infer_order=None, **unused):
        self.models = list(models or [])
        self.judge_models = list(judge_models or [])
        self.mode = mode
        self.base_models = list(base_models or [])
        self.compare_models = list(compare_models or [])
        self.model_pairs = model_pairs
        self.infer_order = infer_order

    def candidates(self, models, dataset):
        """The groups of models whose answers one judgement sees: [[m], ...] or [[a, b], ...]."""
        settings = judge_settings(dataset)
        mode = settings.get('mode') or self.mode or 'singlescore'
        abbr = dataset_abbr(dataset)
        if mode not in MODES:
            raise EvalkitError(f'{abbr}: mode {mode!r}: use one of {", ".join(MODES)}')
        if mode == 'singlescore':
            return [[m] for m in models]
        if mode == 'allpair':
            if len(models) < 2:
                raise EvalkitError(f'{abbr}: mode allpair compares the run\'s models: give at least two')
            return [list(p) for p in combinations(models, 2)]
        if mode == 'fixed':
            pairs = settings.get('model_pairs') or self.model_pairs
            if not pairs:
                raise EvalkitError(f'{abbr}: mode fixed needs model_pairs=[(model_a, model_b), ...]')
            by_abbr = {model_abbr(m): m for m in models}
            unknown = [m for p in pairs for m in p if isinstance(m, str) and m not in by_abbr]
            if unknown:
                raise EvalkitError(f'{abbr}: model_pairs names {unknown[0]!r}, not a model of this run')
            return [[by_abbr[m] if isinstance(m, str) else m for m in p] for p in pairs]
        base = _as_list(settings.get('base_models')) or self.base_models
        compare = _as_list(settings.get('compare_models')) or self.compare_models or models
        if not base:
            raise EvalkitError(f'{abbr}: mode m2n needs base_models (on the dataset or the partitioner)')
        pairs = unique_pairs(product(base, compare))
        if not pairs:
            raise EvalkitError(f'{abbr}: mode m2n found no pair of two different models '
                               f'(base {[model_abbr(m) for m in base]}, compared {[model_abbr(m) for m in compare]})')
        return [list(p) for p in pairs]

    def jobs(self, models, datasets):
        """(dataset with its mode and infer_order settled, [models]) for every judgement to make."""
        models = self.models or models
        jobs = []
        for dataset in datasets:
            groups = self.candidates(models, dataset)
            settings = judge_settings(dataset)
            settled = {'mode': settings.get('mode') or self.mode or 'singlescore'}
            if settled['mode'] != 'singlescore':
                order = settings.get('infer_order') or self.infer_order or 'random'
                if order not in INFER_ORDERS:
                    raise EvalkitError(f'{dataset_abbr(dataset)}: infer_order {order!r}: use random or double')
                settled['infer_order'] = order
            jobs += [(with_judge_settings(dataset, **settled), group) for group in groups]
        return jobs

    def partition(self, models, datasets, judge_models=None, num_workers=1):
        """One task per judge and worker: ``{'model': judge, 'datasets': [...], 'candidates': [...]}``,
        ``candidates[k]`` being the models whose answers ``datasets[k]`` shows the judge."""
        judges = self.judge_models or list(judge_models or [])
        if not judges:
            raise EvalkitError('subjective evaluation needs a judge: set judge_models=[model config] '
                               '(or eval.partitioner.judge_models)')
        jobs = self.jobs(models, datasets)
        tasks = []
        for judge in judges:
            n = max(1, min(num_workers, len(jobs)))
            for k in range(n):
                mine = jobs[k::n]
                if mine:
                    tasks.append({'model': judge, 'datasets': [d for d, _ in mine],
                                  'candidates': [group for _, group in mine]})
        return tasks


def _as_list(value):
    if value is None:
        return []
    return [value] if isinstance(value, dict) else list(value)
