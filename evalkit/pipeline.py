"""The run: work dir, config dump, checks, then infer -> eval -> summary.

Every stage reads only what the stage before it wrote, so ``-m`` runs any stage alone and ``-r``
skips whatever is already on disk.
"""
import errno
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from .config import dataset_abbr, dump_config, model_abbr
from .partitioners import SizePartitioner
from .registry import build, resolve
from .runners import SlurmRunner
from .summarizers.needle import default_summarizer_type
from .tasks.base import check_dataset, predictions_state, results_current, stale_reason, task_name
from .utils.errors import EvalkitError
from .utils.lock import WorkDirLock
from .utils.logging import get_logger
from .utils.paths import data_root

logger = get_logger()


def resolve_work_dir(base, reuse):
    """The run folder: a new timestamp, or with -r the latest (or named) earlier run."""
    base = Path(base)
    if reuse:
        runs = sorted(p.name for p in base.glob('[0-9]' * 8 + '_' + '[0-9]' * 6) if p.is_dir())
        if reuse == 'latest':
            if runs:
                logger.info('resuming %s', base / runs[-1])
                return base / runs[-1], runs[-1]
            logger.warning('-r: no earlier run in %s, starting a new one', base)
        elif (base / reuse).is_dir():
            return base / reuse, reuse
        else:
            close = ', '.join(runs[-3:]) or 'none'
            raise EvalkitError(f'-r {reuse}: no such run in {base} (latest runs: {close})')
    stamp = datetime.now().strftime('%Y%m%d_%H%M%S')
    return base / stamp, stamp


def validate(run_cfg):
    for kind, items, abbr in (('dataset', run_cfg['datasets'], dataset_abbr),
                              ('model', run_cfg['models'], model_abbr)):
        dupes = [a for a, n in Counter(abbr(i) for i in items).items() if n > 1]
        if dupes:
            raise EvalkitError(f'two {kind}s share the abbr {dupes[0]!r}: give each an abbr of its own')
    for model in run_cfg['models']:
        # A model type may refuse its config before the config is saved (an API key written in it).
        check = getattr(resolve(model['type']), 'check_config', None) if model.get('type') else None
        if check:
            check(model)


def dataset_size(dataset_cfg):
    """A rough cost for balancing tasks: rows of the test split times prompt shots."""
    from .tasks.base import load_splits
    try:
        _, test, _ = load_splits(dataset_cfg, None)
    except EvalkitError:
        return 1
    retriever = (dataset_cfg.get('infer_cfg') or {}).get('retriever') or {}
    return max(1, len(test)) * (1 + len(retriever.get('fix_id_list') or []))


def run_pipeline(run_cfg, args):
    start = time.time()
    run_cfg = subjective_run_cfg(run_cfg)
    validate(run_cfg)
    if (getattr(args, 'bootstrap', 0) or 0) < 0:
        raise EvalkitError(f'--bootstrap {args.bootstrap}: give a number of resamples, e.g. 1000 (0: none)')
    if args.mode in ('eval', 'viz') and not args.reuse:
        raise EvalkitError(f'-m {args.mode} works on an earlier run: add -r (the latest) or -r TIMESTAMP')
    work_dir, stamp = resolve_work_dir(args.work_dir, args.reuse)
    args.run_dir = work_dir  # for the end-of-run notification
    try:
        if args.dry_run:
            return run_stages(run_cfg, args, work_dir, stamp, start)
        with WorkDirLock(work_dir):
            return run_stages(run_cfg, args, work_dir, stamp, start)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise
        raise EvalkitError(f'cannot write {exc.filename or f"under {work_dir}"}: {exc.strerror}; make room, '
                           'then resume with -r (finished work is kept)') from None


