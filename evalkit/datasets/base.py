"""What a dataset class provides: ``load(path, name, data_root=None, **kwargs)``.

``load`` returns a ``datasets.DatasetDict`` of splits, or a single ``datasets.Dataset``. Before any
model loads, the task calls ``check(...)`` so a missing file stops a run at once with the path to
fix, rather than after minutes of model loading.
"""
import csv
from pathlib import Path

from ..utils.errors import EvalkitError
from ..utils.paths import resolve_data_path


class BaseDataset:

    @staticmethod
    def load(path, name=None, data_root=None, **kwargs):
        raise NotImplementedError

    @classmethod
    def required_files(cls, path, name=None, data_root=None, **kwargs):
        """Files ``load`` will read; checked up front. Empty when a loader cannot say."""
        return []

    @classmethod
    def check(cls, path, name=None, data_root=None, **kwargs):
        missing = [str(f) for f in cls.required_files(path, name=name, data_root=data_root, **kwargs)
                   if not Path(f).is_file()]
        if missing:
            more = f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''
            raise EvalkitError(f'data file not found: {missing[0]}{more}. {cls.fix_hint()}')

    @classmethod
    def fix_hint(cls):
        return 'Set --data-root or EVALKIT_DATA_ROOT to the folder that holds the data.'


class SubjectCSVDataset(BaseDataset):
    """A benchmark kept as one CSV file per subject and split, ``<path>/<split>/<file_name>``
    (C-Eval, CMMLU, MMLU). A subclass names the benchmark, its subjects and splits, where its
    subject table lives, how ``tools/prepare_data.py`` installs it, and how one file reads
    (``read_csv(file)`` -> list of row dicts, naming the line of a malformed row)."""
    benchmark = ''
    subjects = {}
    subjects_module = ''
    splits = ()
    file_name = '{name}_{split}.csv'
    default_path = None
    prepare_args = ''

    @classmethod
    def _file(cls, path, name, split, data_root=None):
        return resolve_data_path(path, data_root) / split / cls.file_name.format(name=name, split=split)

    @classmethod
    def required_files(cls, path, name=None, data_root=None, splits=None, **kwargs):
        if name not in cls.subjects:
            raise EvalkitError(f'unknown {cls.benchmark} subject {name!r} (the {len(cls.subjects)} '
                               f'subjects are listed in {cls.subjects_module})')
        return [cls._file(path, name, split, data_root) for split in (splits or cls.splits)]

    @classmethod
    def fix_hint(cls):
        return (f'Put {cls.benchmark} there with: python tools/prepare_data.py {cls.prepare_args} '
                '(or point --data-root / EVALKIT_DATA_ROOT at a data root that holds it).')

    @classmethod
    def load(cls, path=None, name=None, data_root=None, **kwargs):
        from datasets import Dataset, DatasetDict
        path = path or cls.default_path
        cls.check(path, name=name, data_root=data_root)
        return DatasetDict({split: Dataset.from_list(cls.read_csv(cls._file(path, name, split, data_root)))
                            for split in cls.splits})

    @staticmethod
    def read_csv(file):
        raise NotImplementedError


def read_choice_csv(file, fields, columns, header=False, answer_name='answer'):
    """Rows of a multiple-choice CSV whose rows have exactly ``fields`` (named in errors), the
    answer letter last. ``columns`` gives each field's key in the row dicts (None: dropped);
    ``header``: the file starts with a header line. A malformed row names its line."""
    layout = ','.join(fields) + ('' if header else ', no header')
    rows = []
    with open(file, encoding='utf-8', newline='') as f:
        reader = csv.reader(f)
        if header and next(reader, None) is None:
            raise EvalkitError(f'{file}: empty file; expected the header {",".join(fields)}')
        for row in reader:
            line = reader.line_num
            if len(row) != len(fields):
                raise EvalkitError(f'{file}: line {line}: {len(row)} fields, expected {len(fields)} '
                                   f'({layout}); quote fields that hold commas')
            if row[-1] not in ('A', 'B', 'C', 'D'):
                raise EvalkitError(f'{file}: line {line}: field {answer_name} is {row[-1]!r}, '
                                   'expected one of A, B, C, D')
            rows.append({key: value for key, value in zip(columns, row) if key is not None})
    return rows
