"""C-Eval: ``<data-root>/ceval/formal_ceval/{dev,val,test}/<subject>_<split>.csv``."""
import csv

from datasets import Dataset, DatasetDict

from ..utils.errors import EvalkitError
from ..utils.paths import resolve_data_path
from .base import BaseDataset
from .ceval_subjects import CEVAL_SPLITS, CEVAL_SUBJECTS


class CEvalDataset(BaseDataset):

    @staticmethod
    def _file(path, name, split, data_root=None):
        return resolve_data_path(path, data_root) / split / f'{name}_{split}.csv'

    @classmethod
    def required_files(cls, path, name=None, data_root=None, splits=CEVAL_SPLITS, **kwargs):
        if name not in CEVAL_SUBJECTS:
            raise EvalkitError(f'unknown C-Eval subject {name!r}')
        return [cls._file(path, name, split, data_root) for split in splits]

    @classmethod
    def fix_hint(cls):
        return ('Put C-Eval there with: python tools/prepare_data.py ceval --source ceval-exam.zip '
                '(or point --data-root / EVALKIT_DATA_ROOT at a data root that holds it).')

    @classmethod
    def load(cls, path, name=None, data_root=None, **kwargs):
        cls.check(path, name=name, data_root=data_root)
        splits = {}
        for split in CEVAL_SPLITS:
            file = cls._file(path, name, split, data_root)
            with open(file, encoding='utf-8', newline='') as f:
                rows = list(csv.DictReader(f))
            for i, row in enumerate(rows):
                # The test split is unlabelled; keep the column so every split has one schema.
                row.setdefault('answer', '')
                row.setdefault('explanation', '')
                missing = [c for c in ('question', 'A', 'B', 'C', 'D') if row.get(c) is None]
                if missing:
                    raise EvalkitError(f'{file}: row {i + 2} lacks column(s) {", ".join(missing)}')
            splits[split] = Dataset.from_list(
                [{k: row[k] for k in ('id', 'question', 'A', 'B', 'C', 'D', 'answer', 'explanation')}
                 for row in rows])
        return DatasetDict(splits)


def ceval_dataset_cfgs(mode='gen', shots=5, split='val', subjects=None, annotations=None):
    """The C-Eval dataset dicts of one variant: abbr ``ceval-<subject>`` on val,
    ``ceval-test-<subject>`` on the unlabelled test split (predictions only).

    ``annotations``: a contamination annotation file; the scores then add the accuracy on each of
    its subsets (clean, input contaminated, ...) beside the full score."""
    from .multiple_choice import mc_dataset_cfg
    prefix = 'ceval-' if split == 'val' else f'ceval-{split}-'
    cfgs = [
        mc_dataset_cfg(abbr=prefix + name, dataset_type=CEvalDataset, path='./data/ceval/formal_ceval',
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
