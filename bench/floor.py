#!/usr/bin/env python
"""How close evalkit's inference comes to the compute floor.

The floor is the time of one forward pass over the distinct tokens of the run: each subject's
shared head (the in-context examples every prompt starts with) counted once, plus every prompt's own
tokens, packed into sequences of at most max-seq-len tokens. The ratio floor / evalkit inference
time is 1.0 for a harness that does nothing but that pass.

    python bench/floor.py [--mode gen|ppl] [--subjects ...]
"""
import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / 'bench'))

from evalkit.datasets.ceval import ceval_dataset_cfgs  # noqa: E402
from evalkit.models.huggingface import _common_prefix_len  # noqa: E402
from evalkit.registry import build  # noqa: E402
from evalkit.tasks.base import load_splits  # noqa: E402
from evalkit.tasks.infer import get_model, infer_dataset  # noqa: E402
from evalkit.utils.paths import data_root, smollm2_gguf  # noqa: E402

SUBJECTS = ['computer_network', 'operating_system', 'high_school_physics', 'middle_school_history',
            'marxism', 'logic', 'basic_medicine', 'civil_servant']


def prompts_of(model, cfg, root):
    train, test, reader = load_splits(cfg, root)
    infer = cfg['infer_cfg']
    template = build(infer['ice_template'])
    ids = build(infer['retriever']).retrieve(len(train), len(test))
    requests = build(infer['inferencer'], max_seq_len=model.max_seq_len).build(
        model, template, template, ids, train, test, reader['output_column'])
    prompts = []
    for r in requests:
        prompt = r['origin_prompt']
        prompts += list(prompt.values()) if isinstance(prompt, dict) else [prompt]
    return [model.encode(p) for p in prompts]


def distinct_tokens(seqs):
    """The tokens of the prefix tree of ``seqs``: what each sequence adds to those before it.

    Sorted, every sequence shares its longest common prefix with its neighbour, so the pieces
    count every shared head (five examples, or the first three of a shortened prompt) once.
    """
    pieces, previous = [], []
    for seq in sorted(seqs):
        shared = _common_prefix_len([previous, seq]) if previous else 0
        if len(seq) > shared:
            pieces.append(seq[shared:])
        previous = seq
    return pieces


def floor_time(model, pieces, width):
    """Seconds for one forward pass over ``pieces``, packed into sequences of ``width`` tokens."""
    import torch
    flat = [t for piece in pieces for t in piece]
    chunks = [flat[i:i + width] for i in range(0, len(flat), width)]
    start = time.time()
    with torch.inference_mode():
        for chunk in chunks:
            model.model(input_ids=torch.tensor([chunk], device=model.device), logits_to_keep=1)
    return time.time() - start, len(flat)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--mode', choices=['gen', 'ppl'], default='gen')
    p.add_argument('--subjects', nargs='+', default=SUBJECTS)
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--work', default='/tmp/evalkit-floor')
    args = p.parse_args(argv)
    root = str(data_root())
    model_cfg = dict(type='HuggingFacewithChatTemplate' if args.mode == 'gen' else 'HuggingFaceBaseModel',
                     abbr='floor', path=smollm2_gguf(), max_seq_len=2048, max_out_len=16,
                     batch_size=args.batch_size)
    model = get_model(model_cfg)
    import torch
    torch.set_num_threads(os.cpu_count() or 1)
    datasets = ceval_dataset_cfgs(args.mode, subjects=args.subjects)
    pieces = []
    for cfg in datasets:
        pieces += distinct_tokens(prompts_of(model, cfg, root))
    floor_time(model, [pieces[0][:64]], 64)  # warm-up
    floor, n_tokens = floor_time(model, pieces, model.max_seq_len)
    start = time.time()
    for cfg in datasets:
        model._prefix = None
        infer_dataset(model, model_cfg, cfg, f'{args.work}/{time.time_ns()}', root)
    spent = time.time() - start
    lines = [f'{args.mode}: {len(args.subjects)} subjects, {n_tokens} distinct tokens',
             f'floor (one forward pass over them): {floor:.1f} s; evalkit inference: {spent:.1f} s; '
             f'ratio {floor / spent:.2f} (target at least 0.5)']
    print('\n'.join(lines))
    from compare_opencompass import machine
    stamp = datetime.now().strftime('%Y%m%d_%H%M%S')
    report = Path(__file__).resolve().parent / 'results' / f'floor_{args.mode}_{stamp}.md'
    report.write_text(f'# Compute floor, {args.mode} ({stamp})\n\nMachine: {machine()}\n\n'
                      f'Subjects: {", ".join(args.subjects)}; batch size {args.batch_size}.\n\n'
                      + '\n'.join(f'- {line}' for line in lines) + '\n')
    print(f'report: {report}')


if __name__ == '__main__':
    main()