def make_runner(run_cfg, args, stage):
    """The runner of ``stage`` ('infer' or 'eval'): the config's ``<stage>=dict(runner=dict(...))``
    or a LocalRunner; ``--slurm`` makes it a SlurmSequentialRunner, and the flags set its options."""
    cfg = dict(((run_cfg.get(stage) or {}).get('runner')) or {})
    if getattr(args, 'slurm', False):
        cfg['type'] = 'SlurmSequentialRunner'
    cfg.setdefault('type', 'LocalRunner')
    slurm = issubclass(resolve(cfg['type']), SlurmRunner)
    for flag, key in (('--partition', 'partition'), ('--quotatype', 'quotatype')):
        if getattr(args, key, None):
            if not slurm:
                raise EvalkitError(f'{flag} is for a Slurm run: add --slurm, or name a SlurmRunner '
                                   f'in the config ({stage}=dict(runner=dict(type=SlurmRunner, ...)))')
            cfg[key] = getattr(args, key)
    if args.max_num_workers:
        cfg['max_num_workers'] = args.max_num_workers
    if getattr(args, 'retry', None) is not None:
        cfg['retry'] = args.retry
    cfg['debug'] = bool(args.debug or cfg.get('debug'))
    return build(cfg)


def run_stages(run_cfg, args, work_dir, stamp, start):
    models, datasets = run_cfg['models'], run_cfg['datasets']
    root = str(data_root())
    runner = make_runner(run_cfg, args, 'infer')
    eval_runner = make_runner(run_cfg, args, 'eval')
    failures = []

    if args.mode in ('all', 'infer'):
        # Missing data stops the run here, before any model loads.
        for d in datasets:
            check_dataset(d, root)
        pending = [d for d in datasets
                   if any(predictions_state(work_dir, m, d) != 'current' for m in models)]
        for m in models:
            for d in pending:
                reason = stale_reason(work_dir, m, d)
                if reason:
                    logger.info('%s/%s: predictions made again: %s', model_abbr(m), dataset_abbr(d), reason)
        workers = 1 if args.debug else (args.max_num_workers or runner.default_workers(
            [{'model': m} for m in models]))
        sizes = [dataset_size(d) for d in pending] if workers > 1 and len(pending) > 1 else None
        tasks = SizePartitioner().partition(models, pending, num_workers=workers, sizes=sizes)
        tasks = [dict(t, work_dir=str(work_dir), data_root=root) for t in tasks]
        if args.dry_run:
            for t in tasks:
                print(f'infer {task_name(t)}: {", ".join(dataset_abbr(d) for d in t["datasets"])}')
            return 0
        dump_config({**run_cfg, 'work_dir': str(work_dir)}, work_dir / 'configs' / f'{stamp}.py')
        if len(pending) < len(datasets):
            logger.info('%d of %d datasets already have predictions', len(datasets) - len(pending), len(datasets))
        failures += [(task_name(t), err) for t, err in runner.launch(tasks, 'infer', work_dir) if err]

    subjective = is_subjective(run_cfg)
    if subjective and args.mode != 'infer':
        failures += run_subjective(run_cfg, args, work_dir, stamp, eval_runner)

    if args.mode in ('all', 'eval') and not subjective:
        bootstrap = getattr(args, 'bootstrap', 0) or 0
        # Scored again: whatever has predictions but no scores from this eval config yet.
        tasks = [{'model': m, 'work_dir': str(work_dir), 'bootstrap': bootstrap,
                  'datasets': [d for d in datasets if predictions_state(work_dir, m, d) != 'missing'
                               and not results_current(work_dir, m, d, bootstrap)]}
                 for m in models]
        tasks = [t for t in tasks if t['datasets']]
        failures += [(task_name(t), err) for t, err in eval_runner.launch(tasks, 'eval', work_dir) if err]

    if args.mode in ('all', 'viz', 'eval') and not subjective:
        summarizer_cfg = dict(run_cfg.get('summarizer') or {})
        summarizer_cfg.setdefault('type', default_summarizer_type(datasets))
        if 'summary_groups' not in summarizer_cfg:
            summarizer_cfg['summary_groups'] = default_groups(datasets)
        text, paths = build(summarizer_cfg).summarize(models, datasets, work_dir, stamp)
        print(text)
        logger.info('summary written to %s', paths['txt'].parent)

    if args.mode != 'infer':  # every mode that writes a summary: the report pages too
        from .report import publish
        publish(work_dir, args.work_dir)
    for name, err in failures:
        logger.error('failed: %s: %s', name, err)
    logger.info('run took %.1f s; outputs in %s', time.time() - start, work_dir)
    return 1 if failures else 0


