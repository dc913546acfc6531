"""CMMLU: ``<data-root>/cmmlu/{dev,test}/<subject>.csv``, the layout of the official repository.

Each CSV has a header (``,Question,A,B,C,D,Answer``) and seven fields a row: a row number, the
question, four options and the answer letter.
"""
from .base import SubjectCSVDataset, read_choice_csv
from .cmmlu_subjects import CMMLU_CATEGORIES, CMMLU_SPLITS, CMMLU_SUBJECTS, cmmlu_subjects_in

CMMLU_FIELDS = ('', 'Question', 'A', 'B', 'C', 'D', 'Answer')
CMMLU_PATH = './data/cmmlu'
# The answer line the zero-shot prompt asks for, and the pattern that reads the letter from it.
CMMLU_COT_INSTRUCTION = ("请回答以下关于{subject}的单项选择题, 你回答的最后一行**必须**是以下格式 "
                         "'答案: $选项' (不带引号), 其中选项是ABCD之一. 请在回答之前一步步思考.")
CMMLU_ANSWER_PATTERN = r'(?i)答案\s*:\s*[\W]*([A-D])[\W]*'


class CMMLUDataset(SubjectCSVDataset):
    benchmark = 'CMMLU'
    subjects = CMMLU_SUBJECTS
    subjects_module = 'evalkit/datasets/cmmlu_subjects.py'
    splits = CMMLU_SPLITS
    file_name = '{name}.csv'
    default_path = CMMLU_PATH
    prepare_args = 'cmmlu --source cmmlu_v1_0_1.zip'

    @staticmethod
    def read_csv(file):
        return read_cmmlu_csv(file)


def read_cmmlu_csv(file):
    """Rows of one CMMLU CSV as dicts (question, A-D, answer); a malformed row names its line."""
    return read_choice_csv(file, CMMLU_FIELDS, (None, 'question', 'A', 'B', 'C', 'D', 'answer'), header=True,
                           answer_name='Answer')


def cmmlu_dataset_cfgs(mode='gen', subjects=None):
    """The CMMLU dataset dicts (abbr ``cmmlu-<subject>``, test split) of OpenCompass's standard
    configs: 'gen' asks for step-by-step reasoning and reads the letter after ``答案:``; 'ppl'
    scores the options after five examples from dev."""
    from .multiple_choice import mc_cot_dataset_cfg, mc_dataset_cfg
    cfgs = []
    for name, (zh, _) in CMMLU_SUBJECTS.items():
        if subjects is not None and name not in subjects:
            continue
        common = dict(abbr=f'cmmlu-{name}', dataset_type=CMMLUDataset, path=CMMLU_PATH, name=name)
        if mode == 'gen':
            cfgs.append(mc_cot_dataset_cfg(instruction=CMMLU_COT_INSTRUCTION.format(subject=zh),
                                           answer_pattern=CMMLU_ANSWER_PATTERN, **common))
        elif mode == 'ppl':
            cfgs.append(mc_dataset_cfg(header=f'以下是关于{zh}的单项选择题，请直接给出正确答案的选项。',
                                       mode='ppl', shots=5, question_prefix='题目：', answer_cue='',
                                       answer_prefix='答案是: ', test_split='test', **common))
        else:
            raise ValueError(f"mode must be 'gen' or 'ppl', not {mode!r}")
    return cfgs


def cmmlu_summary_groups():
    """The five categories (a subject may count in two) and the overall average of 67 subjects."""
    groups = [dict(name=f'cmmlu-{cat}', subsets=[f'cmmlu-{s}' for s in cmmlu_subjects_in(cat)])
              for cat in CMMLU_CATEGORIES]
    groups.append(dict(name='cmmlu', subsets=[f'cmmlu-{s}' for s in CMMLU_SUBJECTS]))
    return groups
