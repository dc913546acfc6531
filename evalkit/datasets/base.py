"""What a dataset class provides: ``load(path, name, data_root=None, **kwargs)``.

``load`` returns a ``datasets.DatasetDict`` of splits, or a single ``datasets.Dataset``. Before any
model loads, the task calls ``check(...)`` so a missing file stops a run at once with the path to
fix, rather than after minutes of model loading.
"""
from pathlib import Path

from ..utils.errors import EvalkitError


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
