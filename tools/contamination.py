#!/usr/bin/env python
"""Data-contamination analysis of a benchmark.

    # which benchmark samples occur in a training corpus (n-gram overlap) -> an annotation file
    python tools/contamination.py overlap --corpus train/*.jsonl web.parquet --dataset ceval_ppl \\
        --out ceval_annotations.json

    # when the training data is unknown: the model's perplexity on test items vs unseen items
    python tools/contamination.py ppl --hf-path MODEL --datasets ceval_ppl --subsets logic marxism

The annotation file feeds the clean-subset evaluation (configs/datasets/ceval/ceval_clean_ppl.py).
See docs/contamination.md.
"""
import argparse
import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from evalkit.utils.errors import EvalkitError, run_tool  # noqa: E402
from evalkit.utils.paths import DATA_ROOT_ENV  # noqa: E402


def add_dataset_args(p, flag):
    p.add_argument(flag, nargs='+', required=True, metavar='NAME',
                   help='dataset config names under configs/datasets/ (e.g. ceval_ppl mmlu_val_ppl)')
    p.add_argument('--subsets', nargs='+', metavar='NAME',
                   help="keep only these datasets, by abbr, subject or pattern (e.g. logic 'high_school_*')")
    p.add_argument('--data-root', metavar='DIR',
                   help=f'folder holding the benchmark data (default: ${DATA_ROOT_ENV}, else ./data)')


def build_parser():
    from evalkit.contamination.ngrams import CHAR_N, WORD_N
    parser = argparse.ArgumentParser(prog='python tools/contamination.py', description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog='See docs/contamination.md for what the labels and numbers mean.')
    sub = parser.add_subparsers(dest='command', required=True, metavar='{overlap,ppl}')

    o = sub.add_parser('overlap', help='mark benchmark samples found in a training corpus (n-gram overlap)',
                       description='Stream a training corpus past a benchmark and mark each sample clean, '
                                   'input contaminated, or input-and-label contaminated.')
    o.add_argument('--corpus', nargs='+', required=True, metavar='FILE',
                   help='training data: .jsonl (a text field per line), .parquet (a text column), '
                        '.txt (paragraphs); .jsonl.gz and .txt.gz too')
    add_dataset_args(o, '--dataset')
    o.add_argument('--out', required=True, metavar='FILE', help='the annotation file to write (JSON)')
    o.add_argument('--text-field', default='text', metavar='NAME',
                   help='the JSON field / Parquet column holding the text (default: text)')
    o.add_argument('--word-n', type=int, default=WORD_N, metavar='N',
                   help=f'n-gram size in words for texts mostly in words (default {WORD_N})')
    o.add_argument('--char-n', type=int, default=CHAR_N, metavar='N',
                   help=f'n-gram size in characters for texts mostly Chinese/Japanese/Korean (default {CHAR_N})')
    o.add_argument('--input-threshold', type=float, default=0.5, metavar='X',
                   help="share of a sample's input n-grams one document must hold for the sample to count "
                        'as contaminated (default 0.5)')
    o.add_argument('--label-threshold', type=float, default=0.5, metavar='X',
                   help='share of a long answer\'s n-grams that must follow the input (default 0.5)')
    o.add_argument('--workers', type=int, default=1, metavar='N',
                   help='scan N corpus files at once, in separate processes (default 1)')

    q = sub.add_parser('ppl', help="compare the model's perplexity on test items with unseen reference items",
                       description="The model's per-token perplexity on a benchmark's test items against "
                                   'reference items it cannot have seen (the dev/train split, or --reference).')
    add_dataset_args(q, '--datasets')
    q.add_argument('--hf-path', metavar='PATH', help='a model folder, a hub name, or a .gguf file')
    q.add_argument('--hf-type', choices=['base', 'chat'], default='base',
                   help='how the model is built; texts are always scored as plain text (default base)')
    q.add_argument('--models', nargs='+', metavar='NAME', help='model config names under configs/models/')
    q.add_argument('--max-seq-len', type=int, default=2048, metavar='N', help='longest text in tokens (default 2048)')
    q.add_argument('--reference', metavar='FILE',
                   help='fresh items (JSONL: a "text" field, or the dataset\'s own columns) instead of '
                        'each dataset\'s training split')
    q.add_argument('--max-items', type=int, metavar='N',
                   help='score at most N test and N reference items per dataset (the first ones)')
    q.add_argument('--out', metavar='FILE', help='also write the report as JSON here')
    return parser


def selected_datasets(names, subsets):
    from evalkit.cli import select_subsets
    from evalkit.config import load_named
    datasets = load_named('datasets', names)
    return select_subsets(datasets, subsets) if subsets else datasets


def run_overlap(args):
    from evalkit.contamination.overlap import annotate
    from evalkit.contamination.report import overlap_table
    from evalkit.utils.fileio import atomic_write_json
    datasets = selected_datasets(args.dataset, args.subsets)
    annotations = annotate(datasets, args.corpus, text_field=args.text_field, word_n=args.word_n,
                           char_n=args.char_n, input_threshold=args.input_threshold,
                           label_threshold=args.label_threshold, workers=args.workers)
    atomic_write_json(args.out, annotations)
    print(overlap_table(annotations))
    print(f'annotations written to {args.out}')


def run_ppl(args):
    from evalkit.contamination.perplexity import perplexity_report
    from evalkit.contamination.report import perplexity_table
    from evalkit.utils.fileio import atomic_write_json
    if bool(args.hf_path) == bool(args.models):
        raise EvalkitError('name the model with --hf-path PATH or with --models NAME (one of them)')
    datasets = selected_datasets(args.datasets, args.subsets)
    if args.hf_path:
        from evalkit.cli import build_parser as run_parser
        from evalkit.cli import hf_model_cfg
        flags = ['--hf-path', args.hf_path, '--hf-type', args.hf_type, '--max-seq-len', str(args.max_seq_len)]
        models = [hf_model_cfg(run_parser().parse_args(flags))]
    else:
        from evalkit.config import load_named
        models = load_named('models', args.models)
    reports = [perplexity_report(m, datasets, reference=args.reference, max_items=args.max_items)
               for m in models]
    for report in reports:
        print(perplexity_table(report))
    if args.out:
        atomic_write_json(args.out, reports if len(reports) > 1 else reports[0])
        print(f'report written to {args.out}')


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.data_root:
        os.environ[DATA_ROOT_ENV] = os.path.abspath(args.data_root)
    return run_tool('contamination', lambda: (run_overlap if args.command == 'overlap' else run_ppl)(args))


if __name__ == '__main__':
    sys.exit(main())
