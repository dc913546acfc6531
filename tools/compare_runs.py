#!/usr/bin/env python
"""Compare two runs, or two models of one run: per-dataset and per-group score changes, marked
where larger than their combined standard error explains, and the samples whose answer flipped.

    python tools/compare_runs.py 20261128_101500 20261129_093000
    python tools/compare_runs.py outputs/default/20261128_101500 --models qwen2-1.5b qwen2-7b --html

A run is a run folder, or a timestamp under the work dir (-w, default outputs/default).
"""
import argparse
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from evalkit.report.compare import Z_95, compare_runs, html_page, text_report  # noqa: E402
from evalkit.report.data import Run, find_run  # noqa: E402
from evalkit.utils.errors import run_tool  # noqa: E402
from evalkit.utils.fileio import atomic_write_text  # noqa: E402


def build_parser():
    p = argparse.ArgumentParser(
        prog='python tools/compare_runs.py', formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split('\n\n')[0], epilog=__doc__.split('\n\n', 1)[1])
    p.add_argument('run_a', metavar='RUN_A', help='the run compared from (A)')
    p.add_argument('run_b', metavar='RUN_B', nargs='?', help='the run compared to (B); leave it out '
                   'to compare two models of RUN_A (then give --models)')
    p.add_argument('--models', nargs=2, metavar=('A', 'B'),
                   help='the model of A and the model of B (default: the models both runs have)')
    p.add_argument('--html', nargs='?', const='', metavar='PATH',
                   help='also write an HTML page (default: compare_<A>_vs_<B>.html in the current folder)')
    p.add_argument('-w', '--work-dir', default='outputs/default', metavar='DIR',
                   help='where timestamps are looked up (default outputs/default)')
    p.add_argument('--z', type=float, default=Z_95,
                   help=f'how many combined standard errors make a difference significant (default {Z_95})')
    p.add_argument('--show-flips', type=int, default=50, metavar='N',
                   help='flipped samples listed in the text output (default 50; the HTML page lists all)')
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    return run_tool('compare_runs', lambda: _compare(args), interrupted='nothing was written')


def _compare(args):
    run_a = Run(find_run(args.run_a, args.work_dir))
    run_b = Run(find_run(args.run_b, args.work_dir)) if args.run_b else None
    results = compare_runs(run_a, run_b, args.models, args.z)
    print('\n\n'.join(text_report(a, b, rows, flipped, args.show_flips) for a, b, rows, flipped in results))
    if args.html is not None:
        stamp_b = (run_b or run_a).stamp
        path = Path(args.html or f'compare_{run_a.stamp}_vs_{stamp_b}.html')
        atomic_write_text(path, html_page(results, args.z))
        print(f'\nHTML: {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
