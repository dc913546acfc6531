#!/usr/bin/env python
"""List the model and dataset configs whose names match a pattern.

    python tools/list_configs.py llama ceval

A pattern matches a config file's stem anywhere in it (``ceval`` finds ``ceval_gen``), without
regard to case, and may hold shell wildcards (``ceval*ppl``).
"""
import argparse
import fnmatch
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import tabulate  # noqa: E402

from evalkit.utils.paths import CONFIGS_DIR  # noqa: E402

SECTIONS = (('models', 'Model'), ('datasets', 'Dataset'))


def match_configs(folder, patterns, relative_to):
    """(stem, path relative to ``relative_to``) of the ``*.py`` files under ``folder`` whose stem
    matches any pattern, sorted by stem then path. Files named ``_*`` are skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    globs = [f'*{p.lower()}*' for p in patterns]
    rows = []
    for path in folder.rglob('*.py'):
        if path.name.startswith('_') or not path.is_file():
            continue
        stem = path.stem.lower()
        if any(fnmatch.fnmatchcase(stem, g) for g in globs):
            try:
                shown = path.relative_to(relative_to).as_posix()
            except ValueError:
                shown = path.as_posix()
            rows.append((path.stem, shown))
    return sorted(rows, key=lambda r: (r[0].lower(), r[1]))


def build_parser():
    parser = argparse.ArgumentParser(
        prog='list_configs.py',
        description='List the model configs (configs/models/**/*.py) and dataset configs '
                    '(configs/datasets/**/*.py) whose file name matches any PATTERN. A pattern '
                    'matches anywhere in the name, ignoring case, and may hold shell wildcards '
                    '(* ? [...]). Files whose name starts with "_" are skipped. Exits with '
                    'status 1 when nothing matches.',
        epilog='example: python tools/list_configs.py qwen ceval')
    parser.add_argument('patterns', nargs='+', metavar='PATTERN', help='a name pattern')
    parser.add_argument('--configs-dir', metavar='DIR', default=None,
                        help=f'the configs folder to search (default: {CONFIGS_DIR}); paths are '
                             'shown relative to its parent folder')
    return parser


def main(argv=None):
    """Print the tables; return 0 when something matched, 1 when nothing did, 2 on error."""
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
    found = False
    for sub, header in SECTIONS:
        rows = match_configs(configs_dir / sub, args.patterns, configs_dir.parent)
        if rows:
            if found:
                print()
            print(tabulate.tabulate(rows, headers=[header, 'Config Path'], tablefmt='psql'))
            found = True
    if not found:
        print(f'no model or dataset config under {configs_dir} matches '
              + ', '.join(repr(p) for p in args.patterns))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
