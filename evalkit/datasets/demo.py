"""The bilingual multiple-choice demo set that ships with evalkit (``evalkit/resources/demo_mc``)."""

from datasets import Dataset, DatasetDict

from ..utils.fileio import read_jsonl
from ..utils.paths import RESOURCES_DIR
from .base import BaseDataset


class DemoMCDataset(BaseDataset):
    SPLITS = ('dev', 'test')

    @classmethod
    def required_files(cls, path=None, name=None, data_root=None, **kwargs):
        folder = RESOURCES_DIR / 'demo_mc'
        return [folder / f'{split}.jsonl' for split in cls.SPLITS]

    @classmethod
    def load(cls, path=None, name=None, data_root=None, **kwargs):
        cls.check(path, name=name)
        splits = {}
        for file, split in zip(cls.required_files(), cls.SPLITS):
            rows = [row for _, row in read_jsonl(file)]
            if name:
                rows = [r for r in rows if r.get('lang') == name]
            splits[split] = Dataset.from_list(rows)
        return DatasetDict(splits)


DEMO_HEADERS = {
    'en': 'The following is a multiple-choice question. Choose the correct answer.',
    'zh': '以下是单项选择题，请选出其中的正确答案。',
}
DEMO_CUES = {'en': 'Answer: ', 'zh': '答案: '}


def demo_dataset_cfgs(mode='gen', shots=2):
    """The demo set in both languages: abbr ``demo-<lang>-<mode>``."""
    from .multiple_choice import mc_dataset_cfg
    return [mc_dataset_cfg(abbr=f'demo-{lang}-{mode}', dataset_type=DemoMCDataset, path=None, name=lang,
                           header=DEMO_HEADERS[lang], answer_cue=DEMO_CUES[lang], mode=mode, shots=shots,
                           train_split='dev', test_split='test')
            for lang in DEMO_HEADERS]
