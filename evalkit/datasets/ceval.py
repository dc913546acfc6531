"""C-Eval: ``<data-root>/ceval/formal_ceval/{dev,val,test}/<subject>_<split>.csv``."""
import csv

from ..utils.errors import EvalkitError
from .base import SubjectCSVDataset
from .ceval_subjects import CEVAL_SPLITS, CEVAL_SUBJECTS

CEVAL_PATH = './data/ceval/formal_ceval'


class CEvalDataset(SubjectCSVDataset):
    benchmark = 'C-Eval'
    subjects = CEVAL_SUBJECTS
    subjects_module = 'evalkit/datasets/ceval_subjects.py'
    splits = CEVAL_SPLITS
    default_path = CEVAL_PATH
    prepare_args = 'ceval --source ceval-exam.zip'

    @staticmethod
    def read_csv(file):
        return read_ceval_csv(file)


CEVAL_COLUMNS = ('id', 'question', 'A', 'B', 'C', 'D', 'answer', 'explanation')


def read_ceval_csv(file):
    """Rows of one C-Eval CSV as dicts; the unlabelled test split gets empty answer and
    explanation columns, so every split has one schema. A row lacking a column names its line."""
    with open(file, encoding='utf-8', newline='') as f:
        rows = list(csv.DictReader(f))
    for i, row in enumerate(rows):
        row.setdefault('answer', '')
        row.setdefault('explanation', '')
        missing = [c for c in CEVAL_COLUMNS[1:6] if row.get(c) is None]
        if missing:
            raise EvalkitError(f'{file}: row {i + 2} lacks column(s) {", ".join(missing)}')
    return [{k: row[k] for k in CEVAL_COLUMNS} for row in rows]


def ceval_dataset_cfgs(mode='gen', shots=5, split='val', subjects=None, annotations=None):
    """The C-Eval dataset dicts of one variant: abbr ``ceval-<subject>`` on val,
    ``ceval-test-<subject>`` on the unlabelled test split (predictions only).

    ``annotations``: a contamination annotation file; the scores then add the accuracy on each of
    its subsets (clean, input contaminated, ...) beside the full score."""
    from .multiple_choice import mc_dataset_cfg
    prefix = 'ceval-' if split == 'val' else f'ceval-{split}-'
    cfgs = [
        mc_dataset_cfg(abbr=prefix + name, dataset_type=CEvalDataset, path=CEVAL_PATH,
                       name=name, header=f'以下是中国关于{zh}考试的单项选择题，请选出其中的正确答案。',
                       mode=mode, shots=shots, test_split=split)
        for name, (_, zh, _) in CEVAL_SUBJECTS.items() if subjects is None or name in subjects
    ]
    if annotations:
        from ..openicl.evaluators.contamination import ContaminationAccEvaluator
        for cfg in cfgs:
            cfg['eval_cfg']['evaluator'] = dict(type=ContaminationAccEvaluator, annotations=annotations,
                                                dataset=cfg['abbr'], name=cfg['name'])
    return cfgs


def ceval_summary_groups():
    """The official category groups, the hard subset and the overall average."""
    from .ceval_subjects import CEVAL_CATEGORIES, CEVAL_HARD, subjects_in
    groups = [dict(name='ceval-' + cat.lower().replace(' ', '-'),
                   subsets=['ceval-' + s for s in subjects_in(cat)]) for cat in CEVAL_CATEGORIES]
    groups.append(dict(name='ceval-hard', subsets=['ceval-' + s for s in CEVAL_HARD]))
    groups.append(dict(name='ceval', subsets=['ceval-' + s for s in CEVAL_SUBJECTS]))
    return groups
