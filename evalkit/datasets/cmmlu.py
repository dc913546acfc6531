"""CMMLU: ``<data-root>/cmmlu/{dev,test}/<subject>.csv``, the layout of the official repository.

Each CSV has a header (``,Question,A,B,C,D,Answer``) and seven fields a row: a row number, the
question, four options and the answer letter.
"""
import csv

from datasets import Dataset, DatasetDict

from ..utils.errors import EvalkitError
from ..utils.paths import resolve_data_path
from .base import BaseDataset
from .cmmlu_subjects import CMMLU_CATEGORIES, CMMLU_SPLITS, CMMLU_SUBJECTS, cmmlu_subjects_in

CMMLU_FIELDS = ('', 'Question', 'A', 'B', 'C', 'D', 'Answer')
CMMLU_PATH = './data/cmmlu'
# The answer line the zero-shot prompt asks for, and the pattern that reads the letter from it.
CMMLU_COT_INSTRUCTION = ("请回答以下关于{subject}的单项选择题, 你回答的最后一行**必须**是以下格式 "
                         "'答案: $选项' (不带引号), 其中选项是ABCD之一. 请在回答之前一步步思考.")
CMMLU_ANSWER_PATTERN = r'(?i)答案\s*:\s*[\W]*([A-D])[\W]*'


class CMMLUDataset(BaseDataset):

    @staticmethod
    def _file(path, name, split, data_root=None):
        return resolve_data_path(path, data_root) / split / f'{name}.csv'

    @classmethod
    def required_files(cls, path, name=None, data_root=None, **kwargs):
        if name not in CMMLU_SUBJECTS:
            raise EvalkitError(f'unknown CMMLU subject {name!r} (the 67 subjects are listed in '
                               'evalkit/datasets/cmmlu_subjects.py)')
        return [cls._file(path, name, split, data_root) for split in CMMLU_SPLITS]

    @classmethod
    def fix_hint(cls):
        return ('Put CMMLU there with: python tools/prepare_data.py cmmlu --source cmmlu_v1_0_1.zip '
                '(or point --data-root / EVALKIT_DATA_ROOT at a data root that holds it).')

    @classmethod
    def load(cls, path=CMMLU_PATH, name=None, data_root=None, **kwargs):
        cls.check(path, name=name, data_root=data_root)
        return DatasetDict({split: Dataset.from_list(read_cmmlu_csv(cls._file(path, name, split, data_root)))
                            for split in CMMLU_SPLITS})


def read_cmmlu_csv(file):
    """Rows of one CMMLU CSV as dicts (question, A-D, answer); a malformed row names its line."""
    rows = []
    with open(file, encoding='utf-8', newline='') as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise EvalkitError(f'{file}: empty file; expected the header {",".join(CMMLU_FIELDS)}')
        for row in reader:
            line = reader.line_num
            if len(row) != len(CMMLU_FIELDS):
                raise EvalkitError(f'{file}: line {line}: {len(row)} fields, expected '
                                   f'{len(CMMLU_FIELDS)} ({",".join(CMMLU_FIELDS)}); '
                                   'quote fields that hold commas')
            if row[6] not in ('A', 'B', 'C', 'D'):
                raise EvalkitError(f'{file}: line {line}: field Answer is {row[6]!r}, '
                                   'expected one of A, B, C, D')
            rows.append(dict(question=row[1], A=row[2], B=row[3], C=row[4], D=row[5], answer=row[6]))
    return rows


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
