#!/usr/bin/env python
"""evalkit against OpenCompass 0.5.4 on the same model, data, subjects and settings.

Runs both tools one after the other (C-Eval val, SmolLM2-135M-Instruct GGUF, 5-shot, batch size 8,
max-seq-len 2048, max-out-len 16), then prints one table: tool, mode, wall time, peak RSS of the
process tree, accuracy and agreement of predictions, and the ratio lines against the targets.
The report goes to bench/results/compare_<timestamp>.md with the machine described.

    python bench/compare_opencompass.py                       # the 8 subjects, gen and ppl
    python bench/compare_opencompass.py --subjects logic --modes gen
"""
import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(HERE))

from measure import run_measured  # noqa: E402

from evalkit.openicl.postprocessors import first_capital_postprocess  # noqa: E402
from evalkit.utils.paths import data_root, smollm2_gguf  # noqa: E402

SUBJECTS = ['computer_network', 'operating_system', 'high_school_physics', 'middle_school_history',
            'marxism', 'logic', 'basic_medicine', 'civil_servant']
TARGETS = {'gen': 10, 'ppl': 20}   # evalkit's wall time at most 1/N of OpenCompass's
OC_TYPE = {'gen': 'chat', 'ppl': 'base'}   # OpenCompass's chat type has no perplexity mode


def opencompass_config(folder, mode, subjects):
    path = Path(folder, 'datasets', f'ceval_bench_{mode}.py')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        'from mmengine.config import read_base\n\n'
        'with read_base():\n'
        f'    from opencompass.configs.datasets.ceval.ceval_{mode} import ceval_datasets as ceval_all_datasets\n\n'
        f'ceval_datasets = [d for d in ceval_all_datasets if d["abbr"] in {["ceval-" + s for s in subjects]!r}]\n'
        'ceval_all_datasets = []\n')
    return path.stem


def run_opencompass(mode, subjects, args, work):
    venv = HERE / '.venv-opencompass'
    subprocess.run(['bash', str(HERE / 'setup_opencompass.sh')], check=True)
    oc_dir = work / 'opencompass'
    (oc_dir / 'data' / 'ceval').mkdir(parents=True, exist_ok=True)
    link = oc_dir / 'data' / 'ceval' / 'formal_ceval'
    if not link.exists():
        link.symlink_to(Path(args.data_root) / 'ceval' / 'formal_ceval')
    name = opencompass_config(oc_dir / 'configs', mode, subjects)
    gguf = Path(smollm2_gguf())
    out = oc_dir / f'out_{mode}'
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(venv / 'bin' / 'opencompass'), '--config-dir', str(oc_dir / 'configs'), '--datasets', name,
           '--hf-type', OC_TYPE[mode], '--hf-path', str(gguf.parent),
           '--model-kwargs', f'gguf_file={gguf.name}', 'torch_dtype=float32',
           '--tokenizer-kwargs', f'gguf_file={gguf.name}', 'pad_token=<|im_end|>', 'add_bos_token=False',
           '--stop-words', '<|im_end|>', '--batch-size', str(args.batch_size), '--max-seq-len', '2048',
           '--max-out-len', '16', '--hf-num-gpus', '0', '-w', str(out)]
    env = dict(os.environ, HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1', TRANSFORMERS_OFFLINE='1')
    code, wall, rss = run_measured(cmd, work / f'opencompass_{mode}.log', cwd=oc_dir, env=env)
    if code != 0:
        raise SystemExit(f'OpenCompass {mode} failed (exit {code}): see {work / f"opencompass_{mode}.log"}')
    run = sorted(p for p in out.iterdir() if p.is_dir())[-1]
    (out / 'measured.json').write_text(json.dumps({'wall': wall, 'rss': rss, 'subjects': subjects}))
    return wall, rss, _load_predictions(run, subjects)


def reuse_opencompass(mode, subjects, work):
    """OpenCompass's numbers and predictions from an earlier run of this script, if it ran the
    same subjects (for iterating on evalkit; the report says so)."""
    out = work / 'opencompass' / f'out_{mode}'
    try:
        measured = json.loads((out / 'measured.json').read_text())
    except (OSError, ValueError):
        return None
    if measured['subjects'] != subjects:
        return None
    run = sorted(p for p in out.iterdir() if p.is_dir())[-1]
    return measured['wall'], measured['rss'], _load_predictions(run, subjects)


def run_evalkit(mode, subjects, args, work, batch_size=None, tag=''):
    out = work / f'evalkit_{mode}{tag}'
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, str(PROJECT / 'run.py'), '--datasets', f'ceval_{mode}', '--subsets', *subjects,
           '--hf-path', smollm2_gguf(), '--hf-type', OC_TYPE[mode], '--batch-size',
           str(batch_size or args.batch_size), '--max-seq-len', '2048', '--max-out-len', '16',
           '--data-root', args.data_root, '-w', str(out)] + shlex.split(getattr(args, 'evalkit_args', '') or '')
    code, wall, rss = run_measured(cmd, work / f'evalkit_{mode}{tag}.log', cwd=PROJECT)
    if code != 0:
        raise SystemExit(f'evalkit {mode} failed (exit {code}): see {work / f"evalkit_{mode}{tag}.log"}')
    run = sorted(p for p in out.iterdir() if p.is_dir())[-1]
    return wall, rss, _load_predictions(run, subjects)


