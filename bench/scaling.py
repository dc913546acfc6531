#!/usr/bin/env python
"""How evalkit's wall time grows with the work: the number of C-Eval subjects and the batch size.

    python bench/scaling.py --mode gen --subjects 1 8 52 --batch-sizes 8
    python bench/scaling.py --mode ppl --subjects 8 --batch-sizes 1 8 32

Each point is one full run (process start to summary written); the report goes to bench/results/.
"""
import argparse
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(HERE))

from compare_opencompass import SUBJECTS, machine  # noqa: E402
from measure import run_measured  # noqa: E402

from evalkit.datasets.ceval_subjects import CEVAL_SUBJECTS  # noqa: E402
from evalkit.utils.paths import data_root, smollm2_gguf  # noqa: E402


def subjects_for(n):
    """The benchmark's 8 subjects first, then the rest of the table, so points nest."""
    rest = [s for s in CEVAL_SUBJECTS if s not in SUBJECTS]
    return (SUBJECTS + rest)[:n]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--mode', choices=['gen', 'ppl'], default='gen')
    p.add_argument('--subjects', nargs='+', type=int, default=[1, 8, 52])
    p.add_argument('--batch-sizes', nargs='+', type=int, default=[8])
    p.add_argument('--work', default=str(HERE / 'runs' / 'scaling'))
    args = p.parse_args(argv)
    Path(args.work).mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.subjects:
        for bs in args.batch_sizes:
            out = Path(args.work, f'{args.mode}_{n}_{bs}')
            cmd = [sys.executable, str(PROJECT / 'run.py'), '--datasets', f'ceval_{args.mode}',
                   '--subsets', *subjects_for(n), '--hf-path', smollm2_gguf(), '--max-out-len', '16',
                   '--batch-size', str(bs), '--data-root', str(data_root()), '-w', str(out)]
            code, wall, rss = run_measured(cmd, str(out) + '.log', cwd=PROJECT)
            questions = '?'
            # Prediction files only: each has a <dataset>.meta.json fingerprint beside it.
            runs = sorted(f for f in out.glob('*/predictions/*/*.json') if not f.name.endswith('.meta.json'))
            if runs:
                import json
                questions = sum(len(json.loads(f.read_text())) for f in runs)
            rows.append(f'| {args.mode} | {n} | {questions} | {bs} | {wall:.0f} | {rss / 2**30:.2f} | {code} |')
            print(rows[-1], flush=True)
    stamp = datetime.now().strftime('%Y%m%d_%H%M%S')
    report = HERE / 'results' / f'scaling_{args.mode}_{stamp}.md'
    report.write_text(f'# Scaling, {args.mode} ({stamp})\n\nMachine: {machine()}\n\n'
                      '| mode | subjects | questions | batch size | wall s | peak RSS GiB | exit |\n'
                      '|---|---|---|---|---|---|---|\n' + '\n'.join(rows) + '\n')
    print(f'report: {report}')


if __name__ == '__main__':
    main()
