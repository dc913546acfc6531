#!/usr/bin/env python
"""List the configs whose names match a pattern: models, datasets, summarizers and run configs.

    python tools/list_configs.py internlm ceval

A pattern matches a config file's stem anywhere in it (``ceval`` finds ``ceval_gen``), without
regard to case, and may hold shell wildcards (``ceval*ppl``). Dataset configs also show their mode
(gen/ppl), metric (the evaluator), number of datasets and, when the data is under the data root,
the number of test samples ('-' when it is not).
"""
import argparse
import fnmatch
import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import tabulate  # noqa: E402

from evalkit.utils.paths import CONFIGS_DIR, DATA_ROOT_ENV  # noqa: E402

# (folder under configs/, table header, search sub-folders too)
SECTIONS = (('models', 'Model', True), ('datasets', 'Dataset', True),
            ('summarizers', 'Summarizer', True), ('.', 'Run config', False))
DATASET_COLUMNS = ['Mode', 'Metric', 'Datasets', 'Samples']


def match_configs(folder, patterns, relative_to, recursive=True):
    """(stem, path relative to ``relative_to``, path) of the ``*.py`` files under ``folder`` whose
    stem matches any pattern, sorted by stem then path. Files named ``_*`` are skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    globs = [f'*{p.lower()}*' for p in patterns]
    rows = []
    for path in (folder.rglob('*.py') if recursive else folder.glob('*.py')):
        if path.name.startswith('_') or not path.is_file():
            continue
        if any(fnmatch.fnmatchcase(path.stem.lower(), g) for g in globs):
            try:
                shown = path.relative_to(relative_to).as_posix()
            except ValueError:
                shown = path.as_posix()
            rows.append((path.stem, shown, path))
    return sorted(rows, key=lambda r: (r[0].lower(), r[1]))


def _type_name(spec):
    kind = (spec or {}).get('type') if isinstance(spec, dict) else None
    if kind is None:
        return None
    return kind if isinstance(kind, str) else getattr(kind, '__name__', str(kind))


def _joined(values):
    values = sorted({v for v in values if v})
    return ', '.join(values) if values else '-'


class DatasetFacts:
    """Mode, metric and sample count of dataset configs. Data files loaded once per run of the
    tool: configs that share files (ceval_gen and ceval_ppl) count them once."""

    def __init__(self, data_root):
        self.data_root = str(data_root)
        self.loaded = {}

    def row(self, path):
        """[mode, metric, number of datasets, samples] of one config file; '-' where unknown."""
        from evalkit.config import collect, load_config
        from evalkit.utils.errors import EvalkitError
        try:
            cfg = load_config(path)
        except EvalkitError:
            return ['-'] * len(DATASET_COLUMNS)
        datasets = collect(cfg, '_datasets') or [d for d in cfg.get('datasets') or [] if isinstance(d, dict)]
        if not datasets:
            return ['-'] * len(DATASET_COLUMNS)
        modes = [_type_name((d.get('infer_cfg') or {}).get('inferencer')) for d in datasets]
        metrics = [_type_name((d.get('eval_cfg') or {}).get('evaluator')) for d in datasets]
        counts = [self.samples(d) for d in datasets]
        samples = '-' if None in counts else str(sum(counts))
        return [_joined(m.replace('Inferencer', '').lower() for m in modes if m),
                _joined(metrics), str(len(datasets)), samples]

    def samples(self, dataset_cfg):
        """Rows of the test split, or None when the data is absent or cannot be read here."""
        from evalkit.registry import accepted_kwargs
        from evalkit.tasks.base import apply_range, check_dataset, dataset_class, dataset_load_kwargs
        try:
            check_dataset(dataset_cfg, self.data_root)  # file checks only: cheap
            load = dataset_class(dataset_cfg).load
            kwargs = accepted_kwargs(load, dataset_load_kwargs(dataset_cfg, self.data_root))
            key = (load, repr(sorted(kwargs.items(), key=lambda kv: kv[0])))
            if key not in self.loaded:
                self.loaded[key] = load(**kwargs)
            loaded = self.loaded[key]
            reader = dataset_cfg.get('reader_cfg') or {}
            rows = loaded[reader.get('test_split', 'test')] if hasattr(loaded, 'keys') else loaded
            return len(apply_range(range(len(rows)), reader.get('test_range')))
        except Exception:  # absent data, or a loader that needs a model (needlebench): not counted
            return None


def build_parser():
    parser = argparse.ArgumentParser(
        prog='list_configs.py',
        description='List the model, dataset and summarizer configs (configs/{models,datasets,'
                    'summarizers}/**/*.py) and run configs (configs/*.py) whose file name matches '
                    'any PATTERN. A pattern matches anywhere in the name, ignoring case, and may '
                    'hold shell wildcards (* ? [...]). Files whose name starts with "_" are '
                    'skipped. Dataset configs also show their mode, metric, number of datasets and '
                    'test samples (counted when the data is under the data root, else "-"). '
                    'Exits with status 1 when nothing matches.',
        epilog='example: python tools/list_configs.py internlm ceval')
    parser.add_argument('patterns', nargs='+', metavar='PATTERN', help='a name pattern')
    parser.add_argument('--configs-dir', metavar='DIR', default=None,
                        help=f'the configs folder to search (default: {CONFIGS_DIR}); paths are '
                             'shown relative to its parent folder')
    parser.add_argument('--data-root', metavar='DIR', default=None,
                        help=f'where the data is, for the sample counts (default: ${DATA_ROOT_ENV}, '
                             'else ./data)')
    return parser


def main(argv=None):
    """Print the tables; return 0 when something matched, 1 when nothing did, 2 on error."""
    from evalkit.utils.paths import data_root
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    configs_dir = Path(args.configs_dir).expanduser().resolve() if args.configs_dir \
        else CONFIGS_DIR
    if not configs_dir.is_dir():
        print(f'list_configs: error: configs folder {configs_dir} does not exist', file=sys.stderr)
        return 2
    from evalkit.config import IMPORT_PATHS_ENV
    saved = sys.path[:], os.environ.get(IMPORT_PATHS_ENV)
    try:  # loading dataset configs shares their folders with workers: none run here, so undo it
        return print_tables(configs_dir, args.patterns, DatasetFacts(data_root(args.data_root)))
    finally:
        sys.path[:] = saved[0]
        if saved[1] is None:
            os.environ.pop(IMPORT_PATHS_ENV, None)
        else:
            os.environ[IMPORT_PATHS_ENV] = saved[1]


def print_tables(configs_dir, patterns, facts):
    """One table per section with matches; 0 when something matched, else 1."""
    found = False
    for sub, header, recursive in SECTIONS:
        rows = match_configs(configs_dir / sub, patterns, configs_dir.parent, recursive)
        if not rows:
            continue
        if sub == 'datasets':
            table = [(stem, *facts.row(path), shown) for stem, shown, path in rows]
            headers = [header, *DATASET_COLUMNS, 'Config Path']
        else:
            table = [(stem, shown) for stem, shown, _ in rows]
            headers = [header, 'Config Path']
        if found:
            print()
        print(tabulate.tabulate(table, headers=headers, tablefmt='psql', disable_numparse=True))
        found = True
    if not found:
        print(f'no config under {configs_dir} matches ' + ', '.join(repr(p) for p in patterns))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