def _load_predictions(run, subjects):
    """{subject: [record, ...]} from a run folder of either tool (same layout)."""
    folder = next(p for p in (run / 'predictions').iterdir() if p.is_dir())
    result = {}
    for s in subjects:
        data = json.loads((folder / f'ceval-{s}.json').read_text())
        result[s] = [data[k] for k in sorted(data, key=int)]
    return result


def answer(record, mode):
    return first_capital_postprocess(record['prediction']) if mode == 'gen' else record['prediction']


def accuracy(preds, mode):
    scores = [100 * sum(answer(r, mode) == r['gold'] for r in rows) / len(rows) for rows in preds.values()]
    return sum(scores) / len(scores)


def differences(mode, ours, theirs):
    """Questions whose answers differ, each with what tells the two runs apart."""
    rows = []
    for subject in ours:
        for i, (a, b) in enumerate(zip(ours[subject], theirs[subject])):
            if answer(a, mode) == answer(b, mode):
                continue
            if mode == 'ppl':
                oc = {k[len('label: '):]: v['PPL'] for k, v in b.items() if k.startswith('label: ')}
                ek = a.get('ppl', {})
                margin = sorted(ek.values())[1] - sorted(ek.values())[0] if len(ek) > 1 else float('nan')
                why = f'near-tie: evalkit margin {margin:.2e}; OpenCompass PPL {json.dumps(oc)}'
            else:
                oc_shots = sum(1 for t in b['origin_prompt'] if t.get('role') == 'HUMAN') - 1 \
                    if isinstance(b['origin_prompt'], list) else None
                why = (f'in-context examples: evalkit {a.get("n_examples")}, OpenCompass {oc_shots}; '
                       f'texts {a["prediction"]!r} vs {b["prediction"]!r}')
            rows.append(f'ceval-{subject} #{i}: evalkit {answer(a, mode)!r}, OpenCompass {answer(b, mode)!r} ({why})')
    return rows


