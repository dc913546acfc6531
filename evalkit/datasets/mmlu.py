"""MMLU: ``<data-root>/mmlu/{dev,val,test}/<subject>_<split>.csv``, the layout of the official
``data.tar``.

The CSVs have no header; each row has six fields: the question, four options and the answer
letter. Columns are named as OpenCompass names them: ``input``, ``A``-``D``, ``target``.
"""
from .base import SubjectCSVDataset, read_choice_csv
from .mmlu_subjects import MMLU_CATEGORIES, MMLU_SPLITS, MMLU_SUBJECTS, mmlu_subjects_in

MMLU_FIELDS = ('question', 'A', 'B', 'C', 'D', 'answer')
MMLU_PATH = './data/mmlu'
MMLU_COT_INSTRUCTION = ("Answer the following multiple choice question. The last line of your "
                        "response should be of the following format: 'ANSWER: $LETTER' (without "
                        "quotes) where LETTER is one of ABCD. Think step by step before answering.")
MMLU_ANSWER_PATTERN = r'(?i)ANSWER\s*:\s*([A-D])'


class MMLUDataset(SubjectCSVDataset):
    benchmark = 'MMLU'
    subjects = MMLU_SUBJECTS
    subjects_module = 'evalkit/datasets/mmlu_subjects.py'
    splits = MMLU_SPLITS
    default_path = MMLU_PATH
    prepare_args = 'mmlu --source data.tar'

    @staticmethod
    def read_csv(file):
        return read_mmlu_csv(file)


def read_mmlu_csv(file):
    """Rows of one MMLU CSV as dicts (input, A-D, target); a malformed row names its line."""
    return read_choice_csv(file, MMLU_FIELDS, ('input', 'A', 'B', 'C', 'D', 'target'),
                           answer_name='answer (the 6th)')


def mmlu_abbr(subject, split='test'):
    """OpenCompass's abbr on the test split; other splits add theirs (``lukaemon_mmlu_val_<subject>``)."""
    return f'lukaemon_mmlu_{subject}' if split == 'test' else f'lukaemon_mmlu_{split}_{subject}'


def mmlu_dataset_cfgs(mode='gen', split='test', subjects=None):
    """The MMLU dataset dicts of OpenCompass's standard configs: 'gen' asks for step-by-step
    reasoning and reads the letter after ``ANSWER:``; 'ppl' scores the options after five
    examples from dev, as one plain text."""
    from .multiple_choice import mc_cot_dataset_cfg, mc_text_dataset_cfg
    if split not in ('val', 'test'):
        raise ValueError(f"split must be 'val' or 'test', not {split!r}")
    cfgs = []
    for name in MMLU_SUBJECTS:
        if subjects is not None and name not in subjects:
            continue
        common = dict(abbr=mmlu_abbr(name, split), dataset_type=MMLUDataset, path=MMLU_PATH, name=name,
                      question_column='input', answer_column='target', test_split=split)
        if mode == 'gen':
            cfgs.append(mc_cot_dataset_cfg(instruction=MMLU_COT_INSTRUCTION,
                                           answer_pattern=MMLU_ANSWER_PATTERN, **common))
        elif mode == 'ppl':
            # Two spaces after "about", as in OpenCompass's prompt.
            subject = name.replace('_', ' ')
            header = f'The following are multiple choice questions (with answers) about  {subject}.\n\n'
            cfgs.append(mc_text_dataset_cfg(header=header, shots=5, **common))
        else:
            raise ValueError(f"mode must be 'gen' or 'ppl', not {mode!r}")
    return cfgs


def mmlu_summary_groups(split='test'):
    """The four categories, the plain average of 57 subjects and, on test, the average weighted
    by questions (accuracy over all questions pooled). Names: ``mmlu-<category>``, ``mmlu``;
    ``mmlu_val-<category>``, ``mmlu_val`` on val."""
    prefix = 'mmlu' if split == 'test' else f'mmlu_{split}'
    groups = [dict(name=f'{prefix}-{cat}', subsets=[mmlu_abbr(s, split) for s in mmlu_subjects_in(cat)])
              for cat in MMLU_CATEGORIES]
    everything = [abbr for group in groups for abbr in group['subsets']]
    groups.append(dict(name=prefix, subsets=everything))
    if split == 'test':
        groups.append(dict(name=f'{prefix}-weighted', subsets=everything,
                           weights={mmlu_abbr(s): n for s, (_, n) in MMLU_SUBJECTS.items()}))
    return groups