def default_groups(datasets):
    """Every built-in benchmark's groups whose every subset is in this run (partial groups would
    only show -): C-Eval, CMMLU, and MMLU on test and on val."""
    from .datasets.ceval import ceval_summary_groups
    from .datasets.cmmlu import cmmlu_summary_groups
    from .datasets.mmlu import mmlu_summary_groups
    groups = ceval_summary_groups() + cmmlu_summary_groups() + mmlu_summary_groups('test') \
        + mmlu_summary_groups('val')
    present = {dataset_abbr(d) for d in datasets}
    return [g for g in groups if set(g['subsets']) <= present]


# ------------------------------------------------------------------ subjective evaluation
# A run whose datasets are judged by a model (``judge_models``, datasets with ``mode=``): inference
# is the same as any run's; then the judge stage writes judgements and the subjective summarizer
# reads them. See docs/subjective.md.

def is_subjective(run_cfg):
    from .partitioners.subjective import is_subjective_dataset
    partitioner = ((run_cfg.get('eval') or {}).get('partitioner')) or {}
    return bool(run_cfg.get('judge_models') or partitioner.get('judge_models')
                or any(is_subjective_dataset(d) for d in run_cfg['datasets']))


def subjective_run_cfg(run_cfg):
    """The run config with every dataset's judge settings (mode, base_models, ...) kept in its
    eval_cfg, where they do not count as inference settings."""
    if not is_subjective(run_cfg):
        return run_cfg
    from .partitioners.subjective import with_judge_settings
    partitioner = ((run_cfg.get('eval') or {}).get('partitioner')) or {}
    validate({'models': list(run_cfg.get('judge_models') or partitioner.get('judge_models') or []), 'datasets': []})
    return dict(run_cfg, datasets=[with_judge_settings(d) for d in run_cfg['datasets']])


def run_subjective(run_cfg, args, work_dir, stamp, runner):
    """The judge stage (unless -m viz) and the subjective summary; returns the failures."""
    from .partitioners.subjective import SubjectiveNaivePartitioner
    from .tasks.subjective_eval import judgement_current
    partitioner_cfg = dict((run_cfg.get('eval') or {}).get('partitioner') or {})
    partitioner_cfg['type'] = SubjectiveNaivePartitioner
    partitioner = build(partitioner_cfg)
    models, datasets = run_cfg['models'], run_cfg['datasets']
    judges = partitioner.judge_models or list(run_cfg.get('judge_models') or [])
    failures = []
    if args.mode in ('all', 'eval'):
        workers = 1 if args.debug else (args.max_num_workers or runner.default_workers(
            [{'model': j} for j in judges]))
        tasks = partitioner.partition(models, datasets, judge_models=judges, num_workers=workers)
        tasks = [dict(t, work_dir=str(work_dir), data_root=str(data_root())) for t in tasks
                 if not all(judgement_current(work_dir, t['model'], d, c)
                            for d, c in zip(t['datasets'], t['candidates']))]
        failures += [(task_name(t), err) for t, err in runner.launch(tasks, 'subjective_eval', work_dir) if err]
    summarizer_cfg = dict(run_cfg.get('summarizer') or {})
    if resolve(summarizer_cfg.get('type') or 'SubjectiveSummarizer') is resolve('DefaultSummarizer'):
        summarizer_cfg.pop('type')  # a config's objective summarizer has nothing to read here
    summarizer_cfg.setdefault('type', 'SubjectiveSummarizer')
    jobs = [(d, group, j) for j in judges for d, group in partitioner.jobs(models, datasets)]
    text, paths = build(summarizer_cfg).summarize(jobs, work_dir, stamp)
    print(text)
    logger.info('summary written to %s', paths['txt'].parent)
    return failures