def machine():
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2 ** 30
    return f'{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python {platform.python_version()}, torch {torch.__version__}'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--subjects', nargs='+', default=SUBJECTS)
    p.add_argument('--modes', nargs='+', default=['gen', 'ppl'], choices=['gen', 'ppl'])
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--data-root', default=str(data_root()))
    p.add_argument('--work', default=str(HERE / 'runs'), help='scratch folder for both tools\' outputs')
    p.add_argument('--reuse-opencompass', action='store_true',
                   help='take OpenCompass\'s numbers from the last run of this script, if it ran the same subjects')
    p.add_argument('--evalkit-args', default='', metavar='"FLAGS"',
                   help='extra flags for evalkit\'s run, e.g. "--model-kwargs torch_dtype=bfloat16"')
    args = p.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    # Warm evalkit's de-quantised model cache, once, outside the timings (a user's first run pays it once).
    from evalkit.models import HuggingFaceBaseModel
    HuggingFaceBaseModel(smollm2_gguf())

    table, lines, diffs, notes = [], [], {}, []
    for mode in args.modes:
        ek_wall, ek_rss, ours = run_evalkit(mode, args.subjects, args, work)
        earlier = reuse_opencompass(mode, args.subjects, work) if args.reuse_opencompass else None
        if earlier:
            notes.append(f'{mode}: OpenCompass numbers from an earlier run of this script (--reuse-opencompass)')
        oc_wall, oc_rss, theirs = earlier or run_opencompass(mode, args.subjects, args, work)
        n = sum(len(v) for v in ours.values())
        diffs[mode] = differences(mode, ours, theirs)
        agree = 100 * (n - len(diffs[mode])) / n
        ek_acc, oc_acc = accuracy(ours, mode), accuracy(theirs, mode)
        table.append(['OpenCompass 0.5.4', mode, f'{oc_wall:.0f}', f'{oc_rss / 2**30:.2f}', f'{oc_acc:.2f}', '-'])
        table.append(['evalkit', mode, f'{ek_wall:.0f}', f'{ek_rss / 2**30:.2f}', f'{ek_acc:.2f}', f'{agree:.1f}%'])
        ratio = oc_wall / ek_wall
        lines += [
            f'{mode}: wall time 1/{ratio:.1f} of OpenCompass (target 1/{TARGETS[mode]}): '
            f'{"PASS" if ratio >= TARGETS[mode] else "FAIL"}',
            f'{mode}: agreement {agree:.1f}% (target 99%): {"PASS" if agree >= 99 else "FAIL"}',
            f'{mode}: accuracy {ek_acc:.2f} vs {oc_acc:.2f} (target within 0.5): '
            f'{"PASS" if abs(ek_acc - oc_acc) <= 0.5 else "FAIL"}',
            f'{mode}: peak RSS {ek_rss / 2**30:.2f} vs {oc_rss / 2**30:.2f} GiB (target no higher): '
            f'{"PASS" if ek_rss <= oc_rss else "FAIL"}',
        ]
    from tabulate import tabulate
    header = ['tool', 'mode', 'wall s', 'peak RSS GiB', 'accuracy', 'agreement']
    text = tabulate(table, headers=header, tablefmt='github')
    print(text)
    lines += notes
    print('\n'.join(lines))
    for mode, rows in diffs.items():
        for row in rows:
            print(f'{mode} differs: {row}')
    stamp = datetime.now().strftime('%Y%m%d_%H%M%S')
    report = HERE / 'results' / f'compare_{stamp}.md'
    report.write_text(
        f'# evalkit vs OpenCompass 0.5.4 ({stamp})\n\nMachine: {machine()}\n\n'
        f'C-Eval val, {len(args.subjects)} subjects ({", ".join(args.subjects)}), SmolLM2-135M-Instruct '
        f'Q4_1 GGUF in float32, 5-shot, batch size {args.batch_size}, max-seq-len 2048, max-out-len 16. '
        + (f'evalkit run with extra flags `{args.evalkit_args}`. ' if args.evalkit_args else '') +
        'Wall time: process start to summary written. Peak RSS: the whole process tree, sampled.\n\n'
        f'{text}\n\n' + '\n'.join(f'- {line}' for line in lines) + '\n\n## Differing predictions\n\n' +
        ('\n'.join(f'- {mode}: {row}' for mode, rows in diffs.items() for row in rows) or 'none') + '\n')
    print(f'report: {report}')


if __name__ == '__main__':
    main()
