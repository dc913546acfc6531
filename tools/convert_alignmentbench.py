#!/usr/bin/env python
"""AlignBench files in and out of evalkit.

    python tools/convert_alignmentbench.py --mode json --jsonl alignbench/data/data_v1.1_release.jsonl \\
        --json my_data/alignment_bench_v1_1.json
    python tools/convert_alignmentbench.py --mode csv --exp-folder outputs/default/20250101_120000

``--mode json``: AlignBench's release JSONL (``question_id``, ``category``, ``subcategory``,
``question``, ``reference``) to the evaluation format, a JSON list of ``{question, capability,
others: {subcategory, reference, question_id}}``, as OpenCompass converts it (evalkit's
AlignmentBenchDataset reads the JSONL itself; the converted file serves other tools and the generic
format). A relative ``--jsonl`` that is not found is looked for under the data root.

``--mode csv``: a finished run to submission files: for each model with AlignBench predictions,
``<exp-folder>/submission/<model>_submission.csv``, one answer per row in question order
(UTF-8 with a byte-order mark, as spreadsheet programs expect).
"""
import argparse
import csv
import io
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from evalkit.utils.errors import EvalkitError, run_tool  # noqa: E402
from evalkit.utils.fileio import atomic_write_json, atomic_write_text, read_json  # noqa: E402
from evalkit.utils.paths import resolve_data_path  # noqa: E402

DATASET_PREFIX = 'alignment_bench'


def convert_jsonl(jsonl, out):
    """The release JSONL as a list in the evaluation format; returns the number of questions."""
    from evalkit.datasets.subjective import read_alignbench_jsonl
    source = Path(jsonl)
    if not source.is_file() and not source.is_absolute():
        source = resolve_data_path(jsonl)
    if not source.is_file():
        raise EvalkitError(f'--jsonl {jsonl}: file not found (also looked at {source})')
    items = read_alignbench_jsonl(source)
    atomic_write_json(out, items)
    return len(items)


def answer_text(prediction):
    """A prediction as one text: a multi-turn prediction gives its last answer."""
    if isinstance(prediction, list):
        return str(prediction[-1].get('assistant', '')) if prediction else ''
    return '' if prediction is None else str(prediction)


def write_submissions(exp_folder, dataset=None):
    """One submission CSV per model; returns the files written."""
    predictions = Path(exp_folder) / 'predictions'
    if not predictions.is_dir():
        raise EvalkitError(f'--exp-folder {exp_folder}: no predictions/ folder (give a run folder, '
                           'e.g. outputs/default/20250101_120000)')
    written = []
    for model_dir in sorted(p for p in predictions.iterdir() if p.is_dir()):
        names = [f'{dataset}.json'] if dataset else \
            sorted(p.name for p in model_dir.glob(f'{DATASET_PREFIX}*.json') if not p.name.endswith('.meta.json'))
        files = [model_dir / n for n in names if (model_dir / n).is_file()]
        if not files:
            continue
        if len(files) > 1:
            raise EvalkitError(f'{model_dir} holds several AlignBench datasets ({", ".join(f.name for f in files)}): '
                               'choose one with --dataset')
        records = read_json(files[0])
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator='\n').writerows(
            [answer_text(records[str(i)].get('prediction'))] for i in range(len(records)))
        out = Path(exp_folder) / 'submission' / f'{model_dir.name}_submission.csv'
        atomic_write_text(out, '\ufeff' + buffer.getvalue())
        written.append(out)
    if not written:
        raise EvalkitError(f'{predictions}: no model has AlignBench predictions '
                           f'({dataset or DATASET_PREFIX + "*"}.json)')
    return written


def build_parser():
    parser = argparse.ArgumentParser(prog='convert_alignmentbench.py',
                                     description='Convert AlignBench data to the evaluation format (json), '
                                                 'or a finished run to submission files (csv).')
    parser.add_argument('--mode', choices=['json', 'csv'], required=True)
    parser.add_argument('--jsonl', help='json mode: the release JSONL, e.g. alignbench/data/data_v1.1_release.jsonl')
    parser.add_argument('--json', help='json mode: the file to write')
    parser.add_argument('--exp-folder', help='csv mode: a run folder (outputs/default/<timestamp>)')
    parser.add_argument('--dataset', help='csv mode: the dataset abbr (default: the one alignment_bench* file)')
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return run_tool('convert_alignmentbench', lambda: _convert(args))


def _convert(args):
    if args.mode == 'json':
        if not args.jsonl or not args.json:
            raise EvalkitError('--mode json needs --jsonl (the release file) and --json (the file to write)')
        print(f'wrote {convert_jsonl(args.jsonl, args.json)} questions to {args.json}')
    else:
        if not args.exp_folder:
            raise EvalkitError('--mode csv needs --exp-folder (a run folder)')
        for path in write_submissions(args.exp_folder, args.dataset):
            print(f'wrote {path}')


if __name__ == '__main__':
    sys.exit(main())
